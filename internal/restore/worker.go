package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
)

// TagKey is the tag every instance Restore Desk creates carries; its value is
// "<deployment id>/<request id>", the only way the worker recognises its own
// instance (names are not unique and creates have no idempotency key).
const TagKey = "restoredesk"

// maxCheckAttempts bounds the tries to re-check the backup before creating
// while JD Cloud keeps failing: the request fails then instead of waiting on.
const maxCheckAttempts = 10

// wakeChannel is the PostgreSQL notification channel that wakes workers when a
// request is approved, so execution starts without waiting for the next poll.
const wakeChannel = "restoredesk_work"

// lockNamespace is ORed into the session advisory lock a worker holds on a
// request while it works on it: with it, replicas never work on one request at
// once, and a crashed worker's lock goes with its connection.
const lockNamespace = int64(0x5244) << 48 // "RD"

// WorkerConfig tunes the worker. Zero values take the defaults noted.
type WorkerConfig struct {
	// Cloud returns a JD Cloud client that reports each call to observe.
	Cloud func(observe func(jdcloud.CallInfo)) *jdcloud.Client
	// DeploymentID is this database's deployment id (the tag prefix).
	DeploymentID string
	// VisibilityWindow is how long to look for the tagged instance after an
	// ambiguous create before concluding it did not happen (default 2m).
	VisibilityWindow time.Duration
	// BuildTimeout fails a request whose instance is not running after this (default 2h).
	BuildTimeout time.Duration
	// MaxCreateAttempts bounds the creates tried for one request (default 5).
	MaxCreateAttempts int
	// RetryBase is the first backoff after a create that was not performed;
	// it doubles per attempt up to RetryMax (defaults 2s and 1m).
	RetryBase, RetryMax time.Duration
	// PollBase and PollMax bound the backoff between status polls and tag
	// searches (defaults 2s and 10s).
	PollBase, PollMax time.Duration
	// Tick is how often due work is looked for without a notification (default 1s).
	Tick time.Duration
	// Concurrency is how many requests one worker works on at once (default 4).
	Concurrency int
	Log         *slog.Logger
}

func (c *WorkerConfig) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.VisibilityWindow, 2*time.Minute)
	def(&c.BuildTimeout, 2*time.Hour)
	def(&c.RetryBase, 2*time.Second)
	def(&c.RetryMax, time.Minute)
	def(&c.PollBase, 2*time.Second)
	def(&c.PollMax, 10*time.Second)
	def(&c.Tick, time.Second)
	if c.MaxCreateAttempts <= 0 {
		c.MaxCreateAttempts = 5
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Worker executes approved requests: it re-checks the backup, creates the
// instance at most once, and follows it until it runs. Its durable state is
// the request row, so any number of workers may run against one database, and
// a crash or restart resumes where the last committed step left off.
type Worker struct {
	pool *pgxpool.Pool
	cfg  WorkerConfig
	life *Lifecycle
}

// NewWorker returns a worker on pool. life expires stale pending requests.
func NewWorker(pool *pgxpool.Pool, life *Lifecycle, cfg WorkerConfig) *Worker {
	cfg.defaults()
	// Each request in hand holds one connection; keep two for the listener
	// and the look for due work, so the worker never waits on itself.
	if most := int(pool.Config().MaxConns) - 2; cfg.Concurrency > most {
		cfg.Concurrency = max(1, most)
	}
	return &Worker{pool: pool, cfg: cfg, life: life}
}

// Run works until ctx ends: on every notification and every tick it takes the
// requests that are due, and every so often it expires stale pending ones.
func (w *Worker) Run(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	go w.listen(ctx, wake)
	tick := time.NewTicker(w.cfg.Tick)
	defer tick.Stop()
	lastExpiry := time.Time{}
	sem := make(chan struct{}, w.cfg.Concurrency)
	var busy sync.Map // request ids being worked on by this process
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		if time.Since(lastExpiry) > 10*w.cfg.Tick {
			if n, err := w.life.ExpireDue(ctx); err != nil && ctx.Err() == nil {
				w.cfg.Log.ErrorContext(ctx, "expire pending requests", "err", err)
			} else if n > 0 {
				w.cfg.Log.InfoContext(ctx, "expired pending requests", "count", n)
			}
			lastExpiry = time.Now()
		}
		ids, err := postgres.New(w.pool).DueRequests(ctx, 4*w.cfg.Concurrency)
		if err != nil && ctx.Err() == nil {
			w.cfg.Log.ErrorContext(ctx, "look for due requests", "err", err)
		}
		for _, id := range ids {
			if _, loaded := busy.LoadOrStore(id, true); loaded {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				busy.Delete(id)
				return nil
			}
			wg.Go(func() {
				defer func() { <-sem; busy.Delete(id) }()
				if err := w.Step(ctx, id); err != nil && ctx.Err() == nil {
					w.cfg.Log.ErrorContext(ctx, "work on request", "request", id, "err", err)
				}
			})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-wake:
		}
	}
}

// listen turns notifications on wakeChannel into wake-ups, reconnecting
// after failures; polling covers any notification missed meanwhile.
func (w *Worker) listen(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		err := func() error {
			conn, err := w.pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			if err := postgres.New(conn).Listen(ctx, wakeChannel); err != nil {
				return err
			}
			for {
				if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
					// Close the connection: it is still LISTENing.
					conn.Conn().Close(context.Background())
					return err
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}()
		if err != nil && ctx.Err() == nil {
			time.Sleep(time.Second)
		}
	}
}

// Step does the next piece of work on request id, if it is due and no other
// worker holds it. It returns an error only for database trouble; JD Cloud
// trouble becomes the request's state.
func (w *Worker) Step(ctx context.Context, id int64) error {
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	locked, err := postgres.New(conn).TryAdvisoryLock(ctx, lockNamespace|id)
	if err != nil {
		return fmt.Errorf("lock request: %w", err)
	}
	if !locked {
		return nil // another worker has it
	}
	defer postgres.New(conn).AdvisoryUnlock(context.WithoutCancel(ctx), lockNamespace|id)

	// Everything the step does, audit records of its JD Cloud calls
	// included, goes through this one connection: a worker never needs more
	// connections than requests in hand, so it cannot starve itself.
	st := &step{w: w, db: postgres.New(conn)}
	r, err := st.db.Request(ctx, id)
	if err != nil {
		return err
	}
	// Re-read under the lock: another worker may have moved it on already.
	if !Status(r.Status).Active() || r.NextCheckAt == nil || r.NextCheckAt.After(time.Now()) {
		return nil
	}
	st.r = r
	st.cloud = w.cloud(ctx, st.db, r)
	switch Status(r.Status) {
	case Approved:
		return st.startExecution(ctx)
	case Provisioning:
		return st.provision(ctx)
	case Creating:
		return st.track(ctx)
	}
	return nil
}

// step is one piece of work on one request, on the connection that holds
// the request's lock.
type step struct {
	w     *Worker
	db    *postgres.DB
	r     request.Request
	cloud *jdcloud.Client
}

// cloud returns a client whose every call is recorded as a jdcloud.call
// event of request r, in its own transaction right after the call.
func (w *Worker) cloud(ctx context.Context, db *postgres.DB, r request.Request) *jdcloud.Client {
	return w.cfg.Cloud(func(info jdcloud.CallInfo) {
		// Routine status polls are not events (SPEC §4): the status change
		// they lead to is. A poll that fails is recorded.
		if info.Operation == jdcloud.OpDescribeInstanceAttributes && info.Err == nil {
			return
		}
		call := audit.JDCloudCallInfo{Operation: info.Operation, Region: info.Region, HTTPStatus: info.HTTPStatus,
			RequestID: info.RequestID, Duration: info.Duration, Attempt: info.Attempt}
		if info.Err != nil {
			call.ErrorClass, call.Error = jdcloud.Classify(info.Err).String(), info.Err.Error()
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, err := audit.RecordJDCloudCall(rctx, db.Conn(), r.ID, r.TeamID, call)
		if err != nil {
			w.cfg.Log.ErrorContext(rctx, "record JD Cloud call", "request", r.ID, "err", err)
		}
	})
}

// tag is request r's tag value.
func (w *Worker) tag(r request.Request) string {
	return w.cfg.DeploymentID + "/" + strconv.FormatInt(r.ID, 10)
}

// startExecution re-checks the backup and moves approved → provisioning, or
// fails the request when the backup can no longer be restored.
func (st *step) startExecution(ctx context.Context) error {
	w, r := st.w, st.r
	backups, err := st.cloud.AllBackups(ctx, r.Region, r.SourceInstanceID)
	if err != nil {
		if jdcloud.Classify(err) == jdcloud.Refused || r.PollCount+1 >= maxCheckAttempts {
			return st.fail(ctx, Approved, "The backup could not be checked: "+describe(err), err)
		}
		return st.later(ctx, Approved, w.backoff(w.cfg.RetryBase, w.cfg.RetryMax, r.PollCount+1), r.PollCount+1)
	}
	var found *jdcloud.Backup
	for i := range backups {
		if backups[i].BackupID == r.BackupID {
			found = &backups[i]
		}
	}
	switch {
	case found == nil:
		return st.fail(ctx, Approved, "Pre-check failed: backup "+r.BackupID+" no longer exists.", nil)
	case !found.Restorable():
		return st.fail(ctx, Approved, fmt.Sprintf("Pre-check failed: backup %s is %s and can no longer be restored.",
			r.BackupID, found.BackupStatus), nil)
	case found.Engine != "" && found.Engine != r.Engine:
		return st.fail(ctx, Approved, "Pre-check failed: the backup's engine is now "+found.Engine+".", nil)
	}
	return st.transition(ctx, Approved, Provisioning, postgres.RequestUpdate{NextCheckAt: ptr(time.Now()), PollCount: ptr(0)},
		audit.RequestExecutionStart, map[string]any{"backup_id": r.BackupID, "backup_status": found.BackupStatus})
}

// provision creates the instance at most once. Before each create it commits
// create_sent_at, so after a crash or an ambiguous answer the next step looks
// for the tagged instance throughout the visibility window instead of
// creating a second one.
func (st *step) provision(ctx context.Context) error {
	w, r, cloud := st.w, st.r, st.cloud
	if r.CreateSentAt != nil {
		inst, err := st.findTagged(ctx)
		if err != nil {
			// Cannot tell whether the create happened: look again later,
			// but not forever; then say where to look.
			if time.Since(*r.CreateSentAt) > 10*w.cfg.VisibilityWindow {
				return st.fail(ctx, Provisioning, fmt.Sprintf("Could not find out whether JD Cloud created the instance: %s. "+
					"Look for an instance tagged %s=%s before requesting again.", describe(err), TagKey, w.tag(r)), err)
			}
			return st.later(ctx, Provisioning, w.backoff(w.cfg.PollBase, w.cfg.PollMax, r.PollCount+1), r.PollCount+1)
		}
		if inst != nil {
			return st.created(ctx, inst.InstanceID, inst.InstanceStatus, audit.RequestInstanceAdopted)
		}
		if time.Since(*r.CreateSentAt) < w.cfg.VisibilityWindow {
			return st.later(ctx, Provisioning, w.backoff(w.cfg.PollBase, w.cfg.PollMax, r.PollCount+1), r.PollCount+1)
		}
		// Not visible after the whole window: the create did not happen.
		w.cfg.Log.InfoContext(ctx, "create not visible after the window; it did not happen", "request", r.ID)
	}
	if r.CreateAttempts >= w.cfg.MaxCreateAttempts {
		return st.fail(ctx, Provisioning, fmt.Sprintf("Gave up after %d create attempts that JD Cloud did not complete.", r.CreateAttempts), nil)
	}
	attempt := r.CreateAttempts + 1
	ok, err := st.db.UpdateRequest(ctx, r.ID, Provisioning, postgres.RequestUpdate{
		CreateSentAt: ptr(time.Now()), CreateAttempts: &attempt, PollCount: ptr(0),
		NextCheckAt: ptr(time.Now().Add(w.cfg.PollBase)),
	})
	if err != nil || !ok {
		return err
	}
	st.r.CreateAttempts = attempt
	req, err := w.createRequest(r)
	if err != nil {
		return st.fail(ctx, Provisioning, "The stored parameters are unusable: "+err.Error(), nil)
	}
	created, err := cloud.CreateInstanceFromBackup(ctx, r.Region, req)
	switch jdcloud.Classify(err) {
	case jdcloud.OK:
		return st.created(ctx, created.InstanceID, jdcloud.StatusBuilding, audit.RequestInstanceCreated)
	case jdcloud.NotPerformed:
		// Certainly not performed: forget the send and retry after a backoff.
		_, uerr := st.db.UpdateRequest(ctx, r.ID, Provisioning, postgres.RequestUpdate{
			ClearCreateSent: true, NextCheckAt: ptr(time.Now().Add(w.backoff(w.cfg.RetryBase, w.cfg.RetryMax, attempt))),
			FailureReason: ptr("Last attempt: " + describe(err)),
		})
		if attempt >= w.cfg.MaxCreateAttempts {
			return st.fail(ctx, Provisioning, fmt.Sprintf("Gave up after %d create attempts: %s", attempt, describe(err)), err)
		}
		return uerr
	case jdcloud.Refused:
		return st.fail(ctx, Provisioning, "JD Cloud refused the create: "+describe(err), err)
	default: // Ambiguous: create_sent_at stays; the next step searches for the tag.
		_, uerr := st.db.UpdateRequest(ctx, r.ID, Provisioning, postgres.RequestUpdate{
			NextCheckAt:   ptr(time.Now().Add(w.cfg.PollBase)),
			FailureReason: ptr("Last attempt: " + describe(err) + " — checking whether the instance was created."),
		})
		return uerr
	}
}

// findTagged returns the instance carrying r's tag, or nil if none is visible.
func (st *step) findTagged(ctx context.Context) (*jdcloud.Instance, error) {
	w, r, cloud := st.w, st.r, st.cloud
	found, err := cloud.AllInstances(ctx, r.Region, jdcloud.DescribeInstancesQuery{
		TagFilters: []jdcloud.TagFilter{{Key: TagKey, Values: []string{w.tag(r)}}},
	})
	if err != nil {
		return nil, err
	}
	for _, in := range found {
		// Trust the tag itself, not only the filter.
		if v, ok := in.Tag(TagKey); ok && v == w.tag(r) {
			return &in, nil
		}
	}
	return nil, nil
}

// createRequest builds the createInstanceFromBackup body from the stored
// parameters, with the request's tag and default name.
func (w *Worker) createRequest(r request.Request) (jdcloud.CreateInstanceFromBackupRequest, error) {
	var spec jdcloud.RestoredInstanceSpec
	if err := json.Unmarshal(r.Spec, &spec); err != nil {
		return jdcloud.CreateInstanceFromBackupRequest{}, err
	}
	if spec.InstanceName == "" {
		spec.InstanceName = "restore-" + strconv.FormatInt(r.ID, 10)
	}
	spec.TagSpec = []jdcloud.Tag{{Key: TagKey, Value: w.tag(r)}}
	return jdcloud.CreateInstanceFromBackupRequest{BackupID: r.BackupID, Engine: r.Engine, InstanceSpec: spec}, nil
}

// created records the instance (created or adopted) and moves to creating.
func (st *step) created(ctx context.Context, instanceID, status, action string) error {
	w, r := st.w, st.r
	return st.transition(ctx, Provisioning, Creating, postgres.RequestUpdate{
		InstanceID: &instanceID, InstanceStatus: &status, InstanceCreatedAt: ptr(time.Now()),
		NextCheckAt: ptr(time.Now().Add(w.cfg.PollBase)), PollCount: ptr(0), FailureReason: ptr(""),
	}, action, map[string]any{"instance_id": instanceID, "tag": TagKey + "=" + w.tag(r), "attempt": r.CreateAttempts})
}

// track polls the instance until it runs, fails, or the build times out.
func (st *step) track(ctx context.Context) error {
	w, r := st.w, st.r
	inst, err := st.cloud.DescribeInstanceAttributes(ctx, r.Region, r.InstanceID)
	since := time.Duration(0)
	if r.InstanceCreatedAt != nil {
		since = time.Since(*r.InstanceCreatedAt)
	}
	next := ptr(time.Now().Add(w.backoff(w.cfg.PollBase, w.cfg.PollMax, r.PollCount+1)))
	switch {
	case err == nil && inst.InstanceStatus == jdcloud.StatusRunning:
		return st.transition(ctx, Creating, Ready, postgres.RequestUpdate{
			InstanceStatus: &inst.InstanceStatus, InternalDomainName: &inst.InternalDomainName, InstancePort: &inst.InstancePort,
		}, audit.RequestReady, map[string]any{"instance_id": r.InstanceID, "internal_domain_name": inst.InternalDomainName,
			"instance_port": inst.InstancePort})
	case err == nil && jdcloud.StatusFailed(inst.InstanceStatus):
		return st.fail(ctx, Creating, "The instance "+r.InstanceID+" reached "+inst.InstanceStatus+" on JD Cloud.", nil)
	case since > w.cfg.BuildTimeout:
		return st.fail(ctx, Creating, fmt.Sprintf("The instance %s was not running after %s (build timeout); it may need cleaning up.",
			r.InstanceID, w.cfg.BuildTimeout), nil)
	case err != nil && jdcloud.IsNotFound(err) && since > w.cfg.VisibilityWindow:
		return st.fail(ctx, Creating, "The instance "+r.InstanceID+" cannot be found on JD Cloud.", err)
	case err != nil:
		// Not visible yet, throttled, or a transient failure: poll again.
		return st.later(ctx, Creating, time.Until(*next), r.PollCount+1)
	}
	if inst.InstanceStatus != r.InstanceStatus {
		w.cfg.Log.InfoContext(ctx, "instance status", "request", r.ID, "instance", r.InstanceID, "status", inst.InstanceStatus)
	}
	_, err = st.db.UpdateRequest(ctx, r.ID, Creating, postgres.RequestUpdate{
		InstanceStatus: &inst.InstanceStatus, NextCheckAt: next, PollCount: ptr(r.PollCount + 1),
	})
	return err
}

// later schedules the next look at r without changing its state.
func (st *step) later(ctx context.Context, from Status, after time.Duration, polls int) error {
	_, err := st.db.UpdateRequest(ctx, st.r.ID, from, postgres.RequestUpdate{
		NextCheckAt: ptr(time.Now().Add(after)), PollCount: &polls,
	})
	return err
}

// fail moves r to failed with reason (and JD Cloud's answer, when cause has one).
func (st *step) fail(ctx context.Context, from Status, reason string, cause error) error {
	r := st.r
	details := map[string]any{"reason": reason}
	var failure json.RawMessage
	var api *jdcloud.APIError
	if errors.As(cause, &api) {
		f := map[string]any{"http_status": api.HTTPStatus, "code": api.Code, "status": api.Status,
			"message": api.Message, "request_id": api.RequestID}
		failure, _ = json.Marshal(f)
		details["jdcloud"] = f
	}
	if r.InstanceID != "" {
		details["instance_id"] = r.InstanceID
	}
	return st.transition(ctx, from, Failed, postgres.RequestUpdate{FailureReason: &reason, Failure: failure},
		audit.RequestFailed, details)
}

// transition moves r from one state to another with its audit event, in one
// transaction; it does nothing if r is no longer in from.
func (st *step) transition(ctx context.Context, from, to Status, u postgres.RequestUpdate,
	action string, details map[string]any) error {
	r := st.r
	u.Status = &to
	details["from"], details["to"] = string(from), string(to)
	return st.db.Tx(ctx, func(tx *postgres.DB) error {
		ok, err := tx.UpdateRequest(ctx, r.ID, from, u)
		if err != nil || !ok {
			return err
		}
		_, err = audit.Record(ctx, tx.Conn(), audit.Event{Actor: audit.System, Action: action,
			TargetType: audit.TargetRequest, TargetID: strconv.FormatInt(r.ID, 10), TeamID: r.TeamID, Details: details})
		return err
	})
}

// backoff is an exponential delay with jitter for the n-th retry (n ≥ 1).
func (w *Worker) backoff(base, max time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	// ±20% jitter keeps replicas from polling in step.
	return d - d/5 + rand.N(2*d/5+1)
}

// describe renders a JD Cloud error for users: status, message and request id.
func describe(err error) string {
	var api *jdcloud.APIError
	if errors.As(err, &api) {
		s := fmt.Sprintf("HTTP %d", api.HTTPStatus)
		if api.Status != "" {
			s += " " + api.Status
		}
		if api.Message != "" {
			s += ": " + api.Message
		}
		if api.RequestID != "" {
			s += " (JD Cloud request id " + api.RequestID + ")"
		}
		return s
	}
	return err.Error()
}

func ptr[T any](v T) *T { return &v }
