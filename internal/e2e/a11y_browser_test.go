package e2e_test

import (
	"context"
	_ "embed"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/demo"
	"restoredesk/internal/jobs"
	"restoredesk/internal/notify"
	"restoredesk/internal/testkit"
)

// axeSource is axe-core 4.14.1 (npm axe-core, MPL-2.0, its licence beside
// it), kept in the repository so that the browser tests need no registry.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is one rule axe-core found broken, with the elements.
type axeViolation struct {
	ID    string   `json:"id"`
	Help  string   `json:"help"`
	Nodes []string `json:"nodes"`
}

// checkAxe runs axe-core on the page the tab shows (WCAG 2.x A and AA and
// best practices) and fails the test for each violation.
func checkAxe(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.axe || (0, eval)(`+jsString(axeSource)+`)`))
	vs := must(t, ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})
		.then(r => r.passes.length === 0 ? [{id: 'none', help: 'axe checked nothing', nodes: []}] : r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.html.slice(0, 160))})))`,
		chromedp.EvalAwaitPromise))
	for _, v := range vs {
		t.Errorf("%s: axe %s (%s) on %d+ elements: %s", what, v.ID, v.Help, len(v.Nodes), strings.Join(v.Nodes, " | "))
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "${", "\\${")
	return "`" + r.Replace(s) + "`"
}

// checkErrorSummary checks a form sent back with problems: the focus is on
// its error summary, which counts the problems and links to each field,
// and each of those fields says it is invalid and points at its message.
func checkErrorSummary(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	type report struct {
		Focused string   `json:"focused"`
		Title   string   `json:"title"`
		Links   int      `json:"links"`
		Broken  []string `json:"broken"`
	}
	r := must(t, ctx, chromedp.Evaluate[report](`(() => {
		const s = document.getElementById('error-summary');
		const links = s ? [...s.querySelectorAll('a[href^="#"]')] : [];
		const broken = [];
		for (const a of links) {
			const id = a.getAttribute('href').slice(1), f = document.getElementById(id);
			if (!f) { broken.push(id + ': no such field'); continue; }
			if (f.getAttribute('aria-invalid') !== 'true') { broken.push(id + ': no aria-invalid'); }
			const msg = (f.getAttribute('aria-describedby') || '').split(' ').map(d => document.getElementById(d)).find(e => e && e.classList.contains('error'));
			if (!msg) { broken.push(id + ': aria-describedby names no error message'); }
			else if (msg.textContent.trim() !== a.textContent.trim()) { broken.push(id + ': summary says ' + a.textContent + ', field says ' + msg.textContent); }
		}
		return {focused: document.activeElement ? document.activeElement.id : '', title: s ? s.querySelector('.error-summary-title').textContent : '', links: links.length, broken};
	})()`))
	if r.Focused != "error-summary" {
		t.Errorf("%s: after the 422 the focus is on %q, not the error summary", what, r.Focused)
	}
	if r.Links == 0 {
		t.Errorf("%s: the error summary links to no field", what)
	}
	wantTitle := "There is 1 problem"
	if r.Links != 1 {
		wantTitle = "There are " + itoa(int64(r.Links)) + " problems"
	}
	if !strings.HasPrefix(r.Title, wantTitle) {
		t.Errorf("%s: summary title %q for %d links", what, r.Title, r.Links)
	}
	for _, b := range r.Broken {
		t.Errorf("%s: %s", what, b)
	}
}

// submitUnchecked sends a form as the browser would once its own checks
// (required, minlength) are out of the way, so the server's 422 shows.
func submitUnchecked(form string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const f = document.querySelector(` + quote(form) + `); f.noValidate = true;
		f.querySelector('button[type=submit]:not([formaction])').click(); })()`)
}

// formCase is a page with a form: clean, then sent with problems.
type formCase struct {
	name, user, path string
	form             string // the form to send; empty for a page without one
	fill             string // script run before sending
	bad              string // a path whose GET shows the form's problems (filters)
}

// TestPagesAreAccessible: every main page passes axe-core with no
// violation, and every form both clean and after a 422, where the focus is
// on the error summary and each invalid field is tied to its message.
func TestPagesAreAccessible(t *testing.T) {
	t.Parallel()
	// The notification pages run on the demo outbox, as web serve's demo does.
	s := testkit.Start(t, testkit.Options{Demo: true, Notify: func(pool *pgxpool.Pool) *notify.Service {
		n := notify.New(pool, notify.Config{Outbox: true})
		client, err := jobs.New(pool, jobs.Config{Test: true}, n)
		if err != nil {
			t.Fatal(err)
		}
		return notify.NewService(n, client)
	}})
	id := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "mysql-payorders1")
	team := itoa(s.Team(t, "payments"))
	var aliceID string
	s.Pool.QueryRow(t.Context(), `SELECT id::text FROM users WHERE username = 'alice'`).Scan(&aliceID)
	cases := []formCase{
		{name: "dashboard", user: "alice", path: "/"},
		{name: "request form", user: "alice", path: "/requests/new", form: "#request-form", fill: `document.getElementById('reason').value = 'x'`},
		{name: "request history", user: "alice", path: "/requests", bad: "/requests?from=yesterday"},
		{name: "request page", user: "alice", path: "/requests/" + itoa(id)},
		{name: "account", user: "alice", path: "/account", form: "form[action='/account/password']",
			fill: `document.getElementById('current').value = 'not my password'; document.getElementById('new').value = 'short'`},
		{name: "approvals", user: "bob", path: "/approvals"},
		{name: "reject", user: "bob", path: "/requests/" + itoa(id), form: "form[action$='/reject']"},
		{name: "audit log", user: "dave", path: "/audit", bad: "/audit?from=yesterday"},
		{name: "admin users", user: "erin", path: "/admin/users"},
		{name: "new user", user: "erin", path: "/admin/users/new", form: "[data-testid=new-user-form]"},
		{name: "user", user: "erin", path: "/admin/users/" + aliceID, form: "[data-testid=password-form]"},
		{name: "teams", user: "erin", path: "/admin/teams", form: "[data-testid=new-team-form]"},
		{name: "team", user: "erin", path: "/admin/teams/" + team, form: "[data-testid=add-member-form]", fill: `document.getElementById('username').value = 'nobody-here'`},
		{name: "ownership", user: "erin", path: "/admin/teams/" + team + "/ownership", form: "[data-testid=add-instances-form]"},
		{name: "channels", user: "erin", path: "/admin/channels", form: "[data-testid=channel-form]"},
	}
	ctx := newBrowserFor(t, 4*time.Minute)
	do(t, ctx, chromedp.EmulateViewport(1280, 900))
	// The sign-in page, clean and with a wrong password.
	do(t, ctx, chromedp.Navigate(s.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS("#username")))
	checkAxe(t, ctx, "sign-in")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#username"), "alice"), chromedp.SendKeys(chromedp.CSS("#password"), "wrong password"),
		chromedp.Click(chromedp.CSS("[data-testid=sign-in]")), chromedp.WaitVisible(chromedp.CSS("#error-summary")))
	checkErrorSummary(t, ctx, "sign-in")
	checkAxe(t, ctx, "sign-in after a wrong password")

	user := ""
	for _, c := range cases {
		if c.user != user {
			if user != "" {
				signOut(t, ctx)
			}
			signIn(t, ctx, s.URL, c.user)
			user = c.user
		}
		t.Logf("%s (%s, %s)", c.name, c.user, c.path)
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		do(t, ctx, chromedp.Navigate(s.URL+c.path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		checkAxe(t, ctx, c.name)
		switch {
		case c.form != "":
			steps := []chromedp.Action[chromedp.Void]{}
			if c.fill != "" {
				steps = append(steps, chromedp.Evaluate[chromedp.Void](c.fill))
			}
			steps = append(steps, submitUnchecked(c.form), chromedp.WaitVisible(chromedp.CSS("#error-summary")))
			do(t, ctx, steps...)
		case c.bad != "":
			do(t, ctx, chromedp.Navigate(s.URL+c.bad), chromedp.WaitVisible(chromedp.CSS("#error-summary")))
		default:
			continue
		}
		checkErrorSummary(t, ctx, c.name)
		checkAxe(t, ctx, c.name+" after a 422")
	}
}
