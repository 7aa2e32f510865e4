package e2e_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"restoredesk/internal/demo"
	"restoredesk/internal/testkit"
)

// TestScreenshots regenerates docs/screenshots/: the main pages of the demo,
// at 1280 px and a few at 390 px, as each role sees them, so that a reader
// sees the product without running it. It runs only with SCREENSHOTS=1
// (scripts/screenshots.sh), since it rewrites files of the repository.
func TestScreenshots(t *testing.T) {
	if os.Getenv("SCREENSHOTS") != "1" {
		t.Skip("SCREENSHOTS=1 regenerates docs/screenshots (scripts/screenshots.sh)")
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := testkit.Start(t, testkit.Options{Demo: true})
	s.RunWorker(t, testkit.FastWorker())
	ready := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "mysql-payorders1")
	bob := s.SignIn(t, "bob", demo.Password)
	if resp, _ := bob.PostForm(t, "/requests/"+itoa(ready)+"/approve", nil); resp.StatusCode != 303 {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	pending := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "pg-payledger1")
	team := itoa(s.Team(t, "payments"))
	var aliceID string
	s.Pool.QueryRow(t.Context(), `SELECT id::text FROM users WHERE username = 'alice'`).Scan(&aliceID)
	// The instance of the approved request is built meanwhile.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st string
		s.Pool.QueryRow(t.Context(), `SELECT status FROM restore_requests WHERE id = $1`, ready).Scan(&st)
		if st == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %d is still %s", ready, st)
		}
		time.Sleep(200 * time.Millisecond)
	}

	ctx := newBrowserFor(t, 5*time.Minute)
	shot := func(name string, width int64, prepare ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		do(t, ctx, chromedp.EmulateViewport(width, 900))
		do(t, ctx, prepare...)
		// The whole page, up to 2,400 px of it.
		h := min(must(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollHeight`)), 2400)
		do(t, ctx, chromedp.EmulateViewport(width, int64(h)))
		png := must(t, ctx, chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	open := func(path string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Navigate(s.URL + path), chromedp.WaitVisible(chromedp.CSS("main h1"))}
	}
	shot("signin", 1280, open("/signin")...)

	signIn(t, ctx, s.URL, "alice")
	shot("dashboard-engineer", 1280, open("/")...)
	shot("request-form", 1280, append(open("/requests/new"), choose("source", "mysql-payorders1"),
		chromedp.WaitReady(chromedp.CSS("#backup option:nth-child(2)")),
		chromedp.Evaluate[chromedp.Void](`(() => { const b = document.getElementById('backup'); b.selectedIndex = 1; b.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		chromedp.Sleep(500*time.Millisecond))...)
	shot("request-form-errors", 1280, append(open("/requests/new"), chromedp.SendKeys(chromedp.CSS("#reason"), "x"),
		chromedp.Click(chromedp.CSS("[data-testid=submit-request]")), chromedp.WaitVisible(chromedp.CSS("#error-summary")))...)
	shot("request-ready", 1280, open("/requests/"+itoa(ready))...)
	shot("request-ready-phone", 390, open("/requests/"+itoa(ready))...)
	shot("requests-history", 1280, open("/requests")...)
	shot("request-form-phone", 390, open("/requests/new")...)
	signOut(t, ctx)

	signIn(t, ctx, s.URL, "bob")
	shot("approvals", 1280, open("/approvals")...)
	shot("approvals-phone", 390, open("/approvals")...)
	shot("request-pending-lead", 1280, open("/requests/"+itoa(pending))...)
	signOut(t, ctx)

	signIn(t, ctx, s.URL, "dave")
	shot("audit-log", 1280, open("/audit")...)
	signOut(t, ctx)

	signIn(t, ctx, s.URL, "erin")
	shot("admin-team", 1280, open("/admin/teams/"+team)...)
	shot("admin-ownership", 1280, open("/admin/teams/"+team+"/ownership")...)
	shot("admin-confirm-remove", 1280, open("/admin/teams/"+team+"/members/"+aliceID+"/remove")...)
}
