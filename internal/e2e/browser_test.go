package e2e_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"restoredesk/internal/demo"
	"restoredesk/internal/postgres/postgrestest"
	"restoredesk/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }

// chromium is Debian's Chromium (scripts/test-deps.sh installs it).
const chromium = "/usr/lib/chromium/chromium"

// newBrowser starts a headless Chromium for the test and returns a context
// for driving a tab of it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserWith(t, "", 60*time.Second)
}

// newBrowserIn is newBrowser for a browser process started in the time zone
// zone (its TZ), as a person's browser there would be.
func newBrowserIn(t *testing.T, zone string) context.Context {
	t.Helper()
	return newBrowserWith(t, zone, 60*time.Second)
}

// newBrowserFor is newBrowser for a test that drives the tab for longer
// (many pages, each checked by axe-core).
func newBrowserFor(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	return newBrowserWith(t, "", limit)
}

// newBrowserWith starts Chromium in zone ("" keeps the machine's) for a tab
// that may be driven for limit.
func newBrowserWith(t *testing.T, zone string, limit time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("browser tests need Chromium at %s (apt-get install chromium; make test does it): %v", chromium, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium))
	if zone != "" {
		opts = append(opts, chromedp.Env("TZ="+zone))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first call starts the browser, which lives as long as that call's
	// context: so no timeout on it, only on what follows.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(cancelTimeout)
	return ctx
}

// must runs a value-returning action, failing the test on error.
func must[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// do runs steps, failing the test on error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// TestDemoUsersSeeTheirNavigation signs in as each demo user through the real
// form in a real browser, checks the navigation shows what their role may
// use and nothing more, that the admin pages open only for the admin, and
// signs out with the button.
func TestDemoUsersSeeTheirNavigation(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true})
	ctx := newBrowser(t)
	want := map[string]string{
		"alice": "dashboard new requests copies",
		"bob":   "dashboard new approvals requests copies audit",
		"carol": "dashboard new approvals requests copies audit",
		"dave":  "dashboard requests copies audit",
		"erin":  "dashboard requests copies audit admin",
		"frank": "dashboard new requests copies",
		"grace": "dashboard new approvals requests copies audit",
	}
	if len(want) != len(demo.Users) {
		t.Fatalf("the test knows %d demo users, the seed has %d", len(want), len(demo.Users))
	}
	for _, u := range demo.Users {
		do(t, ctx, chromedp.Navigate(s.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS("#username")))
		listed := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=demo-users]")))
		do(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#username"), u.Username),
			chromedp.SendKeys(chromedp.CSS("#password"), demo.Password),
			chromedp.Click(chromedp.CSS("[data-testid=sign-in]")),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=greeting]")),
		)
		greeting := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=greeting]")))
		nav := must(t, ctx, chromedp.Evaluate[string](
			`[...document.querySelectorAll('[data-testid=nav] a')].map(a => a.dataset.testid.replace('nav-', '')).join(' ')`))
		do(t, ctx, chromedp.Navigate(s.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS("main h1")))
		adminPage := must(t, ctx, chromedp.Text(chromedp.CSS("main h1")))
		do(t, ctx,
			chromedp.Click(chromedp.CSS("[data-testid=sign-out]")),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=flash]")),
		)
		if !strings.Contains(listed, u.Username) {
			t.Errorf("sign-in page does not list demo user %s: %q", u.Username, listed)
		}
		if greeting != "Hello, "+u.Name {
			t.Errorf("%s: greeting %q", u.Username, greeting)
		}
		if nav != want[u.Username] {
			t.Errorf("%s sees navigation %q, want %q", u.Username, nav, want[u.Username])
		}
		wantAdmin := "You do not have permission"
		if u.Admin {
			wantAdmin = "Users"
		}
		if u.Admin != (adminPage == "Users") {
			t.Errorf("%s on /admin sees %q, want %q", u.Username, adminPage, wantAdmin)
		}
	}
}
