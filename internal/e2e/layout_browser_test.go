package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"restoredesk/internal/demo"
	"restoredesk/internal/testkit"
)

// TestRequestFormUsesTheWidth: at 1280 px the request form is not squeezed
// to 640 px; beside it a panel says what will be created and what it costs,
// and the chosen backup is readable whole in its select.
func TestRequestFormUsesTheWidth(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true})
	ctx := newBrowser(t)
	do(t, ctx, chromedp.EmulateViewport(1280, 900))
	signIn(t, ctx, s.URL, "alice")
	do(t, ctx,
		chromedp.Navigate(s.URL+"/requests/new"), chromedp.WaitVisible(chromedp.CSS("#source")),
		choose("source", "mysql-payorders1"),
		chromedp.WaitReady(chromedp.CSS("#backup option:nth-child(2)")),
	)
	backup := must(t, ctx, chromedp.Evaluate[string](`document.querySelector('#backup option:nth-child(2)').value`))
	do(t, ctx, choose("backup", backup))
	// The choice reloads the form in place; the summary then names the backup.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if must(t, ctx, chromedp.Evaluate[bool](`(document.querySelector('[data-testid=request-summary]') || {textContent: ''}).textContent.includes(`+quote(backup)+`)`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the summary never named the chosen backup")
		}
	}
	summary := must(t, ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=request-summary]').innerText`))
	if w := must(t, ctx, chromedp.Evaluate[int](`Math.round(document.getElementById('request-form').getBoundingClientRect().width)`)); w < 1000 {
		t.Errorf("the request form is %d px wide at 1280 px", w)
	}
	for _, want := range []string{"What will be created", "mysql-payorders1", backup, "Billing", "Cost", " GB"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
	}
	// Each select shows its chosen label whole: the text fits the box.
	cut := must(t, ctx, chromedp.Evaluate[[]string](`(() => { const c = document.createElement('canvas').getContext('2d'); const out = [];
		for (const s of document.querySelectorAll('#request-form select')) {
			const o = s.options[s.selectedIndex]; if (!o || !o.value) continue;
			c.font = getComputedStyle(s).font;
			if (c.measureText(o.text).width > s.clientWidth - 24) out.push(s.id + ': ' + o.text);
		}
		return out; })()`))
	for _, c := range cut {
		t.Errorf("cut off in its select: %s", c)
	}
	// Every size on the form is in one unit.
	if txt := must(t, ctx, chromedp.Evaluate[string](`document.getElementById('request-form').innerText`)); strings.Contains(txt, "GiB") {
		t.Error("the form mixes GiB and GB")
	}
}

// TestPhoneWidth: at 390 px no main page scrolls sideways, for each role
// and on the admin pages (ownership included).
func TestPhoneWidth(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true})
	id := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "mysql-payorders1")
	team := itoa(s.Team(t, "payments"))
	var aliceID string
	s.Pool.QueryRow(t.Context(), `SELECT id::text FROM users WHERE username = 'alice'`).Scan(&aliceID)
	pages := map[string][]string{
		"alice": {"/", "/requests/new", "/requests", "/requests/" + itoa(id), "/account"},
		"bob":   {"/approvals", "/requests/" + itoa(id), "/audit"},
		"dave":  {"/audit", "/requests"},
		"erin": {"/admin/users", "/admin/users/new", "/admin/users/" + aliceID, "/admin/teams", "/admin/teams/" + team,
			"/admin/teams/" + team + "/ownership", "/admin/teams/" + team + "/members/" + aliceID + "/remove"},
	}
	ctx := newBrowserFor(t, 3*time.Minute)
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, user := range []string{"alice", "bob", "dave", "erin"} {
		signIn(t, ctx, s.URL, user)
		for _, p := range pages[user] {
			do(t, ctx, chromedp.Navigate(s.URL+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
			if w := must(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
				wide := must(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 391)
					.slice(0, 4).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`))
				t.Errorf("%s %s: %d px wide at 390 px (%v)", user, p, w, wide)
			}
		}
		signOut(t, ctx)
	}
}
