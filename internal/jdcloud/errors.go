package jdcloud

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Class says what a failed call means for repeating it. The restore workflow (docs/architecture.md) acts
// on it: it retries NotPerformed calls with backoff, looks for the tagged instance before
// repeating an Ambiguous create, and fails the request at once on Refused.
type Class int

const (
	// OK is the class of a nil error.
	OK Class = iota
	// NotPerformed means JD Cloud certainly did not act on the call: it was throttled (429)
	// or the request never left this process (connection refused, DNS failure, timeout
	// before the request was written). Safe to repeat.
	NotPerformed
	// Ambiguous means the call may or may not have been performed: a timeout or dropped
	// connection after the request was sent, a 5xx answer, or a 2xx answer that could not be
	// read. A create must not be repeated blindly.
	Ambiguous
	// Refused means JD Cloud answered and declined (a 4xx other than 429), or the client
	// refused the arguments before sending. Repeating the same call will not help.
	Refused
)

// String returns the class name.
func (c Class) String() string {
	switch c {
	case OK:
		return "ok"
	case NotPerformed:
		return "not performed"
	case Ambiguous:
		return "ambiguous"
	case Refused:
		return "refused"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// ErrInvalidRequest is wrapped by errors the client returns before sending anything because
// an argument is unusable (an empty region or id, a body that cannot be encoded). Classify
// reports them as Refused.
var ErrInvalidRequest = errors.New("invalid request")

// APIError is a JD Cloud answer that is not a success: the error envelope
// {"requestId", "error": {"code", "status", "message"}} of docs/jdcloud.md (Errors), or a non-JSON or
// unreadable body (then Status is empty and Message says what arrived).
type APIError struct {
	// Operation is the JD Cloud operation id, e.g. "createInstanceFromBackup".
	Operation string
	// HTTPStatus is the HTTP status of the answer.
	HTTPStatus int
	// Code is the envelope's error.code (normally equal to HTTPStatus); 0 without envelope.
	Code int
	// Status is the envelope's error.status, e.g. "INVALID_ARGUMENT" or "RATE_LIMIT".
	Status string
	// Message is the envelope's error.message, verbatim, or a description of the body.
	Message string
	// RequestID is JD Cloud's request id, from the body or the x-jdcloud-request-id header.
	RequestID string
}

// Error is the log's form: the operation, then Description, e.g.
// "jdcloud createInstanceFromBackup: HTTP 400 INVALID_ARGUMENT: instanceSpec.instanceClass: … (JD Cloud request id abc)".
func (e *APIError) Error() string { return "jdcloud " + e.Operation + ": " + e.Description() }

// Description renders the answer for people, JD Cloud's own words verbatim:
// the HTTP status, JD Cloud's status and message, and its request id, e.g.
// "HTTP 400 INVALID_ARGUMENT: … (JD Cloud request id abc)". It is the one
// rendering of a JD Cloud answer; Error adds only the operation.
func (e *APIError) Description() string {
	s := fmt.Sprintf("HTTP %d", e.HTTPStatus)
	if e.Status != "" {
		s += " " + e.Status
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (JD Cloud request id " + e.RequestID + ")"
	}
	return s
}

// Describe renders a failed call for people: an *APIError in err's chain by
// its Description, anything else (a transport failure, a refused argument) by
// its text.
func Describe(err error) string {
	if api, ok := errors.AsType[*APIError](err); ok {
		return api.Description()
	}
	return err.Error()
}

// Class classifies the answer by its HTTP status (see ClassifyStatus); an error envelope that
// arrived with a 2xx status is classified by its error.code instead.
func (e *APIError) Class() Class {
	if e.HTTPStatus >= 200 && e.HTTPStatus < 300 && e.Code >= 400 {
		return ClassifyStatus(e.Code)
	}
	return ClassifyStatus(e.HTTPStatus)
}

// ClassifyStatus classifies an HTTP status of a JD Cloud answer: 429 is NotPerformed, 5xx is
// Ambiguous, other 4xx and 3xx are Refused. A 2xx status only reaches an APIError when its
// body could not be read, so the outcome is unknown: Ambiguous.
func ClassifyStatus(status int) Class {
	switch {
	case status == http.StatusTooManyRequests:
		return NotPerformed
	case status >= 500, status >= 200 && status < 300:
		return Ambiguous
	default:
		return Refused
	}
}

// TransportError is a call that got no HTTP answer: the connection failed, dropped or timed
// out. Sent records whether any of the request had been written when it failed, which is what
// separates NotPerformed from Ambiguous.
type TransportError struct {
	// Operation is the JD Cloud operation id.
	Operation string
	// Sent is true once the request was (even partly) written to the connection.
	Sent bool
	// Timeout is true when the call's deadline passed.
	Timeout bool
	// Err is the underlying error.
	Err error
}

// Error describes the failure and whether the request had been sent.
func (e *TransportError) Error() string {
	when := "before the request was sent"
	if e.Sent {
		when = "after the request was sent"
	}
	what := "failed"
	if e.Timeout {
		what = "timed out"
	}
	return fmt.Sprintf("jdcloud %s: %s %s: %v", e.Operation, what, when, e.Err)
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// Class is NotPerformed when nothing was sent, Ambiguous otherwise.
func (e *TransportError) Class() Class {
	if e.Sent {
		return Ambiguous
	}
	return NotPerformed
}

// Classify says what err means for repeating the call that returned it: OK for nil, the class
// of an *APIError or *TransportError anywhere in its chain, Refused for ErrInvalidRequest.
// Anything else (an error this package did not produce) is Ambiguous, the safe assumption
// for a create.
func Classify(err error) Class {
	if err == nil {
		return OK
	}
	var api *APIError
	if errors.As(err, &api) {
		return api.Class()
	}
	var te *TransportError
	if errors.As(err, &te) {
		return te.Class()
	}
	if errors.Is(err, ErrInvalidRequest) {
		return Refused
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return NotPerformed
	}
	return Ambiguous
}

// IsNotFound reports whether err is a JD Cloud 404 (or a NOT_FOUND status), e.g. an instance
// that does not exist or is not visible yet.
func IsNotFound(err error) bool {
	var api *APIError
	return errors.As(err, &api) && (api.HTTPStatus == http.StatusNotFound || api.Status == "NOT_FOUND")
}

// isTimeout reports whether err is a deadline or network timeout.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
