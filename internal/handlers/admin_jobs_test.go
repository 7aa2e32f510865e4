package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"restoredesk/internal/notify"
	"restoredesk/internal/notify/notifytest"
	"restoredesk/internal/postgres"
	"restoredesk/internal/testkit"
)

// TestAdminJobsPage: the jobs page shows River's jobs by group — a
// notification delivery by its own record — pages them newest first, offers
// "Retry now" only on a failed delivery (which resends it through notify, so
// the delivery's record says queued again) and changes no other job.
func TestAdminJobsPage(t *testing.T) {
	t.Parallel()
	s := notifyServer(t, nil, notifytest.Cert{}, false)
	s.CreateUser(t, testkit.User{Username: "admin", Admin: true})
	admin := s.SignInAs(t, "admin")
	ctx := t.Context()
	db := postgres.New(s.Pool)
	ch, err := db.InsertChannel(ctx, postgres.ChannelInput{Kind: "email", Name: "list", Address: "team@example.com", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	delivery := func(o postgres.DeliveryOutcome) int64 {
		id, err := db.InsertDelivery(ctx, postgres.NewDelivery{ChannelID: &ch, Type: notify.TypeTest})
		if err == nil {
			err = db.RecordDelivery(ctx, id, o)
		}
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	failed := delivery(postgres.DeliveryOutcome{Status: notify.StatusFailed, Attempted: true, Error: "the endpoint answered 500"})
	retrying := delivery(postgres.DeliveryOutcome{Status: notify.StatusRetrying, Attempted: true, Error: "the endpoint answered 503"})
	failedJob := deliveryJob(t, s, failed, "completed")
	retryingJob := deliveryJob(t, s, retrying, "scheduled")
	restoreJob := riverJob(t, s, "restore_execute", `{"request_id": 7}`, "discarded", "jdcloud: boom 42")
	retryable := riverJob(t, s, "restore_execute", `{"request_id": 8}`, "retryable", "timed out")
	running := riverJob(t, s, "notify_fanout", `{}`, "running", "")
	riverJob(t, s, "notify_fanout", `{}`, "completed", "") // done: not listed

	jobsOn := func(path string) map[string]string {
		t.Helper()
		resp, body := admin.Get(t, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
		got := map[string]string{}
		testkit.Doc(t, body).Find(`[data-testid="job"]`).Each(func(_ int, sel *goquery.Selection) {
			id, _ := sel.Attr("data-id")
			retry := ""
			if sel.Find(`[data-testid="retry-now"]`).Length() > 0 {
				retry = " [retry now]"
			}
			got[id] = strings.Join(strings.Fields(sel.Find(`[data-testid="job-attempt"]`).Text()), " ") + " | " +
				strings.TrimSpace(sel.Find(`[data-testid="job-error"]`).Text()) + retry
		})
		return got
	}
	want := map[string]map[string]string{
		"failed": {
			itoa(failedJob):  "1 attempt | the endpoint answered 500 [retry now]",
			itoa(restoreJob): "1 of 5 | jdcloud: boom 42",
		},
		"retrying": {
			itoa(retryingJob): "1 attempt | the endpoint answered 503",
			itoa(retryable):   "1 of 5 | timed out",
		},
		"running": {itoa(running): "0 of 5 | "},
	}
	for group, w := range want {
		got := jobsOn("/admin/jobs?state=" + group)
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s jobs:\n%v\nwant\n%v", group, got, w)
		}
	}
	if got := jobsOn("/admin/jobs?state=failed&kind=restore_execute"); len(got) != 1 || got[itoa(restoreJob)] == "" {
		t.Errorf("failed restore_execute jobs: %v", got)
	}
	_, body := admin.Get(t, "/admin/jobs?state=failed")
	d := testkit.Doc(t, body)
	if n := d.Find(`[data-kind="restore_execute"] [data-group="failed"]`).Text(); strings.TrimSpace(n) != "1" {
		t.Errorf("restore_execute failed count %q", n)
	}
	// Read-only: the only form that posts is "Retry now".
	d.Find(`form[method="post"]`).Each(func(_ int, sel *goquery.Selection) {
		if a, _ := sel.Attr("action"); a != fmt.Sprintf("/admin/jobs/%d/retry", failedJob) && a != "/signout" {
			t.Errorf("the jobs page posts to %s", a)
		}
	})
	// The admin home links to it.
	if _, home := admin.Get(t, "/admin/users"); testkit.Doc(t, home).Find(`a[href="/admin/jobs"]`).Length() == 0 {
		t.Error("the admin home does not link to the jobs page")
	}

	// Retry now on a restore's job changes nothing.
	if resp, _ := admin.PostForm(t, fmt.Sprintf("/admin/jobs/%d/retry", restoreJob), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry of a restore job = %d", resp.StatusCode)
	}
	var state string
	if err := s.Pool.QueryRow(ctx, `SELECT state FROM river_job WHERE id = $1`, restoreJob).Scan(&state); err != nil || state != "discarded" {
		t.Errorf("the restore job is %q (%v) after a refused retry", state, err)
	}
	if _, page := admin.Get(t, "/admin/jobs?state=failed"); !strings.Contains(page, "Only a failed notification delivery can be retried here.") {
		t.Error("the refused retry does not say why")
	}
	// Retry now on the failed delivery resends it through notify.
	if resp, _ := admin.PostForm(t, fmt.Sprintf("/admin/jobs/%d/retry", failedJob), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry of a failed delivery = %d", resp.StatusCode)
	}
	dl, err := db.Delivery(ctx, failed)
	if err != nil || dl.Status != notify.StatusQueued {
		t.Errorf("the delivery is %q (%v) after Retry now, want queued", dl.Status, err)
	}
	var queued int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'notify_deliver' AND state = 'available'
		AND (args->>'delivery_id')::bigint = $1`, failed).Scan(&queued); err != nil || queued != 1 {
		t.Errorf("%d new jobs for the delivery (%v), want 1", queued, err)
	}
	if got := jobsOn("/admin/jobs?state=failed"); got[itoa(failedJob)] != "" {
		t.Errorf("the resent delivery's old job is still failed: %v", got)
	}
	if resp, _ := admin.PostForm(t, fmt.Sprintf("/admin/jobs/%d/retry", failedJob), nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a second retry = %d", resp.StatusCode)
	}
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'notify_deliver' AND (args->>'delivery_id')::bigint = $1`, failed).Scan(&queued); err != nil || queued != 2 {
		t.Errorf("a second retry of a queued delivery made %d jobs (%v), want still 2", queued, err)
	}
}

// TestAdminJobsPaging: the jobs are paged newest first on their id, each job
// on exactly one page.
func TestAdminJobsPaging(t *testing.T) {
	t.Parallel()
	s := notifyServer(t, nil, notifytest.Cert{}, false)
	s.CreateUser(t, testkit.User{Username: "admin", Admin: true})
	admin := s.SignInAs(t, "admin")
	var ids []string
	for range 57 {
		ids = append(ids, itoa(riverJob(t, s, "restore_execute", `{}`, "available", "")))
	}
	seen := map[string]int{}
	var order []string
	path := "/admin/jobs?state=queued&kind=restore_execute"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("the pager does not end")
		}
		_, body := admin.Get(t, path)
		d := testkit.Doc(t, body)
		d.Find(`[data-testid="job"]`).Each(func(_ int, sel *goquery.Selection) {
			id, _ := sel.Attr("data-id")
			seen[id]++
			order = append(order, id)
		})
		path, _ = d.Find(`a[rel="next"]`).Attr("href")
	}
	if len(seen) != len(ids) || len(order) != len(ids) {
		t.Errorf("%d jobs listed (%d distinct), want %d", len(order), len(seen), len(ids))
	}
	if order[0] != ids[len(ids)-1] || order[len(order)-1] != ids[0] {
		t.Errorf("not newest first: %s … %s", order[0], order[len(order)-1])
	}
}
