package handlers_test

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
	"restoredesk/internal/restore"
	"restoredesk/internal/testkit"
)

// pitForm is a valid point-in-time form for source: the backup form of the
// same source with "A point in time" chosen and a moment three hours ago, as
// a browser in Beijing time would send it.
func pitForm(t *testing.T, s *testkit.Server, source string) url.Values {
	t.Helper()
	form := s.RequestForm(t, "alice", "payments", source)
	form.Del("backup")
	form.Set("kind", string(request.ToPointInTime))
	form.Set("restore_at", time.Now().Add(-3*time.Hour).In(restore.DefaultZone).Format("2006-01-02T15:04"))
	form.Set("key", rand.Text())
	return form
}

// youngSource makes a MySQL instance created minutes ago, owned by payments,
// so that its restore window starts 30 minutes after its creation.
func youngSource(t *testing.T, w *formWorld) string {
	t.Helper()
	created, err := w.cloud.CreateInstanceFromBackup(t.Context(), "cn-north-1", jdcloud.CreateInstanceFromBackupRequest{
		BackupID: w.backup(t, "mysql-payorders1", jdcloud.Backup.Restorable), Engine: jdcloud.EngineMySQL,
		InstanceSpec: jdcloud.RestoredInstanceSpec{InstanceName: "young-orders", InstanceClass: "db.mysql.s1.large",
			InstanceStorageGB: 500, AzID: []string{"cn-north-1a", "cn-north-1b"}, VpcID: "vpc-payprod001",
			SubnetID: w.subnet(t, "vpc-payprod001"), ChargeSpec: jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePostpaidByDuration}},
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		in, err := w.cloud.DescribeInstanceAttributes(t.Context(), "cn-north-1", created.InstanceID)
		if err == nil && in.InstanceStatus == jdcloud.StatusRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the young source did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := postgres.New(w.s.Pool).AddTeamInstance(t.Context(), postgres.TeamInstance{TeamID: w.s.Team(t, "payments"),
		Region: "cn-north-1", InstanceID: created.InstanceID, InstanceName: "young-orders", Engine: jdcloud.EngineMySQL}); err != nil {
		t.Fatal(err)
	}
	return created.InstanceID
}

// TestPointInTimeFormRefuses: every point-in-time rule, through the form
// handler: 422, the message at its field, the moment kept, nothing stored.
func TestPointInTimeFormRefuses(t *testing.T) {
	t.Parallel()
	w := newFormWorld(t)
	s := w.s
	alice := s.SignInAs(t, "alice")
	local := func(d time.Duration) string {
		return time.Now().Add(d).In(restore.DefaultZone).Format("2006-01-02T15:04")
	}
	young := youngSource(t, w)
	for _, tc := range []struct {
		name   string
		source string
		set    url.Values
		field  string
		msg    string
	}{
		{name: "no moment", set: url.Values{"restore_at": {""}}, field: "restore_at", msg: "Choose the date and time"},
		{name: "not a moment", set: url.Values{"restore_at": {"yesterday teatime"}}, field: "restore_at", msg: "YYYY-MM-DD HH:MM"},
		{name: "outside the window", set: url.Values{"restore_at": {local(-8 * 24 * time.Hour)}}, field: "restore_at", msg: "the last 7 days"},
		{name: "in the future", set: url.Values{"restore_at": {local(2 * time.Hour)}}, field: "restore_at", msg: "is outside it"},
		{name: "before the source existed", set: url.Values{"source": {young}, "restore_at": {local(-5 * time.Minute)}},
			field: "restore_at", msg: "30 minutes after the source instance was created"},
		{name: "a smaller class", set: url.Values{"class": {"db.mysql.s1.medium"}}, field: "class", msg: "smaller than the source's db.mysql.s1.large"},
		{name: "less storage", set: url.Values{"storage": {"200"}}, field: "storage", msg: "smaller than the source's 500 GB"},
		{name: "an engine without point in time", source: "pg-payledger1", field: "source", msg: "cannot be restored to a point in time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := pitForm(t, s, cmpOr(tc.source, "mysql-payorders1"))
			for f, v := range tc.set {
				form[f] = v
			}
			reqs, events := stored(t, s)
			resp, body := alice.PostForm(t, "/requests", form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d (Location %q), want 422", resp.StatusCode, resp.Header.Get("Location"))
			}
			d := testkit.Doc(t, body)
			if got := strings.TrimSpace(d.Find("[data-testid=error-" + tc.field + "]").Text()); !strings.Contains(got, tc.msg) {
				t.Errorf("message next to %s = %q, want it to contain %q\nall: %s", tc.field, got, tc.msg, d.Find("[data-testid^=error-]").Text())
			}
			if v, ok := fieldValue(d, "restore_at"); tc.source != "pg-payledger1" && (!ok || v != form.Get("restore_at")) {
				t.Errorf("restore_at shows %q (present %v), want %q kept", v, ok, form.Get("restore_at"))
			}
			if v, _ := fieldValue(d, "kind"); !strings.Contains(body, `value="time" checked`) {
				t.Errorf("the point-in-time choice is not kept (kind %q)", v)
			}
			if r2, e2 := stored(t, s); r2 != reqs || e2 != events {
				t.Errorf("stored %d requests and %d events, want none", r2-reqs, e2-events)
			}
		})
	}
}

// TestPointInTimeFormFiles: a valid point-in-time form shows its window and
// the moment in UTC and Beijing time, and files a request of that kind with
// the exact moment; "Request again" keeps both.
func TestPointInTimeFormFiles(t *testing.T) {
	t.Parallel()
	w := newFormWorld(t)
	s := w.s
	alice := s.SignInAs(t, "alice")
	form := pitForm(t, s, "mysql-payorders1")
	resp, body := alice.Get(t, "/requests/new?"+form.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("form: %d", resp.StatusCode)
	}
	d := testkit.Doc(t, body)
	if hint := d.Find("#restore_at").Parent().Text(); !strings.Contains(hint, "Asia/Shanghai") || !strings.Contains(hint, "the last 7 days") {
		t.Errorf("the form does not name the zone and the window: %q", hint)
	}
	at, _ := restore.ParseFormTime(form.Get("restore_at"), restore.DefaultZone)
	if echo := d.Find("[data-testid=restore-echo]").Text(); !strings.Contains(echo, at.UTC().Format("2006-01-02 15:04")+" UTC") {
		t.Errorf("the moment is not shown in UTC: %q", echo)
	}
	if d.Find("#backup").Length() != 0 {
		t.Error("a point-in-time form still asks for a backup")
	}

	resp, body = alice.PostForm(t, "/requests", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d\n%s", resp.StatusCode, body)
	}
	r, err := postgres.New(s.Pool).RequestBySubmission(t.Context(), form.Get("key"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != request.ToPointInTime || r.RestoreTime == nil || !r.RestoreTime.Equal(at) || r.BackupID != "" {
		t.Errorf("stored kind %q, moment %v, backup %q; want time, %s, none", r.Kind, r.RestoreTime, r.BackupID, at)
	}
	_, page := alice.Get(t, resp.Header.Get("Location"))
	point := testkit.Doc(t, page).Find("[data-testid=restore-point]").Text()
	if !strings.Contains(point, restore.FormTime(at, restore.DefaultZone)+" Beijing time") || !strings.Contains(point, at.UTC().Format("15:04")+" UTC") {
		t.Errorf("the request page shows the moment as %q", point)
	}
	_, again := alice.Get(t, "/requests/new?from="+resp.Header.Get("Location")[len("/requests/"):])
	ad := testkit.Doc(t, again)
	if v, _ := fieldValue(ad, "restore_at"); v != form.Get("restore_at") || !strings.Contains(again, `value="time" checked`) {
		t.Errorf("Request again shows restore_at %q, want %q and the point-in-time choice", v, form.Get("restore_at"))
	}
}

// TestPointInTimeGoneAtApproval: a point-in-time request that waited until
// its moment is more than 7 days ago. The lead's page says approval is no
// longer possible and offers the reject with a comment that tells the
// requester what to do; an approve posted anyway is refused with the reason
// and changes nothing; after the reject, the requester's page shows the
// comment and "Request again", whose form asks for a later time instead of
// the old one.
func TestPointInTimeGoneAtApproval(t *testing.T) {
	t.Parallel()
	w := newFormWorld(t)
	s := w.s
	alice, bob := s.SignInAs(t, "alice"), s.SignInAs(t, "bob")
	form := pitForm(t, s, "mysql-payorders1")
	resp, body := alice.PostForm(t, "/requests", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d\n%s", resp.StatusCode, body)
	}
	page := resp.Header.Get("Location")
	if _, err := s.Pool.Exec(t.Context(), `UPDATE restore_requests SET restore_time = now() - interval '8 days' WHERE submission_key = $1`,
		form.Get("key")); err != nil {
		t.Fatal(err)
	}

	_, body = bob.Get(t, page)
	d := testkit.Doc(t, body)
	if got := d.Find("[data-testid=point-in-time-gone]").Text(); !strings.Contains(got, "can no longer be approved") || !strings.Contains(got, "7 days") {
		t.Errorf("the lead's page says %q, want why approval is refused", got)
	}
	if d.Find("[data-testid=approve]").Length() != 0 {
		t.Error("the lead is still offered Approve")
	}
	comment := d.Find("#comment").Text()
	if !strings.Contains(comment, "Request again") || !strings.Contains(comment, "later time") {
		t.Errorf("the reject comment offered is %q", comment)
	}

	resp, _ = bob.PostForm(t, page+"/approve", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page {
		t.Fatalf("approve anyway = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = bob.Get(t, page)
	if got := testkit.Doc(t, body).Find("[data-testid=flash]").Text(); !strings.Contains(got, "more than 7 days ago") {
		t.Errorf("the refused approval says %q", got)
	}
	if n := countEvents(t, s.Pool, "request.approved"); n != 0 {
		t.Errorf("request.approved events = %d, want 0", n)
	}

	_, body = alice.Get(t, page)
	if got := testkit.Doc(t, body).Find("[data-testid=point-in-time-gone]").Text(); !strings.Contains(got, "Request again") {
		t.Errorf("the requester's pending page says %q, want the way forward", got)
	}

	if resp, _ := bob.PostForm(t, page+"/reject", url.Values{"comment": {comment}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject = %d", resp.StatusCode)
	}
	_, body = alice.Get(t, page)
	d = testkit.Doc(t, body)
	if got := d.Find("[data-testid=decision-comment]").Text(); got != comment {
		t.Errorf("the requester reads %q, want the lead's comment", got)
	}
	again, ok := d.Find("[data-testid=request-again]").Attr("href")
	if !ok {
		t.Fatal("no Request again for the requester")
	}
	_, body = alice.Get(t, again)
	ad := testkit.Doc(t, body)
	if v, _ := fieldValue(ad, "restore_at"); v != "" {
		t.Errorf("Request again fills in the gone moment %q", v)
	}
	if hint := ad.Find("#restore_at-hint").Text(); !strings.Contains(hint, "too far back; choose a later time") {
		t.Errorf("Request again's hint %q does not ask for a later time", hint)
	}
	if !strings.Contains(body, `value="time" checked`) {
		t.Error("Request again lost the point-in-time choice")
	}
}
