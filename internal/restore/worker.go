package restore

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
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

// maxRecheckTries bounds the tries of the last tag search (about half an hour
// with the default backoff) before the worker gives up and logs the tag.
const maxRecheckTries = 30

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
	// VisibilityWindow is how long after an unanswered create call ended a tag
	// search must have been sent before "not found" means "not created"
	// (default 2m). It must cover how late JD Cloud may carry out a call the
	// client gave up on, plus how long a new instance stays invisible.
	VisibilityWindow time.Duration
	// ClientTimeout is the longest a JD Cloud call lasts before the client
	// gives up (default jdcloud.DefaultTimeout). A create whose worker died
	// during the call is taken to have ended no earlier than this after it
	// was sent.
	ClientTimeout time.Duration
	// RetryBudget is how long creates that were certainly not performed
	// (throttled, or never sent) are retried before the request fails
	// (default 10m), counted from the first of them in a row.
	RetryBudget time.Duration
	// BuildTimeout fails a request whose instance is not running after this (default 2h).
	BuildTimeout time.Duration
	// MaxCreateAttempts bounds the creates sent for one request whose outcome
	// was unknown (default 5); creates that were certainly not performed do
	// not count, the retry budget bounds them.
	MaxCreateAttempts int
	// RetryBase and RetryMax bound the backoff after a create that was not
	// performed, which grows with how long JD Cloud has been refusing
	// (defaults 2s and 1m).
	RetryBase, RetryMax time.Duration
	// PollBase and PollMax bound the backoff between status polls and tag
	// searches (defaults 2s and 10s).
	PollBase, PollMax time.Duration
	// Concurrency is how many requests one worker process works on at once
	// (default 4): the restore queue's River workers.
	Concurrency int
	// SweepEvery is how often every active request is checked to have its
	// execution job (default 1m); ExpireEvery how often pending requests
	// past their approval window are expired (default 1m).
	SweepEvery, ExpireEvery time.Duration
	Log                     *slog.Logger
}

func (c *WorkerConfig) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.VisibilityWindow, 2*time.Minute)
	def(&c.BuildTimeout, 2*time.Hour)
	def(&c.ClientTimeout, jdcloud.DefaultTimeout)
	def(&c.RetryBudget, 10*time.Minute)
	def(&c.RetryBase, 2*time.Second)
	def(&c.RetryMax, time.Minute)
	def(&c.PollBase, 2*time.Second)
	def(&c.PollMax, 10*time.Second)
	def(&c.SweepEvery, time.Minute)
	def(&c.ExpireEvery, time.Minute)
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
// the request row, and each request's execution is one River job
// (execute.go) that runs one Step at a time, so any number of workers may run
// against one database, and a crash or restart resumes where the last
// committed step left off.
type Worker struct {
	pool *pgxpool.Pool
	cfg  WorkerConfig
	life *Lifecycle
}

// NewWorker returns a worker on pool. life expires stale pending requests.
func NewWorker(pool *pgxpool.Pool, life *Lifecycle, cfg WorkerConfig) *Worker {
	cfg.defaults()
	// Each request in hand holds one connection; leave River its own (its
	// fetches, its listener, the leader's maintenance, the other queues), so
	// the worker never waits on itself.
	if most := int(pool.Config().MaxConns) - 6; cfg.Concurrency > most {
		cfg.Concurrency = max(1, most)
	}
	return &Worker{pool: pool, cfg: cfg, life: life}
}

// Next is what a Step leaves to do.
type Next struct {
	// Busy: another worker holds the request; nothing was done.
	Busy bool
	// Done: the request needs no more work (final, and no tag search left).
	Done bool
	// After is how long until the request's next step is due (when neither
	// Busy nor Done), on the database's clock.
	After time.Duration
}

// Step does the next piece of work on request id, if it is due and no other
// worker holds it, and says when the next one is due. It returns an error
// only for database trouble; JD Cloud trouble becomes the request's state.
func (w *Worker) Step(ctx context.Context, id int64) (Next, error) {
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return Next{}, fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	locked, err := postgres.New(conn).TryAdvisoryLock(ctx, lockNamespace|id)
	if err != nil {
		return Next{}, fmt.Errorf("lock request: %w", err)
	}
	if !locked {
		return Next{Busy: true}, nil // another worker has it
	}
	defer postgres.New(conn).AdvisoryUnlock(context.WithoutCancel(ctx), lockNamespace|id)

	// Everything the step does, audit records of its JD Cloud calls
	// included, goes through this one connection: a worker never needs more
	// connections than requests in hand, so it cannot starve itself.
	st := &step{w: w, db: postgres.New(conn)}
	if err := st.run(ctx, id); err != nil {
		return Next{}, err
	}
	// Still under the lock: what the step left is what the row now says.
	r, err := st.db.Request(ctx, id)
	if err != nil {
		return Next{}, err
	}
	now, err := st.db.Now(ctx)
	if err != nil {
		return Next{}, err
	}
	var due *time.Time
	if r.Status.Active() && r.NextCheckAt != nil {
		due = r.NextCheckAt
	}
	if r.TagCheckAt != nil && (due == nil || r.TagCheckAt.Before(*due)) {
		due = r.TagCheckAt
	}
	if due == nil {
		return Next{Done: true}, nil
	}
	return Next{After: max(0, due.Sub(now))}, nil
}

// run does the step on request id that is due now, if any.
func (st *step) run(ctx context.Context, id int64) error {
	r, err := st.db.Request(ctx, id)
	if err != nil {
		return err
	}
	if st.now, err = st.db.Now(ctx); err != nil {
		return err
	}
	// Re-read under the lock: another worker may have moved it on already.
	due := r.Status.Active() && r.NextCheckAt != nil && !r.NextCheckAt.After(st.now)
	recheck := r.TagCheckAt != nil && !r.TagCheckAt.After(st.now)
	if !due && !recheck {
		return nil
	}
	st.r = r
	st.cloud = st.w.cloud(ctx, st.db, r)
	if !due {
		return st.recheckTag(ctx)
	}
	switch r.Status {
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
	now   time.Time // the database's clock when the step began
}

// cloud returns a client whose every call is recorded as a jdcloud.call
// event of request r, in its own transaction right after the call.
func (w *Worker) cloud(ctx context.Context, db *postgres.DB, r request.Request) *jdcloud.Client {
	return w.cfg.Cloud(func(info jdcloud.CallInfo) {
		// Routine status polls are not audit events (docs/architecture.md): the status change
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
	if r.Kind == request.ToPointInTime {
		return st.startPointInTime(ctx)
	}
	backups, err := st.cloud.AllBackups(ctx, r.Region, r.SourceInstanceID)
	if err != nil {
		if jdcloud.Classify(err) == jdcloud.Refused || r.PollCount+1 >= maxCheckAttempts {
			return st.fail(ctx, Approved, "The backup could not be checked: "+jdcloud.Describe(err), err)
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
	return st.transition(ctx, Approved, Provisioning, postgres.RequestUpdate{NextCheckAt: ptr(st.now), PollCount: ptr(0)},
		audit.RequestExecutionStart, map[string]any{"backup_id": r.BackupID, "backup_status": found.BackupStatus})
}

// startPointInTime re-checks a point-in-time request before creating: the
// source still exists and runs, and the moment is still inside the window JD
// Cloud can restore (by the source's backup policy, and for SQL Server its
// latest restorable moment), on the database's clock.
func (st *step) startPointInTime(ctx context.Context) error {
	w, r := st.w, st.r
	retry := func(what string, err error) error {
		if jdcloud.Classify(err) == jdcloud.Refused || r.PollCount+1 >= maxCheckAttempts {
			return st.fail(ctx, Approved, what+" could not be checked: "+jdcloud.Describe(err), err)
		}
		return st.later(ctx, Approved, w.backoff(w.cfg.RetryBase, w.cfg.RetryMax, r.PollCount+1), r.PollCount+1)
	}
	src, err := st.cloud.DescribeInstanceAttributes(ctx, r.Region, r.SourceInstanceID)
	switch {
	case jdcloud.IsNotFound(err):
		return st.fail(ctx, Approved, "Pre-check failed: the source instance "+r.SourceInstanceID+" no longer exists.", err)
	case err != nil:
		return retry("The source instance", err)
	case src.InstanceStatus != jdcloud.StatusRunning:
		return st.fail(ctx, Approved, fmt.Sprintf("Pre-check failed: the source instance %s is %s, not running.",
			r.SourceInstanceID, src.InstanceStatus), nil)
	}
	policy, err := st.cloud.DescribeBackupPolicy(ctx, r.Region, r.SourceInstanceID)
	if err != nil {
		return retry("The source's backup policy", err)
	}
	var latest time.Time
	if src.Engine == jdcloud.EngineSQLServer {
		if latest, err = st.cloud.DescribeLatestRestoreTime(ctx, r.Region, r.SourceInstanceID); err != nil {
			return retry("The latest restorable moment", err)
		}
	}
	created, _ := jdcloud.ParseTime(src.CreateTime)
	win := jdcloud.RestoreWindowFor(created, &policy, latest, st.now)
	if !win.Contains(*r.RestoreTime) {
		return st.fail(ctx, Approved, fmt.Sprintf("Pre-check failed: %s (Beijing time) is no longer inside the restore window, %s to %s (%s).",
			jdcloud.FormatRestoreTime(*r.RestoreTime), jdcloud.FormatRestoreTime(win.From), jdcloud.FormatRestoreTime(win.To), win.FromReason), nil)
	}
	return st.transition(ctx, Approved, Provisioning, postgres.RequestUpdate{NextCheckAt: ptr(st.now), PollCount: ptr(0)},
		audit.RequestExecutionStart, map[string]any{"kind": r.Kind, "restore_time": r.RestoreTime.UTC().Format(time.RFC3339),
			"source_status": src.InstanceStatus})
}

// provision creates the instance at most once. Before each create it commits
// create_sent_at, so after a crash or an ambiguous answer the next step looks
// for the tagged instance instead of creating a second one; it concludes that
// the create did not happen only from a search sent a whole visibility window
// after the create call ended.
func (st *step) provision(ctx context.Context) error {
	if st.r.CreateSentAt != nil {
		return st.searchAfterSend(ctx)
	}
	return st.create(ctx)
}

// searchAfterSend looks for the instance of a create whose outcome is unknown.
// All times compared here are the database's: when the create call ended
// (read right after it) and when each search was sent (read right before it).
// A search that answers late therefore cannot pass for one sent late.
func (st *step) searchAfterSend(ctx context.Context) error {
	w, r := st.w, st.r
	if r.CreateEndedAt == nil {
		// The worker that sent the create stopped before it saw the call end
		// (killed, or its database was gone). The call ended at the latest
		// when the client gave up; count the window from then, or from now if
		// that is later, since nobody knows when the connection really closed.
		ended := latest(r.CreateSentAt.Add(w.cfg.ClientTimeout), st.now)
		_, err := st.db.UpdateRequest(ctx, r.ID, Provisioning, postgres.RequestUpdate{
			CreateEndedAt: &ended, NextCheckAt: ptr(st.now.Add(w.cfg.PollBase)),
		})
		return err
	}
	ended := *r.CreateEndedAt
	sent, err := st.db.Now(ctx)
	if err != nil {
		return err
	}
	found, err := st.findTagged(ctx)
	if err != nil {
		// A failed search proves nothing: look again later, but not forever;
		// then say where to look.
		if sent.Sub(ended) > 10*w.cfg.VisibilityWindow {
			return st.fail(ctx, Provisioning, fmt.Sprintf("Could not find out whether JD Cloud created the instance: %s. "+
				"Look for an instance tagged %s=%s before requesting again.", jdcloud.Describe(err), TagKey, w.tag(r)), err)
		}
		return st.later(ctx, Provisioning, w.backoff(w.cfg.PollBase, w.cfg.PollMax, r.PollCount+1), r.PollCount+1)
	}
	if len(found) > 0 {
		adopt := earliest(found)
		if err := st.recordDuplicates(ctx, found, adopt.InstanceID, "create"); err != nil {
			return err
		}
		return st.created(ctx, adopt.InstanceID, adopt.InstanceStatus, ended, audit.RequestInstanceAdopted)
	}
	if sent.Sub(ended) < w.cfg.VisibilityWindow {
		return st.later(ctx, Provisioning, w.backoff(w.cfg.PollBase, w.cfg.PollMax, r.PollCount+1), r.PollCount+1)
	}
	// Not visible to a search sent a whole window after the call ended: the
	// create did not happen. JD Cloud may still carry it out later than any
	// window, so once this request has an instance (or has failed) its tag
	// is searched once more.
	w.cfg.Log.InfoContext(ctx, "create not visible a window after it ended; it did not happen", "request", r.ID,
		"create_ended_at", ended, "search_sent_at", sent)
	st.r.RecheckTag = true
	return st.create(ctx)
}

// create sends one create (createInstanceFromBackup, or createInstanceByTime
// for a point in time), after committing that it is sent.
func (st *step) create(ctx context.Context) error {
	w, r, cloud := st.w, st.r, st.cloud
	if r.CreateAttempts >= w.cfg.MaxCreateAttempts {
		return st.fail(ctx, Provisioning, fmt.Sprintf("Gave up after %d creates that JD Cloud did not answer and did not carry out.",
			r.CreateAttempts), nil)
	}
	attempt := r.CreateAttempts + 1
	ok, err := st.db.UpdateRequest(ctx, r.ID, Provisioning, postgres.RequestUpdate{
		CreateSentAt: ptr(st.now), ClearCreateEnded: true, CreateAttempts: &attempt, PollCount: ptr(0),
		NextCheckAt: ptr(st.now.Add(w.cfg.PollBase)), RecheckTag: ptr(r.RecheckTag),
	})
	if err != nil || !ok {
		return err
	}
	st.r.CreateAttempts, st.r.CreateSentAt = attempt, ptr(st.now)
	spec, err := w.createSpec(r)
	if err != nil {
		return st.fail(ctx, Provisioning, "The stored parameters are unusable: "+err.Error(), nil)
	}
	var created jdcloud.CreatedInstance
	if r.Kind == request.ToPointInTime {
		created, err = cloud.CreateInstanceByTime(ctx, r.Region, r.SourceInstanceID, jdcloud.CreateInstanceByTimeRequest{
			RestoreTime: jdcloud.FormatRestoreTime(*r.RestoreTime), InstanceSpec: spec})
	} else {
		created, err = cloud.CreateInstanceFromBackup(ctx, r.Region, jdcloud.CreateInstanceFromBackupRequest{
			BackupID: r.BackupID, Engine: r.Engine, InstanceSpec: spec})
	}
	// The window counts from the end of the call, on the database's clock,
	// read right after it. If the database cannot be read now, the next step
	// finds the send without an end and bounds it conservatively.
	ended, derr := st.db.Now(context.WithoutCancel(ctx))
	if derr != nil {
		return derr
	}
	switch jdcloud.Classify(err) {
	case jdcloud.OK:
		return st.created(ctx, created.InstanceID, jdcloud.StatusBuilding, ended, audit.RequestInstanceCreated)
	case jdcloud.NotPerformed:
		// Certainly not performed (throttled, or never sent): forget the send
		// and retry within the time budget, however many tries that takes.
		since := ended
		if r.RetrySince != nil {
			since = *r.RetrySince
		}
		if ended.Sub(since) >= w.cfg.RetryBudget {
			st.r.CreateSentAt = nil
			return st.fail(ctx, Provisioning, fmt.Sprintf("JD Cloud did not take the create for %s: %s",
				w.cfg.RetryBudget, jdcloud.Describe(err)), err)
		}
		// Back off about as long as JD Cloud has been refusing, within bounds.
		wait := min(w.cfg.RetryMax, max(w.cfg.RetryBase, ended.Sub(since)))
		_, uerr := st.db.UpdateRequest(ctx, r.ID, Provisioning, postgres.RequestUpdate{
			ClearCreateSent: true, ClearCreateEnded: true, CreateAttempts: ptr(attempt - 1), RetrySince: &since,
			NextCheckAt: ptr(ended.Add(jitter(wait))), FailureReason: ptr("Last attempt: " + jdcloud.Describe(err)),
		})
		return uerr
	case jdcloud.Refused:
		return st.fail(ctx, Provisioning, "JD Cloud refused the create: "+jdcloud.Describe(err), err)
	default: // Ambiguous: create_sent_at stays; the next steps search for the tag.
		_, uerr := st.db.UpdateRequest(ctx, r.ID, Provisioning, postgres.RequestUpdate{
			CreateEndedAt: &ended, NextCheckAt: ptr(ended.Add(w.cfg.PollBase)), ClearRetrySince: true,
			FailureReason: ptr("Last attempt: " + jdcloud.Describe(err) + " — checking whether the instance was created."),
		})
		return uerr
	}
}

// findTagged returns the instances carrying r's tag that are visible now.
func (st *step) findTagged(ctx context.Context) ([]jdcloud.Instance, error) {
	w, r, cloud := st.w, st.r, st.cloud
	found, err := cloud.AllInstances(ctx, r.Region, jdcloud.DescribeInstancesQuery{
		TagFilters: []jdcloud.TagFilter{{Key: TagKey, Values: []string{w.tag(r)}}},
	})
	if err != nil {
		return nil, err
	}
	var out []jdcloud.Instance
	for _, in := range found {
		// Trust the tag itself, not only the filter.
		if v, ok := in.Tag(TagKey); ok && v == w.tag(r) {
			out = append(out, in)
		}
	}
	return out, nil
}

// earliest returns the instance JD Cloud created first (by its createTime,
// then its id, so every worker picks the same one).
func earliest(found []jdcloud.Instance) jdcloud.Instance {
	created := func(in jdcloud.Instance) time.Time {
		t, err := jdcloud.ParseTime(in.CreateTime)
		if err != nil {
			return time.Unix(1<<40, 0) // unknown: after every known time
		}
		return t
	}
	return slices.MinFunc(found, func(a, b jdcloud.Instance) int {
		if c := created(a).Compare(created(b)); c != 0 {
			return c
		}
		return strings.Compare(a.InstanceID, b.InstanceID)
	})
}

// recordDuplicates records the instances found with r's tag other than
// adopted, with a request.duplicate_instance event naming every instance
// found, in one transaction. Instances recorded before are not reported again.
func (st *step) recordDuplicates(ctx context.Context, found []jdcloud.Instance, adopted, search string) error {
	w, r := st.w, st.r
	var dups []postgres.DuplicateInstance
	var all []string
	for _, in := range found {
		all = append(all, in.InstanceID)
		if in.InstanceID != adopted {
			dups = append(dups, postgres.DuplicateInstance{InstanceID: in.InstanceID, Region: r.Region,
				InstanceName: in.InstanceName, JDCreatedAt: in.CreateTime})
		}
	}
	if len(dups) == 0 {
		return nil
	}
	return st.db.Tx(ctx, func(tx *postgres.DB) error {
		added, err := tx.AddDuplicateInstances(ctx, r.ID, dups)
		if err != nil || len(added) == 0 {
			return err
		}
		w.cfg.Log.WarnContext(ctx, "more than one instance carries the request's tag", "request", r.ID,
			"adopted", adopted, "duplicates", added)
		_, err = audit.Record(ctx, tx.Conn(), audit.Event{Actor: audit.System, Action: audit.RequestDuplicate,
			TargetType: audit.TargetRequest, TargetID: strconv.FormatInt(r.ID, 10), TeamID: r.TeamID,
			Details: map[string]any{"instance_ids": all, "adopted": adopted, "duplicates": added,
				"tag": TagKey + "=" + w.tag(r), "search": search}})
		return err
	})
}

// recheckTag is the one more tag search of a request whose create was sent
// again after an unanswered one: an instance JD Cloud carried out later than
// the window shows up here as a duplicate instead of billing unseen.
func (st *step) recheckTag(ctx context.Context) error {
	w, r := st.w, st.r
	found, err := st.findTagged(ctx)
	if err != nil {
		tries := r.TagCheckTries + 1
		if tries >= maxRecheckTries {
			w.cfg.Log.ErrorContext(ctx, "gave up the last search for the request's tag; look for it by hand", "request", r.ID,
				"tag", TagKey+"="+w.tag(r), "err", err)
			_, uerr := st.db.UpdateRequest(ctx, r.ID, r.Status, postgres.RequestUpdate{ClearTagCheck: true, TagCheckTries: &tries})
			return uerr
		}
		_, uerr := st.db.UpdateRequest(ctx, r.ID, r.Status, postgres.RequestUpdate{
			TagCheckAt: ptr(st.now.Add(w.backoff(w.cfg.RetryBase, w.cfg.RetryMax, tries))), TagCheckTries: &tries,
		})
		return uerr
	}
	if err := st.recordDuplicates(ctx, found, r.InstanceID, "recheck"); err != nil {
		return err
	}
	_, err = st.db.UpdateRequest(ctx, r.ID, r.Status, postgres.RequestUpdate{ClearTagCheck: true, RecheckTag: ptr(false)})
	return err
}

// createSpec builds the create's instanceSpec from the stored parameters,
// with the request's tag and default name (one model for both creates).
func (w *Worker) createSpec(r request.Request) (jdcloud.RestoredInstanceSpec, error) {
	var spec jdcloud.RestoredInstanceSpec
	if err := json.Unmarshal(r.Spec, &spec); err != nil {
		return spec, err
	}
	if spec.InstanceName == "" {
		spec.InstanceName = "restore-" + strconv.FormatInt(r.ID, 10)
	}
	spec.TagSpec = []jdcloud.Tag{{Key: TagKey, Value: w.tag(r)}}
	return spec, nil
}

// created records the instance (created or adopted) and moves to creating.
// ended is when the create call that made it ended, on the database's clock.
func (st *step) created(ctx context.Context, instanceID, status string, ended time.Time, action string) error {
	w, r := st.w, st.r
	u := postgres.RequestUpdate{
		InstanceID: &instanceID, InstanceStatus: &status, InstanceCreatedAt: &ended, CreateEndedAt: &ended,
		NextCheckAt: ptr(st.now.Add(w.cfg.PollBase)), PollCount: ptr(0), FailureReason: ptr(""), ClearRetrySince: true,
	}
	// After an unanswered create, JD Cloud may still carry out one more (the
	// one concluded "not performed", or a second one for the same call):
	// search the tag once more a window after this instance's create ended.
	if r.RecheckTag || action == audit.RequestInstanceAdopted {
		u.TagCheckAt, u.TagCheckTries = ptr(ended.Add(w.cfg.VisibilityWindow)), ptr(0)
	}
	return st.transition(ctx, Provisioning, Creating, u,
		action, map[string]any{"instance_id": instanceID, "tag": TagKey + "=" + w.tag(r), "attempt": r.CreateAttempts})
}

// track polls the instance until it runs, fails, or the build times out. The
// not-found tolerance counts from the end of the create to the moment this
// poll was sent, both on the database's clock.
func (st *step) track(ctx context.Context) error {
	w, r := st.w, st.r
	sent, err := st.db.Now(ctx)
	if err != nil {
		return err
	}
	inst, err := st.cloud.DescribeInstanceAttributes(ctx, r.Region, r.InstanceID)
	var since, built time.Duration
	if r.CreateEndedAt != nil {
		since = sent.Sub(*r.CreateEndedAt)
	} else if r.InstanceCreatedAt != nil {
		since = sent.Sub(*r.InstanceCreatedAt)
	}
	if r.InstanceCreatedAt != nil {
		built = sent.Sub(*r.InstanceCreatedAt)
	}
	next := ptr(st.now.Add(w.backoff(w.cfg.PollBase, w.cfg.PollMax, r.PollCount+1)))
	switch {
	case err == nil && inst.InstanceStatus == jdcloud.StatusRunning:
		return st.transition(ctx, Creating, Ready, postgres.RequestUpdate{
			InstanceStatus: &inst.InstanceStatus, InternalDomainName: &inst.InternalDomainName, InstancePort: &inst.InstancePort,
		}, audit.RequestReady, map[string]any{"instance_id": r.InstanceID, "internal_domain_name": inst.InternalDomainName,
			"instance_port": inst.InstancePort})
	case err == nil && jdcloud.StatusFailed(inst.InstanceStatus):
		st.r.InstanceStatus = inst.InstanceStatus
		return st.fail(ctx, Creating, "The instance "+r.InstanceID+" reached "+inst.InstanceStatus+" on JD Cloud.", nil)
	case built > w.cfg.BuildTimeout:
		if err == nil {
			st.r.InstanceStatus = inst.InstanceStatus
		}
		return st.fail(ctx, Creating, fmt.Sprintf("The instance %s was not running after %s (build timeout); it may need cleaning up.",
			r.InstanceID, w.cfg.BuildTimeout), nil)
	case err != nil && jdcloud.IsNotFound(err) && since > w.cfg.VisibilityWindow:
		return st.fail(ctx, Creating, "The instance "+r.InstanceID+" cannot be found on JD Cloud.", err)
	case err != nil:
		// Not visible yet, throttled, or a transient failure: poll again.
		return st.later(ctx, Creating, next.Sub(st.now), r.PollCount+1)
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
		NextCheckAt: ptr(st.now.Add(after)), PollCount: &polls,
	})
	return err
}

// fail moves r to failed with reason (and JD Cloud's answer, when cause has one),
// keeping the instance status last seen. A request that sent a create whose
// outcome stayed unknown gets one more tag search a window later, so an
// instance that appears after all is found.
func (st *step) fail(ctx context.Context, from Status, reason string, cause error) error {
	w, r := st.w, st.r
	details := map[string]any{"reason": reason}
	var failure json.RawMessage
	if f := jdcloudFacts(cause); f != nil {
		failure, _ = json.Marshal(f)
		details["jdcloud"] = f
	}
	u := postgres.RequestUpdate{FailureReason: &reason, Failure: failure}
	if r.InstanceID != "" {
		details["instance_id"] = r.InstanceID
		u.InstanceStatus = ptr(r.InstanceStatus)
		if r.InstanceStatus != "" {
			details["instance_status"] = r.InstanceStatus
		}
	}
	if r.RecheckTag || (r.CreateSentAt != nil && r.InstanceID == "") {
		u.RecheckTag, u.TagCheckAt, u.TagCheckTries = ptr(true), ptr(st.now.Add(w.cfg.VisibilityWindow)), ptr(0)
	}
	return st.transition(ctx, from, Failed, u, audit.RequestFailed, details)
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
	return jitter(min(d, max))
}

// jitter spreads d by ±20%, which keeps replicas from polling in step.
func jitter(d time.Duration) time.Duration { return d - d/5 + rand.N(2*d/5+1) }

// latest returns the later of two times.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func ptr[T any](v T) *T { return &v }
