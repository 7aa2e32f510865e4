package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"restoredesk/internal/demo"
	"restoredesk/internal/testkit"
)

// withoutScript turns JavaScript off in the tab, as a browser with it
// disabled: the pages must then work with forms and links alone.
func withoutScript(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})); err != nil {
		t.Fatal(err)
	}
}

// statusBadge reads the request page's status, or "" while a reload is
// under way.
const statusBadge = `(() => { const b = document.querySelector('[data-testid=request-status] [data-testid=badge]'); return b ? b.textContent : ''; })()`

// TestRequestPageRefreshesWithoutScript: with JavaScript off, bob approves
// alice's request and the page left open reaches Ready by itself, saying
// while it works that it refreshes; once Ready it stops refreshing.
func TestRequestPageRefreshesWithoutScript(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true})
	s.RunWorker(t, testkit.FastWorker())
	id := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "mysql-payorders1")
	ctx := newBrowserFor(t, 2*time.Minute)
	withoutScript(t, ctx)
	signIn(t, ctx, s.URL, "bob")
	path := "/requests/" + itoa(id)
	do(t, ctx, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("[data-testid=approve]")))
	if n := must(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('meta[http-equiv=refresh]').length`)); n != 0 {
		t.Error("a pending request's page refreshes itself: a lead's typed comment would be lost")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=approve]")), chromedp.WaitVisible(chromedp.CSS("[data-testid=flash]")))
	if note := must(t, ctx, chromedp.Evaluate[string](`(document.querySelector('[data-testid=refresh-note]') || {}).innerText || ''`)); note != "" &&
		note != "This page refreshes every 5 s while the request is active." {
		t.Errorf("refresh note %q", note)
	}
	sawNote := false
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := chromedp.Run(ctx, chromedp.Evaluate[string](statusBadge))
		if err == nil && st == "Ready" {
			break
		}
		if err == nil && st != "" && st != "Ready" {
			n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=refresh-note]').length`))
			sawNote = sawNote || n == 1
		}
		if time.Now().After(deadline) {
			t.Fatalf("without JavaScript the page still shows %q", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !sawNote {
		t.Error("while active the page never said it refreshes")
	}
	if loc := must(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, path) {
		t.Errorf("the browser is at %s", loc)
	}
	if n := must(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('meta[http-equiv=refresh], [data-testid=refresh-note]').length`)); n != 0 {
		t.Error("a ready request's page still refreshes itself")
	}
}

// TestFormReloadsWithoutScript: with JavaScript off, the reload next to the
// source instance brings its backups; the reason typed so far is kept and
// never put into the address.
func TestFormReloadsWithoutScript(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true})
	ctx := newBrowser(t)
	withoutScript(t, ctx)
	signIn(t, ctx, s.URL, "alice")
	reason := "Orders of last week, deleted by mistake"
	do(t, ctx,
		chromedp.Navigate(s.URL+"/requests/new"), chromedp.WaitVisible(chromedp.CSS("#source")),
		chromedp.SetValue(chromedp.CSS("#source"), "mysql-payorders1"),
		chromedp.SendKeys(chromedp.CSS("#reason"), reason),
	)
	// The reload sits right below the source instance, not at the form's end.
	gap := must(t, ctx, chromedp.Evaluate[int](`Math.round(document.querySelector('[data-testid=refresh]').getBoundingClientRect().top - document.getElementById('source').getBoundingClientRect().bottom)`))
	if gap > 120 {
		t.Errorf("the reload is %d px below the source instance", gap)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=refresh]")), chromedp.WaitReady(chromedp.CSS("#backup option:nth-child(2)")))
	if loc := must(t, ctx, chromedp.Location()); strings.Contains(loc, "reason") || strings.Contains(loc, "?") {
		t.Errorf("after the reload the address is %s", loc)
	}
	if got := must(t, ctx, chromedp.Evaluate[string](`document.getElementById('reason').value`)); got != reason {
		t.Errorf("reason after the reload %q", got)
	}
}
