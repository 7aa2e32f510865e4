package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"restoredesk/internal/request"
	"restoredesk/internal/restore"
	"restoredesk/internal/testkit"
)

// decideWorld is a pending payments request by alice that bob may decide.
func decideWorld(t *testing.T) (s *testkit.Server, id int64, bob *testkit.Client) {
	t.Helper()
	s = testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "alice", Teams: map[string]bool{"payments": false}})
	s.CreateUser(t, testkit.User{Username: "bob", Teams: map[string]bool{"payments": true}})
	s.GrantSeedOwnership(t, "payments")
	id = s.SubmitRequest(t, "alice", "payments", "mysql-payorders1")
	return s, id, s.SignInAs(t, "bob")
}

func status(t *testing.T, s *testkit.Server, id int64) request.Status {
	t.Helper()
	var st request.Status
	if err := s.Pool.QueryRow(t.Context(), `SELECT status FROM restore_requests WHERE id = $1`, id).Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRejectCommentTooLong: a comment over the limit (a client can send one
// whatever the textarea allows) comes back with 422, the comment kept and the
// problem next to it; the request stays pending.
func TestRejectCommentTooLong(t *testing.T) {
	t.Parallel()
	s, id, bob := decideWorld(t)
	long := strings.Repeat("why ", restore.MaxCommentLength/4+1)
	resp, body := bob.PostForm(t, fmt.Sprintf("/requests/%d/reject", id), url.Values{"comment": {long}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("reject with a long comment = %d, want 422\n%s", resp.StatusCode, body)
	}
	d := testkit.Doc(t, body)
	if got := d.Find("textarea#comment").Text(); got != long {
		t.Errorf("comment not kept: %d characters shown, %d sent", len(got), len(long))
	}
	if !strings.Contains(body, restore.ErrCommentTooLong.Message) {
		t.Errorf("page does not say the comment is too long:\n%s", body)
	}
	if st := status(t, s, id); st != request.Pending {
		t.Errorf("status = %s, want still pending", st)
	}
}

// TestDecideDatabaseFailure: a database failure while a decision commits is a
// logged 500 with no internal text on the page, not the "can no longer change"
// flash that a request already decided gets.
func TestDecideDatabaseFailure(t *testing.T) {
	t.Parallel()
	s, id, bob := decideWorld(t)
	// Every update of a request now fails inside the transaction.
	if _, err := s.Pool.Exec(t.Context(), `
		CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'disk on fire 1234'; END $$;
		CREATE TRIGGER refuse_update BEFORE UPDATE ON restore_requests FOR EACH ROW EXECUTE FUNCTION refuse_update();`); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"approve", "reject", "cancel"} {
		c, form := bob, url.Values{"comment": {"not now"}}
		if action == "cancel" {
			c = s.SignInAs(t, "alice")
		}
		resp, body := c.PostForm(t, fmt.Sprintf("/requests/%d/%s", id, action), form)
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s during a database failure = %d (%s), want 500", action, resp.StatusCode, resp.Header.Get("Location"))
		}
		if strings.Contains(body, "disk on fire") || strings.Contains(body, "can no longer change") {
			t.Errorf("%s: the page shows %q", action, body)
		}
	}
	if n := strings.Count(s.Logs.String(), "disk on fire 1234"); n != 3 {
		t.Errorf("the failure is logged %d times for 3 requests, want once each:\n%s", n, s.Logs)
	}
	if st := status(t, s, id); st != request.Pending {
		t.Errorf("status = %s, want still pending", st)
	}
}

// TestDecideConflict: deciding a request someone already decided lands on
// its page with the conflict in words.
func TestDecideConflict(t *testing.T) {
	t.Parallel()
	_, id, bob := decideWorld(t)
	if resp, body := bob.PostForm(t, fmt.Sprintf("/requests/%d/reject", id), url.Values{"comment": {"no"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject = %d\n%s", resp.StatusCode, body)
	}
	resp, _ := bob.PostForm(t, fmt.Sprintf("/requests/%d/approve", id), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/requests/%d", id) {
		t.Fatalf("approve after reject = %d %s, want 303 to the request", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := bob.Get(t, fmt.Sprintf("/requests/%d", id))
	if !strings.Contains(body, "This request is rejected and can no longer change that way.") {
		t.Errorf("no conflict flash on the page:\n%s", body)
	}
}

// TestEndedRequestSaysWhatNext: an expired request says why and what to
// do; a failed one says whether its instance exists and bills, who cleans
// it up, and that "Request again" is the way on.
func TestEndedRequestSaysWhatNext(t *testing.T) {
	t.Parallel()
	s, id, _ := decideWorld(t)
	alice := s.SignInAs(t, "alice")
	for _, tc := range []struct {
		name, set string
		want      []string
	}{
		{"expired", `status = 'expired', finished_at = now()`, []string{"expired", "Nothing was created and nothing is billed", "Request again"}},
		{"failed without instance", `status = 'failed', finished_at = now(), failure_reason = 'JD Cloud refused the create'`,
			[]string{"found no instance", "nothing is billed", "Request again"}},
		{"failed with instance", `status = 'failed', finished_at = now(), instance_id = 'mysql-abandoned1'`,
			[]string{"JD Cloud created instance mysql-abandoned1", "billed", "Live copies", "24 hours", "Request again"}},
	} {
		if _, err := s.Pool.Exec(t.Context(), `UPDATE restore_requests SET `+tc.set+` WHERE id = $1`, id); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		d := getPage(t, alice, fmt.Sprintf("/requests/%d", id), http.StatusOK)
		out := d.Find("[data-testid=outcome]").Text()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: the page says %q, lacking %q", tc.name, out, w)
			}
		}
		if d.Find("[data-testid=request-again]").Length() != 1 {
			t.Errorf("%s: no Request again", tc.name)
		}
	}
}

// TestLateApproveSaysWhy: a lead approving a request another lead approved
// a moment ago (the worker has it now) is told that it is provisioning and
// can no longer change that way, not that it was approved.
func TestLateApproveSaysWhy(t *testing.T) {
	t.Parallel()
	s, id, bob := decideWorld(t)
	if _, err := s.Pool.Exec(t.Context(), `UPDATE restore_requests SET status = 'provisioning', decided_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	resp, _ := bob.PostForm(t, fmt.Sprintf("/requests/%d/approve", id), nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("late approve = %d", resp.StatusCode)
	}
	d := getPage(t, bob, fmt.Sprintf("/requests/%d", id), http.StatusOK)
	if f := d.Find("[data-testid=flash]").Text(); f != "This request is provisioning and can no longer change that way." {
		t.Errorf("late approve says %q", f)
	}
}
