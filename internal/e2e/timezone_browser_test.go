package e2e_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"restoredesk/internal/demo"
	"restoredesk/internal/testkit"
)

// TestTimesInTheBrowsersZone: the deployment's default zone is UTC; a
// browser started in Asia/Shanghai reports its zone on the first page it
// loads, so the request page and its timeline then show +08:00 times with
// UTC on hover, without any setting; once alice chooses UTC on her account
// page, the same browser sees UTC.
func TestTimesInTheBrowsersZone(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true, DefaultZone: time.UTC})
	id := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "mysql-payorders1")
	page := s.URL + "/requests/" + strconv.FormatInt(id, 10)
	ctx := newBrowserIn(t, "Asia/Shanghai")

	signIn(t, ctx, s.URL, "alice")
	if c := must(t, ctx, chromedp.Evaluate[string](`document.cookie`)); !strings.Contains(c, "tz=Asia/Shanghai") {
		t.Fatalf("the browser's cookies %q do not report its zone", c)
	}
	do(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#timeline-section time")))
	requested := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=params] time")))
	hover := must(t, ctx, chromedp.AttributeValue(chromedp.CSS("[data-testid=params] time"), "title")).Value
	timeline := must(t, ctx, chromedp.Text(chromedp.CSS("#timeline-section time")))
	if !strings.HasSuffix(requested, "+08:00") || !strings.HasSuffix(timeline, "+08:00") || !strings.HasSuffix(hover, " UTC") {
		t.Errorf("in Asia/Shanghai without a setting: requested %q (hover %q), timeline %q; want +08:00 with UTC on hover",
			requested, hover, timeline)
	}

	do(t, ctx,
		chromedp.Navigate(s.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("#time_zone")),
	)
	if opt := must(t, ctx, chromedp.Evaluate[string](`document.querySelector('#time_zone option[value=""]').textContent`)); !strings.Contains(opt, "Asia/Shanghai") {
		t.Errorf("the browser's choice reads %q, want it to name Asia/Shanghai", opt)
	}
	do(t, ctx,
		choose("time_zone", "UTC"),
		chromedp.Click(chromedp.CSS("[data-testid=time-zone-save]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=flash]")),
		chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#timeline-section time")),
	)
	requested = must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=params] time")))
	timeline = must(t, ctx, chromedp.Text(chromedp.CSS("#timeline-section time")))
	if !strings.HasSuffix(requested, " UTC") || !strings.HasSuffix(timeline, " UTC") {
		t.Errorf("with the setting UTC: requested %q, timeline %q; want UTC", requested, timeline)
	}
}
