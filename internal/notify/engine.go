package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"restoredesk/internal/jobs"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
)

// Queue is the River queue of notification work.
const Queue = "notify"

// Config tunes notifications. Zero durations take the defaults noted.
type Config struct {
	BaseURL *url.URL // links to request pages; nil: messages carry no link
	// Outbox keeps every delivery in the built-in outbox instead of sending
	// it (demo mode: no network).
	Outbox bool
	Sender *Sender // how deliveries leave; unused with Outbox
	Box    *Box    // opens channel secrets; nil: NOTIFY_SECRET_KEY not set
	// RemindAfter and EscalateAfter: how long a pending request waits before
	// its approvers are reminded (default 4h) and before every lead of the
	// team and the admins are told (default 24h).
	RemindAfter, EscalateAfter time.Duration
	// FanoutEvery is how often new audit events are turned into deliveries
	// (default 2s); ReminderEvery how often reminders are looked for (1m).
	FanoutEvery, ReminderEvery time.Duration
	// Backoff is the wait before each retry of a failed delivery; its length
	// is the number of retries (default 10s, 1m, 5m, 30m, 2h, 5h, 10h). An
	// endpoint's Retry-After is honoured when it is longer.
	Backoff []time.Duration
	Log     *slog.Logger
}

// DefaultBackoff is the retry schedule of a failed delivery: about 18 hours
// in all, in the spirit of the Standard Webhooks recommendation.
var DefaultBackoff = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}

// Notifier turns audit events into deliveries and delivers them, as River
// jobs. It is a jobs.Kind.
type Notifier struct {
	pool *pgxpool.Pool
	cfg  Config
}

// New returns a Notifier on pool.
func New(pool *pgxpool.Pool, cfg Config) *Notifier {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.RemindAfter, 4*time.Hour)
	def(&cfg.EscalateAfter, 24*time.Hour)
	def(&cfg.FanoutEvery, 2*time.Second)
	def(&cfg.ReminderEvery, time.Minute)
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Sender == nil {
		cfg.Sender = &Sender{}
	}
	return &Notifier{pool: pool, cfg: cfg}
}

// Register adds the notification workers, their queue and the periodic
// fan-out and reminder jobs.
func (n *Notifier) Register(r *jobs.Registry) error {
	if err := river.AddWorkerSafely(r.Workers(), &deliverWorker{n: n}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(r.Workers(), &fanoutWorker{n: n}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(r.Workers(), &remindWorker{n: n}); err != nil {
		return err
	}
	r.Queue(Queue, 4)
	r.Periodic("notify_fanout", n.cfg.FanoutEvery, func() river.JobArgs { return FanoutArgs{} })
	r.Periodic("notify_remind", n.cfg.ReminderEvery, func() river.JobArgs { return RemindArgs{} })
	return nil
}

// DeliverArgs is the job of one delivery.
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "notify_deliver" }

// InsertOpts: one job per delivery at a time; a resend after the job
// finished inserts a new one.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// FanoutArgs is the periodic job that turns new audit events into deliveries.
type FanoutArgs struct{}

// Kind implements river.JobArgs.
func (FanoutArgs) Kind() string { return "notify_fanout" }

// InsertOpts puts it on the notification queue.
func (FanoutArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// RemindArgs is the periodic job that sends reminders and escalations.
type RemindArgs struct{}

// Kind implements river.JobArgs.
func (RemindArgs) Kind() string { return "notify_remind" }

// InsertOpts puts it on the notification queue.
func (RemindArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

type fanoutWorker struct {
	river.WorkerDefaults[FanoutArgs]
	n *Notifier
}

func (w *fanoutWorker) Work(ctx context.Context, job *river.Job[FanoutArgs]) error {
	_, err := w.n.Fanout(ctx, river.ClientFromContext[pgx.Tx](ctx))
	return err
}

type remindWorker struct {
	river.WorkerDefaults[RemindArgs]
	n *Notifier
}

func (w *remindWorker) Work(ctx context.Context, job *river.Job[RemindArgs]) error {
	_, err := w.n.Remind(ctx, river.ClientFromContext[pgx.Tx](ctx))
	return err
}

// fanoutBatch bounds the events read in one transaction.
const fanoutBatch = 200

// Fanout turns the audit events recorded since the last run into queued
// deliveries and their jobs, in the transaction that moves the cursor: each
// event is fanned out exactly once, whichever process runs it. It returns
// how many deliveries it queued.
func (n *Notifier) Fanout(ctx context.Context, client *jobs.Client) (int, error) {
	total := 0
	for {
		queued, read, err := n.fanoutOnce(ctx, client)
		total += queued
		if err != nil || read < fanoutBatch {
			return total, err
		}
	}
}

func (n *Notifier) fanoutOnce(ctx context.Context, client *jobs.Client) (queued, read int, err error) {
	err = pgx.BeginFunc(ctx, n.pool, func(tx pgx.Tx) error {
		db := postgres.New(tx)
		seq, ok, err := db.LockNotifyCursor(ctx)
		if err != nil || !ok {
			return err // another process is fanning out
		}
		events, err := db.EventsAfter(ctx, seq, fanoutBatch)
		if err != nil || len(events) == 0 {
			return err
		}
		read = len(events)
		var ids []int64
		for _, e := range events {
			got, err := n.plan(ctx, db, e)
			if err != nil {
				return fmt.Errorf("fan out event %d: %w", e.Seq, err)
			}
			ids = append(ids, got...)
		}
		if err := enqueue(ctx, client, tx, ids); err != nil {
			return err
		}
		queued = len(ids)
		return db.SetNotifyCursor(ctx, events[len(events)-1].Seq)
	})
	return queued, read, err
}

// plan creates the deliveries of one audit event: its personal recipients
// as of now (they are checked again when each message is sent) and the
// team's group channels.
func (n *Notifier) plan(ctx context.Context, db *postgres.DB, e postgres.NotifyEvent) ([]int64, error) {
	if e.TargetType != "request" || !slices.Contains(GroupActions, e.Action) {
		return nil, nil
	}
	id, err := strconv.ParseInt(e.TargetID, 10, 64)
	if err != nil {
		return nil, nil
	}
	r, err := db.Request(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	seq := e.Seq
	var ids []int64
	add := func(nd postgres.NewDelivery) error {
		nd.Type, nd.AuditSeq, nd.RequestID = e.Action, &seq, &r.ID
		did, err := db.InsertDelivery(ctx, nd)
		if did != 0 {
			ids = append(ids, did)
		}
		return err
	}
	seen := map[int64]bool{}
	for _, role := range personalRoles[e.Action] {
		var users []int64
		switch role {
		case RoleRequester:
			users = []int64{r.RequesterID}
		case RoleApprover:
			as, err := db.Approvers(ctx, r.TeamID, r.RequesterID)
			if err != nil {
				return nil, err
			}
			for _, a := range as {
				users = append(users, a.ID)
			}
		case RoleAdmin:
			as, err := db.Admins(ctx)
			if err != nil {
				return nil, err
			}
			for _, a := range as {
				users = append(users, a.ID)
			}
		}
		for _, u := range users {
			if seen[u] {
				continue
			}
			seen[u] = true
			if err := add(postgres.NewDelivery{UserID: &u, Role: role}); err != nil {
				return nil, err
			}
		}
	}
	channels, err := db.GroupChannels(ctx, r.TeamID)
	if err != nil {
		return nil, err
	}
	for _, c := range channels {
		if err := add(postgres.NewDelivery{ChannelID: &c.ID}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// enqueue inserts one delivery job per id in tx.
func enqueue(ctx context.Context, client *jobs.Client, tx pgx.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: DeliverArgs{DeliveryID: id}}
	}
	if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queue deliveries: %w", err)
	}
	return nil
}

// Remind sends each pending request's reminder once REMIND_AFTER has passed
// and its escalation once ESCALATE_AFTER has, each at most once: the mark
// and the deliveries commit together, under the request's row lock, after
// checking it is still pending. It returns how many deliveries it queued.
func (n *Notifier) Remind(ctx context.Context, client *jobs.Client) (int, error) {
	total := 0
	for _, k := range []struct {
		kind, typ string
		after     time.Duration
	}{{"reminder", TypeReminder, n.cfg.RemindAfter}, {"escalation", TypeEscalation, n.cfg.EscalateAfter}} {
		ids, err := postgres.New(n.pool).DueReminders(ctx, k.kind, k.after, 100)
		if err != nil {
			return total, err
		}
		for _, id := range ids {
			err := pgx.BeginFunc(ctx, n.pool, func(tx pgx.Tx) error {
				db := postgres.New(tx)
				r, err := db.RequestForUpdate(ctx, id)
				if err != nil || r.Status != request.Pending || !r.ExpiresAt.After(time.Now()) {
					return err
				}
				if first, err := db.MarkReminder(ctx, id, k.kind); err != nil || !first {
					return err
				}
				dids, err := n.remindDeliveries(ctx, db, r, k.typ)
				if err != nil {
					return err
				}
				total += len(dids)
				return enqueue(ctx, client, tx, dids)
			})
			if err != nil {
				return total, fmt.Errorf("%s of request %d: %w", k.kind, id, err)
			}
		}
	}
	return total, nil
}

// remindDeliveries: a reminder goes to the approvers (none has decided, or
// the request would not be pending); an escalation to every lead of the team
// and every admin, never to the requester. Both also go to the team's group
// channels, where they say who must act.
func (n *Notifier) remindDeliveries(ctx context.Context, db *postgres.DB, r request.Request, typ string) ([]int64, error) {
	leads, err := db.Approvers(ctx, r.TeamID, r.RequesterID)
	if err != nil {
		return nil, err
	}
	type rcpt struct {
		id   int64
		role string
	}
	var to []rcpt
	for _, u := range leads {
		role := RoleApprover
		if typ == TypeEscalation {
			role = RoleLead
		}
		to = append(to, rcpt{u.ID, role})
	}
	if typ == TypeEscalation {
		admins, err := db.Admins(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range admins {
			if a.ID != r.RequesterID && !slices.ContainsFunc(to, func(x rcpt) bool { return x.id == a.ID }) {
				to = append(to, rcpt{a.ID, RoleAdmin})
			}
		}
	}
	var ids []int64
	for _, t := range to {
		id, err := db.InsertDelivery(ctx, postgres.NewDelivery{UserID: &t.id, Role: t.role, Type: typ, RequestID: &r.ID})
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	channels, err := db.GroupChannels(ctx, r.TeamID)
	if err != nil {
		return nil, err
	}
	for _, c := range channels {
		id, err := db.InsertDelivery(ctx, postgres.NewDelivery{ChannelID: &c.ID, Type: typ, RequestID: &r.ID})
		if err != nil {
			return nil, err
		}
		if id != 0 {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// jitter spreads retries by ±10%.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}
