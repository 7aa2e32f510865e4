package notify_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"restoredesk/internal/notify"
	"restoredesk/internal/notify/notifytest"
	"restoredesk/internal/postgres"
)

var slogDiscard = slog.New(slog.NewTextHandler(io.Discard, nil))

// recipients lists "user:status" of the personal deliveries of request id and type.
func recipients(ds []postgres.Delivery, id int64, typ string) []string {
	var out []string
	for _, d := range ds {
		if d.RequestID != nil && *d.RequestID == id && d.Type == typ && d.Username != nil {
			out = append(out, *d.Username+":"+d.Status)
		}
	}
	sort.Strings(out)
	return out
}

// channelDeliveries lists the statuses of the group channel deliveries of
// request id and type.
func channelDeliveries(f *fixture, id int64, typ string) []string {
	f.t.Helper()
	ds, err := postgres.New(f.pool).RequestDeliveries(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		if d.Type == typ && d.ChannelID != nil {
			out = append(out, d.Status)
		}
	}
	return out
}

func body(ds []postgres.Delivery, id int64, typ, user string) string {
	for _, d := range ds {
		if d.RequestID != nil && *d.RequestID == id && d.Type == typ && *d.Username == user {
			return d.Subject + "\n" + d.Body
		}
	}
	return ""
}

// TestWhoGetsWhat walks requests through every transition and checks the
// exact personal recipients of each event (the README's table) and what the
// team's group channel and the global default receive.
func TestWhoGetsWhat(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Status: 200})
	secret := notify.NewWebhookSecret()
	teamHook := f.channel("payments", notify.KindWebhook, "payments hook", "https://hooks.example.com/payments", secret, "127.0.0.1")
	global := f.channel("", notify.KindWebhook, "everyone", "https://hooks.example.com/global", secret, "127.0.0.1")
	smtpd := notifytest.NewSMTP(t, cert, false)
	f.worker(notify.Config{Sender: &notify.Sender{Net: rcv.Net(cert, ""), Mail: testMailer(t, cert, smtpd)}})

	created := f.submit("alice", "payments", "check the totals")
	rejected := f.submit("alice", "payments", "second look")
	cancelled := f.submit("alice", "payments", "not needed")
	expired := f.submit("alice", "payments", "too late")
	ready := f.submit("alice", "payments", "ready one")
	failed := f.submit("alice", "payments", "failing one")
	other := f.submit("frank", "search", "search team")
	if err := f.life.Reject(ctx, f.actor("bob"), rejected, "use yesterday's backup"); err != nil {
		t.Fatal(err)
	}
	if err := f.life.Cancel(ctx, f.actor("alice"), cancelled); err != nil {
		t.Fatal(err)
	}
	f.exec(`UPDATE restore_requests SET expires_at = now() - interval '1 minute' WHERE id = $1`, expired)
	if _, err := f.life.ExpireDue(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{ready, failed} {
		if err := f.life.Approve(ctx, f.actor("grace"), id, ""); err != nil {
			t.Fatal(err)
		}
	}
	f.finish(ready, "request.ready", "ready", map[string]any{"from": "creating", "to": "ready", "instance_id": "mysql-new",
		"internal_domain_name": "mysql-new.rds.example.com", "instance_port": "3306"})
	f.record(ready, "request.duplicate_instance", map[string]any{"instance_ids": []string{"mysql-new", "mysql-dup"},
		"adopted": "mysql-new", "duplicates": []string{"mysql-dup"}, "search": "create"})
	f.finish(failed, "request.failed", "failed", map[string]any{"from": "creating", "to": "failed", "reason": "The backup is no longer available."})
	f.record(ready, "copy.deleted", map[string]any{"copy_id": 1, "instance_id": "mysql-new", "region": "cn-north-1", "how": "deleted"})
	f.record(failed, "copy.delete_failed", map[string]any{"copy_id": 2, "instance_id": "mysql-bad", "region": "cn-north-1",
		"reason": "JD Cloud refused the delete: it needs an operator in the JD Cloud console."})
	ds := f.settle()

	want := []struct {
		id   int64
		typ  string
		want []string
	}{
		{created, "request.created", []string{"bob", "grace"}},
		{rejected, "request.rejected", []string{"alice"}},
		{cancelled, "request.cancelled", []string{"alice"}},
		{expired, "request.expired", []string{"alice"}},
		{ready, "request.approved", []string{"alice"}},
		{ready, "request.ready", []string{"alice"}},
		{ready, "request.duplicate_instance", []string{"erin"}},
		{failed, "request.failed", []string{"alice", "bob", "grace"}},
		{ready, "copy.deleted", []string{"alice"}},
		{failed, "copy.delete_failed", []string{"alice", "bob", "grace"}},
		{other, "request.created", []string{"carol"}},
	}
	for _, w := range want {
		var got []string
		for _, r := range recipients(ds, w.id, w.typ) {
			got = append(got, strings.Split(r, ":")[0])
		}
		if !slices.Equal(got, w.want) {
			t.Errorf("request %d %s: personal recipients %v, want %v", w.id, w.typ, got, w.want)
		}
	}
	if b := body(ds, rejected, "request.rejected", "alice"); !strings.Contains(b, "use yesterday's backup") {
		t.Errorf("the rejection lacks its comment:\n%s", b)
	}
	if b := body(ds, ready, "request.ready", "alice"); !strings.Contains(b, "mysql-new.rds.example.com:3306") {
		t.Errorf("ready lacks the endpoint:\n%s", b)
	}
	if b := body(ds, failed, "request.failed", "bob"); !strings.Contains(b, "The backup is no longer available.") {
		t.Errorf("failed lacks the reason:\n%s", b)
	}
	if b := body(ds, ready, "request.duplicate_instance", "erin"); !strings.Contains(b, "mysql-dup") {
		t.Errorf("the duplicate mail does not name the instance to delete:\n%s", b)
	}
	b := body(ds, created, "request.created", "bob")
	for _, s := range []string{"Restore request #", "payments", "payments-db (mysql-payments)", "nightly (bk-1)", "check the totals",
		"Waiting for bob or grace", "https://restore.example.com/requests/"} {
		if !strings.Contains(b, s) {
			t.Errorf("the new-request mail lacks %q:\n%s", s, b)
		}
	}
	// Every personal delivery reached the SMTP server, except the calls to
	// approve requests decided before the message was sent.
	mails := map[string]int{}
	for _, m := range smtpd.Mails() {
		mails[m.To[0]]++
	}
	sent := map[string]int{}
	for _, d := range ds {
		switch {
		case d.Status == notify.StatusSent:
			sent[*d.Username+"@example.com"]++
		case d.Status == notify.StatusDropped && d.Type == "request.created" && strings.Contains(d.Error, "no longer pending"):
		default:
			t.Errorf("delivery %d (%s to %s) is %s: %s", d.ID, d.Type, *d.Username, d.Status, d.Error)
		}
	}
	if fmt.Sprint(mails) != fmt.Sprint(sent) || len(sent) == 0 {
		t.Errorf("the SMTP server received %v, the deliveries say %v", mails, sent)
	}

	// The group channels: every event of payments' requests on its own hook
	// (not the global one), search's request on the global default.
	byPath := map[string][]string{}
	for _, r := range rcv.Seen() {
		var b struct {
			Type string
			Data struct {
				Request    struct{ ID int64 }
				WaitingFor []string `json:"waiting_for"`
				Action     string
			}
		}
		json.Unmarshal(r.Body, &b)
		byPath[r.Path] = append(byPath[r.Path], fmt.Sprintf("%d %s", b.Data.Request.ID, b.Type))
		if b.Type == "request.created" && b.Data.Request.ID == created && (!slices.Equal(b.Data.WaitingFor, []string{"bob", "grace"}) || !strings.Contains(b.Data.Action, "bob or grace")) {
			t.Errorf("the group message does not say who must act: %s", r.Body)
		}
		verifyStandardWebhook(t, secret, r)
	}
	wantTeam := []string{}
	for _, w := range []struct {
		id  int64
		typ string
	}{{created, "created"}, {rejected, "created"}, {cancelled, "created"}, {expired, "created"}, {ready, "created"}, {failed, "created"},
		{rejected, "rejected"}, {cancelled, "cancelled"}, {expired, "expired"}, {ready, "approved"}, {failed, "approved"}, {ready, "ready"}, {ready, "duplicate_instance"}, {failed, "failed"}} {
		wantTeam = append(wantTeam, fmt.Sprintf("%d request.%s", w.id, w.typ))
	}
	wantTeam = append(wantTeam, fmt.Sprintf("%d copy.deleted", ready), fmt.Sprintf("%d copy.delete_failed", failed))
	sort.Strings(wantTeam)
	got := byPath["/payments"]
	sort.Strings(got)
	if !slices.Equal(got, wantTeam) {
		t.Errorf("payments' channel received\n%v\nwant\n%v", got, wantTeam)
	}
	if g := byPath["/global"]; !slices.Equal(g, []string{fmt.Sprintf("%d request.created", other)}) {
		t.Errorf("the global default received %v", g)
	}
	for _, id := range []int64{teamHook, global} {
		cds, _ := postgres.New(f.pool).ChannelDeliveries(ctx, id, 100)
		for _, d := range cds {
			if d.Status != notify.StatusSent || d.AnswerStatus != 200 {
				t.Errorf("channel delivery %d: %s %d %s", d.ID, d.Status, d.AnswerStatus, d.Error)
			}
		}
	}
}

// A lead removed between the event and the sending gets nothing; the other
// lead still does.
func TestRemovedLeadGetsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	id := f.submit("alice", "payments", "check")
	n := notify.New(f.pool, notify.Config{Outbox: true})
	inserter, _ := jobsInsertOnly(f)
	if q, err := n.Fanout(ctx, inserter); err != nil || q != 2 {
		t.Fatalf("fan-out queued %d, %v", q, err)
	}
	if err := postgres.New(f.pool).DeleteMembership(ctx, f.users["grace"], f.teams["payments"]); err != nil {
		t.Fatal(err)
	}
	f.worker(notify.Config{Outbox: true})
	ds := f.settle()
	if got := recipients(ds, id, "request.created"); !slices.Equal(got, []string{"bob:sent", "grace:dropped"}) {
		t.Errorf("recipients %v", got)
	}
}

// A webhook that answers 503 and then 429 is retried until it answers 200,
// with the same webhook-id and a valid signature each time; one that keeps
// failing ends failed after every retry, keeping its answer.
func TestDeliveryRetries(t *testing.T) {
	f := newFixture(t)
	cert := notifytest.NewCert(t)
	flaky := notifytest.NewReceiver(t, cert, notifytest.Reply{Status: 200})
	flaky.Script(notifytest.Reply{Status: 503, Body: "upstream down"}, notifytest.Reply{Status: 429, Header: map[string]string{"Retry-After": "1"}})
	down := notifytest.NewReceiver(t, cert, notifytest.Reply{Status: 500, Body: `{"error":"boom"}`})
	secret := notify.NewWebhookSecret()
	flakyID := f.channel("payments", notify.KindWebhook, "flaky", "https://flaky.example.com/in", secret, "127.0.0.0/8")
	downID := f.channel("search", notify.KindWebhook, "down", "https://down.example.com/in", secret, "127.0.0.0/8")
	f.submit("alice", "payments", "one")
	f.submit("frank", "search", "two")
	f.worker(notify.Config{Outbox: false, Sender: &notify.Sender{Net: byHost(cert, map[string]*notifytest.Receiver{"flaky.example.com": flaky, "down.example.com": down})}})
	f.settle()
	db := postgres.New(f.pool)

	seen := flaky.Seen()
	if len(seen) != 3 {
		t.Fatalf("the flaky endpoint saw %d attempts, want 3", len(seen))
	}
	for _, r := range seen {
		verifyStandardWebhook(t, secret, r)
		if r.Header.Get("webhook-id") != seen[0].Header.Get("webhook-id") {
			t.Errorf("webhook-id changed across retries: %s, %s", r.Header.Get("webhook-id"), seen[0].Header.Get("webhook-id"))
		}
	}
	ds, _ := db.ChannelDeliveries(t.Context(), flakyID, 10)
	if len(ds) != 1 || ds[0].Status != notify.StatusSent || ds[0].Attempts != 3 || ds[0].AnswerStatus != 200 {
		t.Errorf("flaky delivery %+v", ds)
	}
	ds, _ = db.ChannelDeliveries(t.Context(), downID, 10)
	if len(ds) != 1 || ds[0].Status != notify.StatusFailed || ds[0].Attempts != 4 || ds[0].AnswerStatus != 500 || ds[0].Answer != `{"error":"boom"}` {
		t.Errorf("down delivery %+v", ds)
	}
	if n := len(down.Seen()); n != 4 {
		t.Errorf("the failing endpoint saw %d attempts, want 4 (3 retries)", n)
	}
}

// byHost reaches a different receiver per host name.
func byHost(cert notifytest.Cert, by map[string]*notifytest.Receiver) notify.Net {
	var any *notifytest.Receiver
	for _, r := range by {
		any = r
	}
	n := any.Net(cert, "")
	n.Port = func(host string) string { return by[host].Port() }
	return n
}

// DingTalk takes 20 messages a minute per robot: with 25 due, 20 go and the
// other 5 wait (their jobs snoozed, no attempt used) instead of being refused.
func TestDingTalkRateLimit(t *testing.T) {
	f := newFixture(t)
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Body: `{"errcode":0,"errmsg":"ok"}`})
	ch := f.channel("search", notify.KindDingTalk, "robot", "https://oapi.dingtalk.com/robot/send?access_token=t", "SECx", "")
	for i := range 25 {
		f.submit("frank", "search", fmt.Sprint("request ", i))
	}
	// Two processes share the limit.
	cfg := notify.Config{Sender: &notify.Sender{Net: rcv.Net(cert, "")}}
	f.worker(cfg)
	f.worker(cfg)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var sent, waiting int
		f.pool.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'queued')
			FROM notify_deliveries WHERE channel_id = $1`, ch).Scan(&sent, &waiting)
		var snoozed int
		f.pool.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'notify_deliver' AND state = 'scheduled'`).Scan(&snoozed)
		if sent == 20 && waiting == 5 && snoozed == 5 {
			break
		}
		if sent > 20 || time.Now().After(deadline) {
			t.Fatalf("sent %d, waiting %d, snoozed jobs %d", sent, waiting, snoozed)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(rcv.Seen()); n != 20 {
		t.Errorf("the robot received %d messages, want 20", n)
	}
}
