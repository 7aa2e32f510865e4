package e2e_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"restoredesk/internal/demo"
	"restoredesk/internal/testkit"
)

// TestConfirmationsComeFirst: each one-click change that is hard to undo
// (sign out everywhere, disable an account, remove a member, remove a
// team's instance) first shows "Are you sure?", changes nothing until it is
// answered, and then does it; the same holds with JavaScript off.
func TestConfirmationsComeFirst(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true})
	payments := itoa(s.Team(t, "payments"))
	var frank, alice string
	s.Pool.QueryRow(t.Context(), `SELECT (SELECT id::text FROM users WHERE username = 'frank'), (SELECT id::text FROM users WHERE username = 'alice')`).Scan(&frank, &alice)
	count := func(query string, args ...any) int {
		var n int
		if err := s.Pool.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	sessions := func() int {
		return count(`SELECT count(*) FROM sessions WHERE user_id = $1`, frank)
	}
	cases := []struct {
		name, page, button, question string
		script                       bool
		done                         func() bool
	}{
		{"sign out everywhere", "/admin/users/" + frank, "revoke-sessions", "Sign Frank", true, func() bool { return sessions() == 0 }},
		{"disable account", "/admin/users/" + frank, "disable-user", "Disable the account of Frank", false,
			func() bool { return count(`SELECT count(*) FROM users WHERE id = $1 AND disabled`, frank) == 1 }},
		{"remove member", "/admin/teams/" + payments, "remove-member", "from team payments?", true,
			func() bool {
				return count(`SELECT count(*) FROM memberships WHERE user_id = $1 AND team_id = $2`, alice, payments) == 0
			}},
		{"remove ownership", "/admin/teams/" + payments + "/ownership?region=cn-north-1", "remove-owned", "from team payments?", false,
			func() bool {
				return count(`SELECT count(*) FROM team_instances WHERE team_id = $1 AND instance_id = 'mysql-payorders1'`, payments) == 0
			}},
	}
	// frank has a session to end.
	s.SignIn(t, "frank", demo.Password)
	for _, c := range cases {
		ctx := newBrowser(t)
		if !c.script {
			withoutScript(t, ctx)
		}
		signIn(t, ctx, s.URL, "erin")
		button := "[data-testid=" + c.button + "]"
		if c.button == "remove-member" {
			button = "[data-testid=member-alice] " + button
		}
		if c.button == "remove-owned" {
			button = "[data-testid=owned-mysql-payorders1] " + button
		}
		do(t, ctx, chromedp.Navigate(s.URL+c.page), chromedp.WaitVisible(chromedp.CSS(button)),
			chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS("[data-testid=confirm]")))
		if h := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=confirm] h1"))); h != "Are you sure?" {
			t.Errorf("%s: the confirmation says %q", c.name, h)
		}
		if q := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=confirm-question]"))); !strings.Contains(q, c.question) {
			t.Errorf("%s: the question %q lacks %q", c.name, q, c.question)
		}
		if c.done() {
			t.Errorf("%s: done before it was confirmed", c.name)
		}
		if c.script {
			checkAxe(t, ctx, c.name+" confirmation")
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=confirm-yes]")), chromedp.WaitVisible(chromedp.CSS("[data-testid=flash]")))
		if !c.done() {
			t.Errorf("%s: not done once confirmed", c.name)
		}
	}
}
