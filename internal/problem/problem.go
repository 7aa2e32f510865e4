// Package problem is Restore Desk's domain error: a refusal that carries a
// code saying what kind of refusal it is and the plain words a user reads
// (in the style of WTF Dial's wtf.Error). Domain packages return it; the
// HTTP layer maps its code to a status in one place and shows its message.
// Any other error is an internal one: logged, never shown.
package problem

import (
	"errors"
	"fmt"
)

// Code says what kind of refusal an Error is.
type Code string

// The codes. Each maps to one HTTP status in handlers' error handler.
const (
	// Invalid: the input is refused; fixing it may help (422).
	Invalid Code = "invalid"
	// Forbidden: this user may not do this (403).
	Forbidden Code = "forbidden"
	// NotFound: there is no such thing, or the user may not know of it (404).
	NotFound Code = "not_found"
	// Conflict: the thing is no longer in the state the action needs (409).
	Conflict Code = "conflict"
	// Unavailable: something we depend on (JD Cloud) could not answer (503).
	Unavailable Code = "unavailable"
	// Internal: anything that is not one of the above (500); never shown.
	Internal Code = "internal"
)

// Error is a refusal with its user-facing message.
type Error struct {
	Code Code
	// Message is for the user: whole sentences, capitalised, ending with a
	// full stop, naming nothing they may not know.
	Message string
}

// Error is the log's form: code and message.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// New returns an Error with code and message.
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

// Errorf returns an Error with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain: "" for nil,
// Internal when there is none.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return Internal
}

// InternalMessage is what a user reads when something went wrong that they
// cannot fix.
const InternalMessage = "Something went wrong"

// MessageOf returns the message of the first *Error in err's chain, or
// InternalMessage when there is none (internal text is never shown).
func MessageOf(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return InternalMessage
}
