package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"restoredesk/internal/testkit"
)

// TestPagesSayWhoDecides: the pending request's page and the approvals queue
// name the leads who may decide (never the requester, the viewer as "you"),
// resolved when the page is rendered; a decided request names nobody.
func TestPagesSayWhoDecides(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "alice", Teams: map[string]bool{"payments": false}})
	s.CreateUser(t, testkit.User{Username: "bob", Teams: map[string]bool{"payments": true}})
	grace := s.CreateUser(t, testkit.User{Username: "grace", Teams: map[string]bool{"payments": true}})
	s.CreateUser(t, testkit.User{Username: "heidi", Teams: map[string]bool{"payments": true}})
	s.GrantSeedOwnership(t, "payments")
	byAlice := s.SubmitRequest(t, "alice", "payments", "mysql-payorders1")
	byGrace := s.SubmitRequest(t, "grace", "payments", "mysql-payorders1")
	alice, bob, graceC := s.SignInAs(t, "alice"), s.SignInAs(t, "bob"), s.SignInAs(t, "grace")

	page := func(c *testkit.Client, path, sel string) string {
		t.Helper()
		_, body := c.Get(t, path)
		return strings.TrimSpace(testkit.Doc(t, body).Find(sel).Text())
	}
	req := func(id int64) string { return fmt.Sprintf("/requests/%d", id) }
	row := func(id int64) string {
		return fmt.Sprintf(`[data-testid="request-row"][data-id="%d"] [data-testid="waiting-for"]`, id)
	}
	cases := []struct {
		name      string
		c         *testkit.Client
		path, sel string
		want      string
	}{
		{"the requester's page", alice, req(byAlice), `[data-testid="waiting-for"]`, "Waiting for Bob, Grace or Heidi to approve or reject it."},
		{"a lead's page", bob, req(byAlice), `[data-testid="waiting-for"]`, "Waiting for you, Grace or Heidi to approve or reject it."},
		{"a lead's own request", graceC, req(byGrace), `[data-testid="waiting-for"]`, "Waiting for Bob or Heidi to approve or reject it."},
		{"the queue", bob, "/approvals", row(byAlice), "Waiting for you, Grace or Heidi to approve or reject it."},
		{"the queue, another lead's request", bob, "/approvals", row(byGrace), "Waiting for you or Heidi to approve or reject it."},
		{"the queue, the viewer's own request", graceC, "/approvals", fmt.Sprintf(`[data-testid="own-waiting"] li[data-id="%d"]`, byGrace),
			fmt.Sprintf("#%d: Waiting for Bob or Heidi to approve or reject it.", byGrace)},
	}
	for _, c := range cases {
		if got := page(c.c, c.path, c.sel); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}

	// Resolved when rendered: grace is no longer a lead, heidi is disabled.
	if _, err := s.SetMembership(t, grace, "payments", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(t.Context(), `UPDATE users SET disabled = true WHERE username = 'heidi'`); err != nil {
		t.Fatal(err)
	}
	if got, want := page(alice, req(byAlice), `[data-testid="waiting-for"]`), "Waiting for Bob to approve or reject it."; got != want {
		t.Errorf("after the change: %q, want %q", got, want)
	}
	if got, want := page(bob, "/approvals", row(byAlice)), "Waiting for you to approve or reject it."; got != want {
		t.Errorf("the queue after the change: %q, want %q", got, want)
	}

	// Decided: nobody is waited for.
	if resp, _ := bob.PostForm(t, req(byAlice)+"/reject", url.Values{"comment": {"not today"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject = %d", resp.StatusCode)
	}
	if _, body := alice.Get(t, req(byAlice)); testkit.Doc(t, body).Find(`[data-testid="waiting-for"]`).Length() != 0 {
		t.Error("a decided request still says who may decide it")
	}
}
