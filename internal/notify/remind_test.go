package notify_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/notify"
	"restoredesk/internal/postgres"
)

// Reminders and escalations fire once each, at the right time, across two
// worker processes running the reminder job every 100ms, and never for a
// request that left pending; a user who turned reminder mail off gets none.
func TestRemindersOnceAcrossTwoWorkers(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	db := postgres.New(f.pool)
	if err := db.SetReminderMail(ctx, f.users["bob"], false); err != nil {
		t.Fatal(err)
	}
	aged := func(id int64, d time.Duration) {
		f.exec(`UPDATE restore_requests SET created_at = now() - make_interval(secs => $2) WHERE id = $1`, id, d.Seconds())
	}
	remind := f.submit("alice", "payments", "waited 5h")       // reminder only
	escalate := f.submit("alice", "payments", "waited 25h")    // reminder and escalation
	decided := f.submit("alice", "payments", "approved first") // left pending: nothing
	young := f.submit("alice", "payments", "waited 1h")        // not yet
	aged(remind, 5*time.Hour)
	aged(escalate, 25*time.Hour)
	aged(decided, 30*time.Hour)
	aged(young, time.Hour)
	if err := f.life.Approve(ctx, f.actor("bob"), decided, ""); err != nil {
		t.Fatal(err)
	}
	f.channel("payments", notify.KindWebhook, "payments hook", "https://hooks.example.com/payments", notify.NewWebhookSecret(), "")
	// Two processes, each with its own pool and River client.
	f.worker(notify.Config{Outbox: true})
	f.worker(notify.Config{Outbox: true})
	waitRuns(t, f, 10)
	ds := f.settle()

	check := func(id int64, typ string, want []string) {
		t.Helper()
		if got := recipients(ds, id, typ); !slices.Equal(got, want) {
			t.Errorf("request %d %s: %v, want %v", id, typ, got, want)
		}
	}
	check(remind, notify.TypeReminder, []string{"bob:dropped", "grace:sent"})
	check(remind, notify.TypeEscalation, nil)
	check(escalate, notify.TypeReminder, []string{"bob:dropped", "grace:sent"})
	check(escalate, notify.TypeEscalation, []string{"bob:sent", "erin:sent", "grace:sent"}) // leads and the admin, not alice
	check(decided, notify.TypeReminder, nil)
	check(decided, notify.TypeEscalation, nil)
	check(young, notify.TypeReminder, nil)
	// The team's group channel is nudged too, once per reminder and escalation.
	for _, c := range []struct {
		id   int64
		typ  string
		want []string
	}{
		{remind, notify.TypeReminder, []string{"sent"}}, {remind, notify.TypeEscalation, nil},
		{escalate, notify.TypeReminder, []string{"sent"}}, {escalate, notify.TypeEscalation, []string{"sent"}},
		{decided, notify.TypeReminder, nil}, {young, notify.TypeReminder, nil},
	} {
		if got := channelDeliveries(f, c.id, c.typ); !slices.Equal(got, c.want) {
			t.Errorf("request %d %s on the group channel: %v, want %v", c.id, c.typ, got, c.want)
		}
	}
	if b := body(ds, escalate, notify.TypeEscalation, "grace"); !strings.Contains(b, "Waiting for bob or grace") {
		t.Errorf("the escalation does not say who must act:\n%s", b)
	}

	// Its time comes: the young request is reminded, once.
	aged(young, 4*time.Hour+time.Minute)
	waitRuns(t, f, 10)
	ds = f.settle()
	check(young, notify.TypeReminder, []string{"bob:dropped", "grace:sent"})
	check(remind, notify.TypeReminder, []string{"bob:dropped", "grace:sent"})
}

// A reminder queued while the request was pending is dropped when the
// request is decided before it is sent.
func TestReminderDroppedAfterDecision(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	id := f.submit("alice", "payments", "x")
	f.exec(`UPDATE restore_requests SET created_at = now() - interval '5 hours' WHERE id = $1`, id)
	f.channel("payments", notify.KindWebhook, "payments hook", "https://hooks.example.com/payments", notify.NewWebhookSecret(), "")
	n := notify.New(f.pool, notify.Config{Outbox: true})
	inserter, _ := jobsInsertOnly(f)
	if q, err := n.Remind(ctx, inserter); err != nil || q != 3 {
		t.Fatalf("Remind queued %d, %v", q, err)
	}
	if q, err := n.Remind(ctx, inserter); err != nil || q != 0 {
		t.Fatalf("a second Remind queued %d, %v", q, err)
	}
	if err := f.life.Reject(ctx, f.actor("grace"), id, "no"); err != nil {
		t.Fatal(err)
	}
	f.worker(notify.Config{Outbox: true})
	ds := f.settle()
	if got := recipients(ds, id, notify.TypeReminder); !slices.Equal(got, []string{"bob:dropped", "grace:dropped"}) {
		t.Errorf("reminders %v", got)
	}
	if got := channelDeliveries(f, id, notify.TypeReminder); !slices.Equal(got, []string{"dropped"}) {
		t.Errorf("the group channel's reminder %v, want dropped", got)
	}
}

// waitRuns waits until the reminder job has completed n more times.
func waitRuns(t *testing.T, f *fixture, n int) {
	t.Helper()
	count := func() int {
		var c int
		f.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'notify_remind' AND state = 'completed'`).Scan(&c)
		return c
	}
	start := count()
	deadline := time.Now().Add(30 * time.Second)
	for count() < start+n {
		if time.Now().After(deadline) {
			t.Fatalf("the reminder job did not run %d times", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Many processes looking for due reminders at the same moment queue each
// reminder once between them.
func TestConcurrentRemindQueuesOnce(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		id := f.submit("alice", "payments", "x")
		f.exec(`UPDATE restore_requests SET created_at = now() - interval '30 hours' WHERE id = $1`, id)
	}
	inserter, _ := jobsInsertOnly(f)
	totals := make([]int, 8)
	errs := make([]error, 8)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range totals {
		wg.Go(func() {
			pool, err := pgxpool.New(context.Background(), f.url)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			<-start
			totals[i], errs[i] = notify.New(pool, notify.Config{Outbox: true}).Remind(context.Background(), inserter)
		})
	}
	close(start)
	wg.Wait()
	sum := 0
	for i := range totals {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		sum += totals[i]
	}
	// Per request: a reminder to bob and grace, an escalation to bob, grace and erin.
	if sum != 3*5 {
		t.Errorf("queued %d deliveries in all, want 15", sum)
	}
	var n int
	f.pool.QueryRow(context.Background(), `SELECT count(*) FROM notify_deliveries`).Scan(&n)
	if n != 15 {
		t.Errorf("%d deliveries stored, want 15", n)
	}
}
