package restore_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"restoredesk/internal/audit"
	"restoredesk/internal/postgres"
	"restoredesk/internal/restore"
)

func TestDecisionsFollowThePolicy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	ctx := t.Context()
	id := f.submit(t, "alice", "payments", "mysql-payorders1")
	if r := f.request(t, id); r.Status != restore.Pending {
		t.Fatalf("new request is %s", r.Status)
	}
	refused := []struct {
		who  string
		want error
	}{
		{"alice", restore.ErrForbidden}, // the requester
		{"carol", restore.ErrForbidden}, // a member of payments, lead of search only
		{"frank", postgres.ErrNotFound}, // another team: may not even see it
		{"dave", restore.ErrForbidden},  // an auditor is no approver
		{"erin", restore.ErrForbidden},  // nor is an admin
	}
	for _, tt := range refused {
		if err := f.life.Approve(ctx, f.actor(tt.who), id, ""); !errors.Is(err, tt.want) {
			t.Errorf("%s approving: %v, want %v", tt.who, err, tt.want)
		}
	}
	if err := f.life.Cancel(ctx, f.actor("bob"), id); !errors.Is(err, restore.ErrForbidden) {
		t.Errorf("bob cancelling alice's request: %v", err)
	}
	if err := f.life.Reject(ctx, f.actor("bob"), id, "   "); !errors.Is(err, restore.ErrCommentRequired) {
		t.Errorf("reject without comment: %v", err)
	}
	if err := f.life.Reject(ctx, f.actor("bob"), id, "Use the replica instead."); err != nil {
		t.Fatal(err)
	}
	r := f.request(t, id)
	if r.Status != restore.Rejected || r.DecisionComment != "Use the replica instead." || *r.DeciderName != "bob" {
		t.Errorf("after reject: %+v", r)
	}
	// Terminal states never change.
	if err := f.life.Approve(ctx, f.actor("grace"), id, ""); !errors.As(err, new(*restore.StateError)) {
		t.Errorf("approve after reject: %v", err)
	}
	if err := f.life.Cancel(ctx, f.actor("alice"), id); !errors.As(err, new(*restore.StateError)) {
		t.Errorf("cancel after reject: %v", err)
	}
	if got := f.events(t, id); len(got) != 2 || got[0] != audit.RequestCreated || got[1] != audit.RequestRejected {
		t.Errorf("events = %v", got)
	}

	id2 := f.submit(t, "alice", "payments", "mysql-payorders1")
	if err := f.life.Cancel(ctx, f.actor("alice"), id2); err != nil {
		t.Fatal(err)
	}
	if r := f.request(t, id2); r.Status != restore.Cancelled {
		t.Errorf("after cancel: %s", r.Status)
	}
}

// TestRoleRemovalTakesEffectAtOnce: decisions are checked against the
// memberships of the moment, not of the session.
func TestRoleRemovalTakesEffectAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	id := f.submit(t, "alice", "payments", "mysql-payorders1")
	if _, err := f.pool.Exec(t.Context(), `UPDATE memberships SET lead = false WHERE user_id = $1`, f.users["bob"]); err != nil {
		t.Fatal(err)
	}
	if err := f.life.Approve(t.Context(), f.actor("bob"), id, ""); !errors.Is(err, restore.ErrForbidden) {
		t.Errorf("former lead approving: %v", err)
	}
}

func TestOnlyLeadCannotRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	// carol is search's only lead: nobody could decide her request.
	d := f.draft(t, "carol", "search", "mysql-srchindex1")
	u := f.user(t, "carol")
	ch, _ := f.planner.Choices(t.Context(), u, d)
	d = ch.Suggested
	if !ch.OnlyLead {
		t.Error("the form does not warn the only lead")
	}
	_, problems := f.planner.Validate(u, d, ch)
	if problems["team"] == "" {
		t.Errorf("only lead's request accepted; problems %v", problems)
	}
	// The lifecycle refuses it too, whatever the form said.
	ch.OnlyLead = false
	n, problems := f.planner.Validate(u, d, ch)
	if problems != nil {
		t.Fatal(problems)
	}
	if _, _, err := f.life.Submit(t.Context(), f.actor("carol"), n); !errors.Is(err, restore.ErrNoApprover) {
		t.Errorf("lifecycle: %v, want ErrNoApprover", err)
	}
}

func TestDoubleSubmitCreatesOneRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	d := f.draft(t, "alice", "payments", "mysql-payorders1")
	u := f.user(t, "alice")
	ch, _ := f.planner.Choices(t.Context(), u, d)
	d = ch.Suggested
	n, problems := f.planner.Validate(u, d, ch)
	if problems != nil {
		t.Fatal(problems)
	}
	var wg sync.WaitGroup
	ids := make([]int64, 5)
	for i := range ids {
		wg.Go(func() {
			id, _, err := f.life.Submit(t.Context(), f.actor("alice"), n)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("double submission made different requests: %v", ids)
		}
	}
	var total int
	f.pool.QueryRow(t.Context(), `SELECT count(*) FROM restore_requests`).Scan(&total)
	if total != 1 || count(f.events(t, ids[0]), audit.RequestCreated) != 1 {
		t.Errorf("%d requests, events %v", total, f.events(t, ids[0]))
	}
	// Someone else sending the same form (a copied key) learns nothing of
	// alice's request and is told to send it afresh.
	if id, _, err := f.life.Submit(t.Context(), f.actor("grace"), n); !errors.Is(err, restore.ErrKeyInUse) || id != 0 {
		t.Errorf("another user's submission with alice's key: id %d, %v", id, err)
	}
}

// TestConcurrentApprovalsYieldOne: two leads and a double click at once.
func TestConcurrentApprovalsYieldOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	id := f.submit(t, "alice", "payments", "mysql-payorders1")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 20 {
		who := []string{"bob", "grace"}[i%2]
		wg.Go(func() {
			if err := f.life.Approve(t.Context(), f.actor(who), id, ""); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.As(err, new(*restore.StateError)) {
				t.Errorf("approve: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || count(f.events(t, id), audit.RequestApproved) != 1 {
		t.Errorf("%d approvals succeeded, events %v", ok, f.events(t, id))
	}
	// The approval committed with its one execution job.
	if n := f.executionJobs(t, id); n != 1 {
		t.Errorf("%d execution jobs for the approved request, want 1", n)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	ctx := t.Context()
	late := f.submit(t, "alice", "payments", "mysql-payorders1")
	stale := f.submit(t, "alice", "payments", "mysql-payorders1")
	fresh := f.submit(t, "alice", "payments", "mysql-payorders1")
	if _, err := f.pool.Exec(ctx, `UPDATE restore_requests SET expires_at = now() - interval '1 second' WHERE id IN ($1, $2)`, late, stale); err != nil {
		t.Fatal(err)
	}
	// An approve after the window is refused even before the expiry job runs.
	if err := f.life.Approve(ctx, f.actor("bob"), late, ""); !errors.Is(err, restore.ErrApprovalExpired) {
		t.Errorf("late approve: %v", err)
	}
	if r := f.request(t, late); r.Status != restore.Expired {
		t.Errorf("late request is %s", r.Status)
	}
	if n := f.executionJobs(t, late); n != 0 {
		t.Errorf("%d execution jobs for a request that expired instead of being approved", n)
	}
	n, err := f.life.ExpireDue(ctx)
	if err != nil || n != 1 {
		t.Errorf("ExpireDue = %d, %v; want 1", n, err)
	}
	if r := f.request(t, stale); r.Status != restore.Expired {
		t.Errorf("stale request is %s", r.Status)
	}
	if r := f.request(t, fresh); r.Status != restore.Pending {
		t.Errorf("fresh request is %s", r.Status)
	}
	if got := f.events(t, stale); count(got, audit.RequestExpired) != 1 {
		t.Errorf("stale events %v", got)
	}
}

// TestApprovalComment: a lead's optional comment on an approval is kept with
// the decision and in the request.approved event; one too long is refused
// and changes nothing.
func TestApprovalComment(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	ctx := t.Context()
	id := f.submit(t, "alice", "payments", "mysql-payorders1")
	long := strings.Repeat("x", restore.MaxCommentLength+1)
	if err := f.life.Approve(ctx, f.actor("bob"), id, long); !errors.Is(err, restore.ErrCommentTooLong) {
		t.Fatalf("approve with a too long comment: %v", err)
	}
	if r := f.request(t, id); r.Status != restore.Pending {
		t.Fatalf("after a refused approve the request is %s", r.Status)
	}
	if err := f.life.Approve(ctx, f.actor("bob"), id, "  Restore into the staging VPC only.  "); err != nil {
		t.Fatal(err)
	}
	if r := f.request(t, id); r.DecisionComment != "Restore into the staging VPC only." {
		t.Errorf("decision comment %q", r.DecisionComment)
	}
	var comment string
	err := f.pool.QueryRow(ctx, `SELECT details->>'comment' FROM audit_events
		WHERE target_type = 'request' AND target_id = $1 AND action = $2`, formatInt(id), audit.RequestApproved).Scan(&comment)
	if err != nil || comment != "Restore into the staging VPC only." {
		t.Errorf("request.approved comment %q (%v)", comment, err)
	}
}
