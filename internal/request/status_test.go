package request_test

import (
	"slices"
	"testing"

	"restoredesk/internal/request"
)

// TestMachine checks the table's shape: every state is reached from
// pending_approval, nothing leaves a terminal state, every move into one
// finishes the request, decisions record themselves, and the worker's states
// are exactly those it can move on from by itself.
func TestMachine(t *testing.T) {
	m := request.Requests
	reached := map[request.Status]bool{request.Pending: true}
	for changed := true; changed; {
		changed = false
		for _, tr := range m.Transitions() {
			if reached[tr.From] && !reached[tr.To] {
				reached[tr.To], changed = true, true
			}
		}
	}
	for _, s := range m.Statuses() {
		if !reached[s] {
			t.Errorf("%s cannot be reached from %s", s, request.Pending)
		}
		if s.Label() == string(s) || s.Badge() == "" {
			t.Errorf("%s has no label or badge", s)
		}
		if (s.Progress() != "") != s.Active() {
			t.Errorf("%s: the worker's states say what it is doing, and only they", s)
		}
	}
	for _, tr := range m.Transitions() {
		if !tr.From.Known() || !tr.To.Known() {
			t.Errorf("%s → %s names an unknown state", tr.From, tr.To)
		}
		if tr.From.Terminal() {
			t.Errorf("%s → %s leaves a terminal state", tr.From, tr.To)
		}
		if tr.To.Terminal() != tr.Has(request.Finishes) {
			t.Errorf("%s → %s: finishes = %v, but %s terminal = %v", tr.From, tr.To, tr.Has(request.Finishes), tr.To, tr.To.Terminal())
		}
		if tr.From.Pending() && (tr.To == request.Approved || tr.To == request.Rejected) != tr.Has(request.Decides) {
			t.Errorf("%s → %s: decides = %v", tr.From, tr.To, tr.Has(request.Decides))
		}
		if tr.From.Active() == tr.From.Pending() {
			t.Errorf("%s is both the worker's and waiting for a decision, or neither", tr.From)
		}
	}
	if _, err := m.Transition(request.Ready, request.Pending); err == nil {
		t.Error("ready → pending_approval is allowed")
	}
	if tr, err := m.Transition(request.Pending, request.Approved); err != nil || !tr.Has(request.Schedules) {
		t.Errorf("approve: %+v %v, want a move that schedules the worker", tr, err)
	}
	if got, want := m.WorkerStatuses(), []request.Status{request.Approved, request.Provisioning, request.Creating}; !slices.Equal(got, want) {
		t.Errorf("worker statuses %v, want %v", got, want)
	}
}
