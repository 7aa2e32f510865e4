// Package request is a restore request as Restore Desk knows it: the one
// domain type every layer passes around (storage scans into it, handlers and
// views read it), and its state machine — the states, the transitions between
// them and what each transition sets besides the status. Storage obeys the
// table (postgres.UpdateRequest refuses a move it does not list); the
// lifecycle and the worker in internal/restore drive it.
//
// Adding a state is one entry in states (and its transitions) plus the
// migration that lets the status column hold it. The machine is a value of
// its own (Machine), so a second life — the copy an instance becomes once a
// request created it — can have its own states and table beside this one.
package request

import (
	"fmt"
	"slices"
)

// Status is a request's state, as stored in restore_requests.status.
type Status string

// The request's states, in lifecycle order.
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

// state is everything the product says about one status.
type state struct {
	status Status
	label  string // in words, as users see it
	badge  string // the colour class of its badge: pending, progress, ok, bad, neutral
	// progress says what the worker is doing meanwhile, in words ("" when nothing).
	progress string
	// worker: the worker still has something to do (the request is its job).
	worker bool
	// terminal: nothing leaves it; "Request again" files a new request.
	terminal bool
}

// Effect is what a transition sets besides the status.
type Effect uint8

const (
	// Decides sets decided_at: a lead decided.
	Decides Effect = 1 << iota
	// Schedules sets next_check_at to now (unless the caller sets it): the
	// worker picks the request up at once.
	Schedules
	// Finishes sets finished_at and clears next_check_at: nothing more happens.
	Finishes
)

// Transition is one move of the machine, with its effects.
type Transition struct {
	From, To Status
	// Cause says what moves it, in words (the diagram's arrow).
	Cause   string
	Effects Effect
}

// Has reports whether t has effect e.
func (t Transition) Has(e Effect) bool { return t.Effects&e != 0 }

// Machine is a state machine: its states and the transitions between them.
type Machine struct {
	states      []state
	transitions []Transition
}

// Requests is the request's machine (docs/architecture.md draws it).
var Requests = Machine{
	states: []state{
		{status: Pending, label: "Pending approval", badge: "pending"},
		{status: Approved, label: "Approved", badge: "progress", worker: true,
			progress: "Checking the backup before creating the instance…"},
		{status: Provisioning, label: "Provisioning", badge: "progress", worker: true,
			progress: "Creating the instance on JD Cloud…"},
		{status: Creating, label: "Creating", badge: "progress", worker: true,
			progress: "JD Cloud is building the instance…"},
		{status: Ready, label: "Ready", badge: "ok", terminal: true},
		{status: Rejected, label: "Rejected", badge: "bad", terminal: true},
		{status: Cancelled, label: "Cancelled", badge: "neutral", terminal: true},
		{status: Expired, label: "Expired", badge: "bad", terminal: true},
		{status: Failed, label: "Failed", badge: "bad", terminal: true},
	},
	transitions: []Transition{
		{From: Pending, To: Approved, Cause: "approve (a lead, not the requester)", Effects: Decides | Schedules},
		{From: Pending, To: Rejected, Cause: "reject (a lead, with a comment)", Effects: Decides | Finishes},
		{From: Pending, To: Cancelled, Cause: "cancel (the requester)", Effects: Finishes},
		{From: Pending, To: Expired, Cause: "expire (APPROVAL_TTL passed)", Effects: Finishes},
		{From: Approved, To: Provisioning, Cause: "the worker checked the backup"},
		{From: Approved, To: Failed, Cause: "the backup check fails", Effects: Finishes},
		{From: Provisioning, To: Creating, Cause: "JD Cloud accepted the create (or the tagged instance was found)"},
		{From: Provisioning, To: Failed, Cause: "JD Cloud refused the create, or the worker gave up", Effects: Finishes},
		{From: Creating, To: Ready, Cause: "the instance runs", Effects: Finishes},
		{From: Creating, To: Failed, Cause: "the instance failed to build, or the build timed out", Effects: Finishes},
	},
}

// Statuses lists every state of the machine in lifecycle order.
func (m Machine) Statuses() []Status {
	out := make([]Status, len(m.states))
	for i, s := range m.states {
		out[i] = s.status
	}
	return out
}

// WorkerStatuses lists the states in which the request is the worker's job.
func (m Machine) WorkerStatuses() []Status {
	var out []Status
	for _, s := range m.states {
		if s.worker {
			out = append(out, s.status)
		}
	}
	return out
}

// Transition returns the move from → to, or an error when the machine has none.
func (m Machine) Transition(from, to Status) (Transition, error) {
	i := slices.IndexFunc(m.transitions, func(t Transition) bool { return t.From == from && t.To == to })
	if i < 0 {
		return Transition{}, fmt.Errorf("no transition from %s to %s", from, to)
	}
	return m.transitions[i], nil
}

// Transitions lists every move of the machine.
func (m Machine) Transitions() []Transition { return slices.Clone(m.transitions) }

func (m Machine) state(s Status) (state, bool) {
	i := slices.IndexFunc(m.states, func(st state) bool { return st.status == s })
	if i < 0 {
		return state{}, false
	}
	return m.states[i], true
}

// Statuses lists every state of a request in lifecycle order.
func Statuses() []Status { return Requests.Statuses() }

// Known reports whether s is a state of the request's machine.
func (s Status) Known() bool { _, ok := Requests.state(s); return ok }

// Label is the state in words, as users see it.
func (s Status) Label() string {
	if st, ok := Requests.state(s); ok {
		return st.label
	}
	return string(s)
}

// Badge is the colour class of s's badge.
func (s Status) Badge() string {
	if st, ok := Requests.state(s); ok {
		return st.badge
	}
	return "neutral"
}

// Progress says what the worker is doing while the request is in s, in
// words; "" when it is not the worker's.
func (s Status) Progress() string { st, _ := Requests.state(s); return st.progress }

// Terminal reports whether nothing may leave s.
func (s Status) Terminal() bool { st, _ := Requests.state(s); return st.terminal }

// Active reports whether the worker still has something to do for s.
func (s Status) Active() bool { st, _ := Requests.state(s); return st.worker }

// Pending reports whether s waits for a decision.
func (s Status) Pending() bool { return s == Pending }

// Ready reports whether the instance runs and the request is done.
func (s Status) Ready() bool { return s == Ready }

// Failed reports whether the request failed.
func (s Status) Failed() bool { return s == Failed }
