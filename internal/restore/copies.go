package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jobs"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
)

// The copies' River job kinds.
const (
	// KindCopyCheck is the periodic job that records new copies and
	// inserts the deletion job of every copy whose time has come.
	KindCopyCheck = "copy_check"
	// KindCopyDelete is one copy's deletion: one job per copy.
	KindCopyDelete = "copy_delete"
)

// copyLockNamespace keeps the copies' advisory locks apart from the requests'.
const copyLockNamespace = int64(0x5243) << 48 // "RC"

// The words a failed deletion leaves on its copy.
const (
	// NeedsOperator: JD Cloud refused the delete for the key (operation
	// protection, or no permission): a person must delete it in the console.
	NeedsOperator = "JD Cloud refused the delete: it needs an operator in the JD Cloud console " +
		"(or the key's sub-user needs deleteInstance with operation protection off)."
	// NotOurs: the instance no longer carries the request's tag; Restore
	// Desk never deletes an instance it cannot prove it made.
	NotOurs = "The instance no longer carries this request's tag, so Restore Desk did not delete it."
)

// CopiesConfig tunes the deletion of copies. Zero values take the defaults noted.
type CopiesConfig struct {
	// CheckEvery is how often new copies are recorded and due ones get
	// their deletion job (default 1m).
	CheckEvery time.Duration
	// Wait is how long a deletion waits for a copy that is still building
	// or already being deleted before it looks again (default 30s).
	Wait time.Duration
	// RetryBase and RetryMax bound the backoff between deletes that did
	// not take (defaults 10s and 10m); MaxDeleteAttempts (default 5) ends
	// in Delete failed.
	RetryBase, RetryMax time.Duration
	MaxDeleteAttempts   int
}

func (c *CopiesConfig) defaults() {
	c.CheckEvery = or(c.CheckEvery, time.Minute)
	c.Wait = or(c.Wait, 30*time.Second)
	c.RetryBase = or(c.RetryBase, 10*time.Second)
	c.RetryMax = or(c.RetryMax, 10*time.Minute)
	if c.MaxDeleteAttempts <= 0 {
		c.MaxDeleteAttempts = 5
	}
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Copies deletes restored copies when their time comes: a jobs.Kind. It
// reaches JD Cloud through the worker's client and tags.
type Copies struct {
	pool *pgxpool.Pool
	w    *Worker
	cfg  CopiesConfig
	log  *slog.Logger
}

// NewCopies returns the copies' deletion, using w's JD Cloud client and tags.
func NewCopies(pool *pgxpool.Pool, w *Worker, cfg CopiesConfig) *Copies {
	cfg.defaults()
	return &Copies{pool: pool, w: w, cfg: cfg, log: w.cfg.Log}
}

// CopyCheckArgs is the periodic job of the copies.
type CopyCheckArgs struct{}

// Kind implements river.JobArgs.
func (CopyCheckArgs) Kind() string { return KindCopyCheck }

// InsertOpts puts it on the restore queue.
func (CopyCheckArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// CopyDeleteArgs is the deletion job of one copy: each run one bounded
// step, then it snoozes until the next is due.
type CopyDeleteArgs struct {
	CopyID int64 `json:"copy_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (CopyDeleteArgs) Kind() string { return KindCopyDelete }

// InsertOpts: one live job per copy, as the execution has per request.
func (CopyDeleteArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 100,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: notFinalized}}
}

// Register adds the check and the deletion to the job engine.
func (c *Copies) Register(r *jobs.Registry) error {
	if err := river.AddWorkerSafely(r.Workers(), &copyCheckWorker{c: c}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(r.Workers(), &copyDeleteWorker{c: c}); err != nil {
		return err
	}
	r.Periodic(KindCopyCheck, c.cfg.CheckEvery, func() river.JobArgs { return CopyCheckArgs{} })
	return nil
}

// ScheduleDeletion inserts copy id's deletion job in tx (skipped when one is alive).
func ScheduleDeletion(ctx context.Context, client *jobs.Client, tx pgx.Tx, id int64) error {
	if _, err := client.InsertTx(ctx, tx, CopyDeleteArgs{CopyID: id}, nil); err != nil {
		return fmt.Errorf("schedule the deletion of copy %d: %w", id, err)
	}
	return nil
}

type copyCheckWorker struct {
	river.WorkerDefaults[CopyCheckArgs]
	c *Copies
}

// Work records the copies of newly ready or failed requests and of new
// duplicates, then inserts the deletion job of each due copy, in one
// transaction; River skips the copies whose job is alive.
func (k *copyCheckWorker) Work(ctx context.Context, job *river.Job[CopyCheckArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	return pgx.BeginFunc(ctx, k.c.pool, func(tx pgx.Tx) error {
		db := postgres.New(tx)
		if n, err := db.AddMissingCopies(ctx); err != nil {
			return err
		} else if n > 0 {
			k.c.log.InfoContext(ctx, "recorded new copies", "count", n)
		}
		ids, err := db.DueCopies(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := ScheduleDeletion(ctx, client, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

type copyDeleteWorker struct {
	river.WorkerDefaults[CopyDeleteArgs]
	c *Copies
}

// Work runs one step of the copy's deletion and snoozes until the next.
func (k *copyDeleteWorker) Work(ctx context.Context, job *river.Job[CopyDeleteArgs]) error {
	next, err := k.c.Step(ctx, job.Args.CopyID)
	switch {
	case errors.Is(err, postgres.ErrNotFound):
		return nil
	case err != nil:
		return err
	case next.Busy:
		return river.JobSnooze(busySnooze)
	case next.Done:
		return nil
	}
	return river.JobSnooze(max(next.After, 10*time.Millisecond))
}

// Timeout is one step's bound, as the execution's.
func (k *copyDeleteWorker) Timeout(*river.Job[CopyDeleteArgs]) time.Duration {
	return JobTimeout(k.c.w.cfg.ClientTimeout)
}

// Step does the next piece of copy id's deletion, under the copy's
// advisory lock, and says when to look again. It returns an error only for
// database trouble; JD Cloud trouble becomes the copy's state or a retry.
func (c *Copies) Step(ctx context.Context, id int64) (Next, error) {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return Next{}, fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	db := postgres.New(conn)
	locked, err := db.TryAdvisoryLock(ctx, copyLockNamespace|id)
	if err != nil {
		return Next{}, fmt.Errorf("lock copy: %w", err)
	}
	if !locked {
		return Next{Busy: true}, nil
	}
	defer db.AdvisoryUnlock(context.WithoutCancel(ctx), copyLockNamespace|id)
	cp, err := db.Copy(ctx, id)
	if err != nil {
		return Next{}, err
	}
	now, err := db.Now(ctx)
	if err != nil {
		return Next{}, err
	}
	s := &copyStep{c: c, db: db, cp: cp, now: now}
	return s.run(ctx)
}

// copyStep is one step on one copy, on the connection holding its lock.
type copyStep struct {
	c   *Copies
	db  *postgres.DB
	cp  postgres.Copy
	now time.Time
}

func (s *copyStep) run(ctx context.Context) (Next, error) {
	cp, cfg := s.cp, s.c.cfg
	if cp.State != postgres.CopyRunning && cp.State != postgres.CopyDeleting {
		return Next{Done: true}, nil
	}
	if cp.DeleteAt == nil {
		return Next{Done: true}, nil // not set: never deleted automatically
	}
	if cp.DeleteAt.After(s.now) {
		return Next{After: cp.DeleteAt.Sub(s.now)}, nil // extended meanwhile
	}
	if cp.State == postgres.CopyRunning && cp.RemindOnly && !cp.Prepaid && cp.DeleteAskedAt == nil {
		return Next{Done: true}, s.set(ctx, postgres.CopyUpdate{State: ptr(postgres.CopyOverdue)})
	}
	cloud := s.c.w.cloud(ctx, s.db, request.Request{ID: cp.RequestID, TeamID: cp.TeamID})
	in, err := cloud.DescribeInstanceAttributes(ctx, cp.Region, cp.InstanceID)
	switch {
	case jdcloud.IsNotFound(err):
		return Next{Done: true}, s.gone(ctx)
	case err != nil:
		s.c.log.WarnContext(ctx, "copy look-up failed; looking again", "copy", cp.ID, "err", err)
		return Next{After: cfg.Wait}, nil
	}
	if v, ok := in.Tag(TagKey); !ok || v != s.c.w.tag(request.Request{ID: cp.RequestID}) {
		return Next{Done: true}, s.failed(ctx, NotOurs, nil)
	}
	if cp.Prepaid || (in.Charge != nil && in.Charge.ChargeMode == jdcloud.ChargePrepaidByDuration) {
		return s.prepaid(ctx, in)
	}
	if in.InstanceStatus != jdcloud.StatusRunning {
		// Building: only a running instance can be deleted. Deleting: ours
		// (or someone's) delete is under way; the next look finds it gone.
		return Next{After: cfg.Wait}, nil
	}
	if cp.State == postgres.CopyDeleting && cp.DeleteSentAt != nil {
		// A delete was sent and the copy still runs: it did not take.
		if cp.DeleteAttempts >= cfg.MaxDeleteAttempts {
			return Next{Done: true}, s.failed(ctx, lastFailure(cp), nil)
		}
		if wait := cp.DeleteSentAt.Add(s.c.w.backoff(cfg.RetryBase, cfg.RetryMax, cp.DeleteAttempts)).Sub(s.now); wait > 0 {
			return Next{After: wait}, nil
		}
	}
	return s.delete(ctx, cloud)
}

// delete commits that a delete is being sent, then sends it.
func (s *copyStep) delete(ctx context.Context, cloud *jdcloud.Client) (Next, error) {
	cp, cfg := s.cp, s.c.cfg
	if err := s.set(ctx, postgres.CopyUpdate{State: ptr(postgres.CopyDeleting), DeleteSent: true}); err != nil {
		return Next{}, err
	}
	s.cp.State = postgres.CopyDeleting
	err := cloud.DeleteInstance(ctx, cp.Region, cp.InstanceID)
	api, _ := errors.AsType[*jdcloud.APIError](err)
	switch {
	case err == nil:
		return Next{After: min(cfg.Wait, 5*time.Second)}, nil
	case jdcloud.IsNotFound(err):
		return Next{Done: true}, s.gone(ctx)
	case api != nil && (api.HTTPStatus == http.StatusForbidden || api.HTTPStatus == http.StatusUnauthorized):
		return Next{Done: true}, s.failed(ctx, NeedsOperator, err)
	}
	// Not performed, refused for now or unknown: the next step looks at
	// the copy first, and sends again after the backoff if it still runs.
	reason := "JD Cloud did not delete the copy: " + jdcloud.Describe(err)
	if _, e := s.db.UpdateCopy(ctx, cp.ID, postgres.CopyUpdate{ExpectState: postgres.CopyDeleting,
		Failure: failureJSON(reason, jdcloudFacts(err))}); e != nil {
		return Next{}, e
	}
	return Next{After: s.c.w.backoff(cfg.RetryBase, cfg.RetryMax, cp.DeleteAttempts+1)}, nil
}

// prepaid follows a prepaid copy: it cannot be deleted before its period
// ends, so its deletion time is that end, and it is Deleted once JD Cloud
// removes it. No delete is ever sent.
func (s *copyStep) prepaid(ctx context.Context, in jdcloud.Instance) (Next, error) {
	if !s.cp.Prepaid {
		if _, err := s.db.UpdateCopy(ctx, s.cp.ID, postgres.CopyUpdate{ExpectState: s.cp.State, Prepaid: ptr(true)}); err != nil {
			return Next{}, err
		}
	}
	if in.Charge != nil {
		if end, err := time.Parse(time.RFC3339, in.Charge.ChargeExpiredTime); err == nil && !end.Equal(*s.cp.DeleteAt) {
			if _, err := s.db.UpdateCopy(ctx, s.cp.ID, postgres.CopyUpdate{ExpectState: s.cp.State, DeleteAt: &end}); err != nil {
				return Next{}, err
			}
			if end.After(s.now) {
				return Next{After: end.Sub(s.now)}, nil
			}
		}
	}
	return Next{After: time.Hour}, nil // past its end: JD Cloud removes it within days
}

// gone ends a copy JD Cloud no longer has: Deleted when we sent the delete
// (or it was prepaid and expired), Deleted outside Restore Desk otherwise.
func (s *copyStep) gone(ctx context.Context) error {
	cp := s.cp
	if cp.DeleteSentAt == nil && !cp.Prepaid {
		return s.set(ctx, postgres.CopyUpdate{State: ptr(postgres.CopyGoneOutside), Finished: true})
	}
	how := "deleted"
	details := map[string]any{"copy_id": cp.ID, "instance_id": cp.InstanceID, "region": cp.Region}
	if cp.DeleteSentAt != nil {
		details["delete_sent_at"] = cp.DeleteSentAt.UTC().Format(time.RFC3339)
	} else {
		how = "gone"
	}
	details["how"] = how
	return s.event(ctx, postgres.CopyUpdate{State: ptr(postgres.CopyDeleted), Finished: true}, audit.CopyDeleted, details)
}

// failed ends the copy in Delete failed with reason and JD Cloud's answer.
func (s *copyStep) failed(ctx context.Context, reason string, cause error) error {
	cp := s.cp
	details := map[string]any{"copy_id": cp.ID, "instance_id": cp.InstanceID, "region": cp.Region, "reason": reason}
	f := jdcloudFacts(cause)
	if f == nil {
		// Giving up after several deletes: JD Cloud's last answer, if any.
		var last struct {
			JDCloud map[string]any `json:"jdcloud"`
		}
		if json.Unmarshal(cp.Failure, &last) == nil {
			f = last.JDCloud
		}
	}
	if f != nil {
		details["jdcloud"] = f
	}
	return s.event(ctx, postgres.CopyUpdate{State: ptr(postgres.CopyDeleteFailed), Finished: true,
		Failure: failureJSON(reason, f)}, audit.CopyDeleteFailed, details)
}

// set changes the copy from the state it was read in.
func (s *copyStep) set(ctx context.Context, u postgres.CopyUpdate) error {
	u.ExpectState = s.cp.State
	_, err := s.db.UpdateCopy(ctx, s.cp.ID, u)
	return err
}

// event changes the copy and records action in one transaction.
func (s *copyStep) event(ctx context.Context, u postgres.CopyUpdate, action string, details map[string]any) error {
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		u.ExpectState = s.cp.State
		ok, err := tx.UpdateCopy(ctx, s.cp.ID, u)
		if err != nil || !ok {
			return err
		}
		_, err = audit.Record(ctx, tx.Conn(), audit.Event{Actor: audit.System, Action: action,
			TargetType: audit.TargetRequest, TargetID: strconv.FormatInt(s.cp.RequestID, 10), TeamID: s.cp.TeamID, Details: details})
		return err
	})
}

// jdcloudFacts is JD Cloud's answer in cause, for the audit details (nil without one).
func jdcloudFacts(cause error) map[string]any {
	api, ok := errors.AsType[*jdcloud.APIError](cause)
	if !ok {
		return nil
	}
	return map[string]any{"http_status": api.HTTPStatus, "code": api.Code, "status": api.Status,
		"message": api.Message, "request_id": api.RequestID}
}

// failureJSON is what a copy stores of a failed delete: the reason and
// JD Cloud's answer, when there is one.
func failureJSON(reason string, facts map[string]any) json.RawMessage {
	f := map[string]any{"reason": reason}
	if facts != nil {
		f["jdcloud"] = facts
	}
	b, _ := json.Marshal(f)
	return b
}

// lastFailure is the reason of the copy's last failed delete, in words.
func lastFailure(cp postgres.Copy) string {
	var f struct {
		Reason string `json:"reason"`
	}
	if json.Unmarshal(cp.Failure, &f) == nil && f.Reason != "" {
		return fmt.Sprintf("Gave up after %d deletes: %s", cp.DeleteAttempts, f.Reason)
	}
	return fmt.Sprintf("Gave up after %d deletes: the copy still runs.", cp.DeleteAttempts)
}
