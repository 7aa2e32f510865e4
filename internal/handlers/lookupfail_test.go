package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/testkit"
)

// TestRequestFormWhileJDCloudFails: a form submitted while JD Cloud answers
// errors cannot be checked, so it is shown again (422) with what was typed
// and a "try again" message, and nothing is stored; sent again once JD Cloud
// answers, the same form files the request. (The chaos run's filers see these
// 422s while it injects 5xx answers.)
func TestRequestFormWhileJDCloudFails(t *testing.T) {
	t.Parallel()
	w := newFormWorld(t)
	s := w.s
	alice := s.SignInAs(t, "alice")
	form := s.RequestForm(t, "alice", "payments", "mysql-payorders1")
	form.Set("reason", "Check last night's orders")
	reqs, events := stored(t, s)

	for _, tc := range []struct {
		name  string
		fault jdcloudsim.Fault
	}{
		{"every call 503", jdcloudsim.Fault{FailRate: 1}},
		{"every call 500", jdcloudsim.Fault{FailRate: 1, FailStatus: http.StatusInternalServerError}},
		{"every call throttled", jdcloudsim.Fault{ThrottleRate: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.Restore.Sim.SetFault(jdcloudsim.AllOperations, tc.fault)
			resp, body := alice.PostForm(t, "/requests", form)
			s.Restore.Sim.SetFault(jdcloudsim.AllOperations, jdcloudsim.Fault{})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("submit while JD Cloud fails: %d, want 422\n%s", resp.StatusCode, body)
			}
			if !strings.Contains(body, "could not be asked") || !strings.Contains(body, "Try again in a moment") {
				t.Errorf("the page does not say JD Cloud could not be asked and to try again:\n%s", body)
			}
			d := testkit.Doc(t, body)
			for _, f := range []string{"source", "backup", "class", "storage", "reason"} {
				if got, _ := fieldValue(d, f); got != form.Get(f) {
					t.Errorf("%s shown again as %q, want %q as typed", f, got, form.Get(f))
				}
			}
			if r, e := stored(t, s); r != reqs || e != events {
				t.Errorf("a refused submission stored %d requests and %d events", r-reqs, e-events)
			}
		})
	}

	if id := submit(t, alice, form); id == 0 {
		t.Fatal("the same form was not filed once JD Cloud answered")
	}
}
