// Package restore is the lifecycle of a restore request (docs/architecture.md,
// the request's states): the transitions that handlers, the expiry job and the
// worker drive, each one database transaction with its audit event, the form's
// choices and rules, and the worker that creates the instance on JD Cloud at
// most once and follows it until it runs. The states themselves and the table
// of transitions are package request's.
package restore

import "restoredesk/internal/request"

// Status is a request's state (request.Status).
type Status = request.Status

// The request's states, as restore's code names them.
const (
	Pending      = request.Pending
	Approved     = request.Approved
	Provisioning = request.Provisioning
	Creating     = request.Creating
	Ready        = request.Ready
	Rejected     = request.Rejected
	Cancelled    = request.Cancelled
	Expired      = request.Expired
	Failed       = request.Failed
)
