// Package restore is the lifecycle of a restore request (docs/architecture.md, the request's states): the states,
// the transitions that handlers, the expiry job and the worker drive, each one
// database transaction with its audit event, and the worker that creates the
// instance on JD Cloud at most once and follows it until it runs.
package restore

// Status is a request's state.
type Status string

// The request's states (docs/architecture.md).
const (
	Pending      Status = "pending_approval"
	Approved     Status = "approved"
	Provisioning Status = "provisioning"
	Creating     Status = "creating"
	Ready        Status = "ready"
	Rejected     Status = "rejected"
	Cancelled    Status = "cancelled"
	Expired      Status = "expired"
	Failed       Status = "failed"
)

// Statuses lists every state in lifecycle order.
var Statuses = []Status{Pending, Approved, Provisioning, Creating, Ready, Rejected, Cancelled, Expired, Failed}

// Label is the state in words, as users see it.
func (s Status) Label() string {
	switch s {
	case Pending:
		return "Pending approval"
	case Approved:
		return "Approved"
	case Provisioning:
		return "Provisioning"
	case Creating:
		return "Creating"
	case Ready:
		return "Ready"
	case Rejected:
		return "Rejected"
	case Cancelled:
		return "Cancelled"
	case Expired:
		return "Expired"
	case Failed:
		return "Failed"
	}
	return string(s)
}

// Terminal reports whether nothing may leave s.
func (s Status) Terminal() bool {
	switch s {
	case Ready, Rejected, Cancelled, Expired, Failed:
		return true
	}
	return false
}

// Active reports whether the worker still has something to do for s.
func (s Status) Active() bool {
	return s == Approved || s == Provisioning || s == Creating
}

// Badge is the colour class of s's badge.
func (s Status) Badge() string {
	switch s {
	case Pending:
		return "pending"
	case Approved, Provisioning, Creating:
		return "progress"
	case Ready:
		return "ok"
	case Rejected, Failed, Expired:
		return "bad"
	}
	return "neutral"
}
