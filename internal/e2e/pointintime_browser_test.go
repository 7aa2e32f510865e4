package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/restore"
	"restoredesk/internal/testkit"
)

// TestPointInTimeJourney: alice restores payments-orders to yesterday 14:30
// Beijing time; the form names the zone and shows the moment in UTC; bob
// approves; the instance reaches Ready; the request page shows the moment in
// Beijing time and UTC; the simulator restored to yesterday 06:30 UTC.
func TestPointInTimeJourney(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true})
	s.RunWorker(t, testkit.FastWorker())
	ctx := newBrowserIn(t, "Asia/Shanghai") // alice works in Beijing time
	y := time.Now().In(restore.DefaultZone).AddDate(0, 0, -1)
	at := time.Date(y.Year(), y.Month(), y.Day(), 14, 30, 0, 0, restore.DefaultZone)
	typed := at.Format("2006-01-02T15:04")

	signIn(t, ctx, s.URL, "alice")
	do(t, ctx,
		chromedp.Navigate(s.URL+"/requests/new"), chromedp.WaitVisible(chromedp.CSS("#source")),
		choose("source", "mysql-payorders1"),
		chromedp.WaitReady(chromedp.CSS("#backup option:nth-child(2)")),
		chromedp.Click(chromedp.CSS("#kind-time")),
		chromedp.WaitVisible(chromedp.CSS("#restore_at")),
		// A datetime-local input takes its value as typed; set it and fire
		// change as a user's pick does.
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.getElementById('restore_at'); i.value = '`+typed+`';
			i.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=restore-echo]")),
	)
	hint := must(t, ctx, chromedp.Text(chromedp.CSS("#restore_at-hint")))
	if !strings.Contains(hint, "Asia/Shanghai") {
		t.Errorf("the form does not name the zone: %q", hint)
	}
	echo := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=restore-echo]")))
	if !strings.Contains(echo, at.UTC().Format("2006-01-02 15:04")+" UTC") || !strings.Contains(echo, "14:30 Beijing time") {
		t.Errorf("the form's echo of the moment: %q", echo)
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#reason"), "Undo the 14:35 migration that dropped refunds"),
		chromedp.Click(chromedp.CSS("[data-testid=submit-request]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=request-status]")),
	)
	url := must(t, ctx, chromedp.Location())
	reqID := url[strings.LastIndex(url, "/")+1:]
	signOut(t, ctx)

	signIn(t, ctx, s.URL, "bob")
	do(t, ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("[data-testid=approve]")),
		chromedp.Click(chromedp.CSS("[data-testid=approve]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=instance-id]")),
	)
	deadline := time.Now().Add(30 * time.Second)
	for must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=request-status] [data-testid=badge]"))) != "Ready" {
		if time.Now().After(deadline) {
			t.Fatal("the point-in-time request did not reach Ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	point := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=restore-point]")))
	if !strings.Contains(point, at.Format("2006-01-02")+" 14:30 Beijing time") || !strings.Contains(point, "06:30 UTC") {
		t.Errorf("the request page shows the moment as %q", point)
	}
	if kind := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=params] [data-testid=kind]"))); kind != "A point in time" {
		t.Errorf("restore from %q", kind)
	}
	instance := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=instance-id]")))
	restored, ok := s.Restore.Sim.RestorePoint("cn-north-1", instance)
	want := time.Date(at.Year(), at.Month(), at.Day(), 6, 30, 0, 0, time.UTC)
	if !ok || !restored.Equal(want) {
		t.Errorf("the simulator restored %s to %s (%v), want %s", instance, restored.UTC(), ok, want)
	}
	tagged := s.Restore.Sim.InstancesByTag("cn-north-1", "restoredesk", s.Restore.DeploymentID+"/"+reqID)
	if len(tagged) != 1 || tagged[0].InstanceID != instance || tagged[0].Engine != jdcloud.EngineMySQL {
		t.Errorf("tagged instances %+v", tagged)
	}
}
