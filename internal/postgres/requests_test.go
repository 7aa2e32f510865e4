package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
)

// TestUpdateRequestObeysTheMachine walks every transition of the request's
// machine on a stored request: the migration lets the column hold each state
// (so adding a state without its migration fails here), storage applies each
// move's effects, refuses a move the table does not list, and does nothing
// when the request is no longer in the state the move starts from.
func TestUpdateRequestObeysTheMachine(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, teams, users := requestDB(t, []string{"payments"}, []string{"alice"})
	team, user := teams["payments"], users["alice"]
	filed := 0
	// at files a request and moves it along the machine's first path to from.
	at := func(from request.Status) int64 {
		t.Helper()
		filed++
		id, _, err := db.InsertRequest(ctx, postgres.NewRequest{
			SubmissionKey: fmt.Sprintf("machine-%08d", filed), TeamID: team, RequesterID: user,
			Region: "cn-north-1", SourceInstanceID: "mysql-1", BackupID: "b-1", Engine: "MySQL", Spec: []byte(`{}`),
			Reason: "because", ExpiresAt: time.Now().Add(time.Hour),
		})
		if err != nil {
			t.Fatal(err)
		}
		for path := pathTo(from); len(path) > 1; path = path[1:] {
			comment := "no"
			if ok, err := db.UpdateRequest(ctx, id, path[0], postgres.RequestUpdate{Status: &path[1], DecisionComment: &comment}); err != nil || !ok {
				t.Fatalf("move request %d %s → %s: %v %v", id, path[0], path[1], ok, err)
			}
		}
		return id
	}
	for _, tr := range request.Requests.Transitions() {
		id := at(tr.From)
		comment := "a reason"
		ok, err := db.UpdateRequest(ctx, id, tr.From, postgres.RequestUpdate{Status: &tr.To, DecisionComment: &comment})
		if err != nil || !ok {
			t.Errorf("%s → %s: %v %v", tr.From, tr.To, ok, err)
			continue
		}
		r, err := db.Request(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != tr.To {
			t.Errorf("%s → %s: stored %s", tr.From, tr.To, r.Status)
		}
		if got := r.DecidedAt != nil; tr.Has(request.Decides) && !got {
			t.Errorf("%s → %s: decided_at not set", tr.From, tr.To)
		}
		if got := r.FinishedAt != nil; got != tr.Has(request.Finishes) {
			t.Errorf("%s → %s: finished_at set = %v", tr.From, tr.To, got)
		}
		if tr.Has(request.Finishes) && r.NextCheckAt != nil {
			t.Errorf("%s → %s: next_check_at still set", tr.From, tr.To)
		}
		if tr.Has(request.Schedules) && (r.NextCheckAt == nil || r.NextCheckAt.After(time.Now().Add(time.Minute))) {
			t.Errorf("%s → %s: next_check_at = %v, want now", tr.From, tr.To, r.NextCheckAt)
		}
		// The same move again finds the request moved on: nothing happens.
		if ok, err := db.UpdateRequest(ctx, id, tr.From, postgres.RequestUpdate{Status: &tr.To}); err != nil || ok {
			t.Errorf("%s → %s repeated: %v %v, want no change", tr.From, tr.To, ok, err)
		}
	}
	id := at(request.Ready)
	back := request.Pending
	if ok, err := db.UpdateRequest(ctx, id, request.Ready, postgres.RequestUpdate{Status: &back}); err == nil || ok {
		t.Errorf("ready → pending_approval: %v %v, want refused", ok, err)
	}
	if r, _ := db.Request(ctx, id); r.Status != request.Ready {
		t.Errorf("after a refused move the request is %s", r.Status)
	}
}

// pathTo is the shortest path of moves from pending_approval to s.
func pathTo(s request.Status) []request.Status {
	paths := map[request.Status][]request.Status{request.Pending: {request.Pending}}
	for queue := []request.Status{request.Pending}; len(queue) > 0; queue = queue[1:] {
		for _, tr := range request.Requests.Transitions() {
			if _, seen := paths[tr.To]; tr.From == queue[0] && !seen {
				paths[tr.To] = append(append([]request.Status{}, paths[queue[0]]...), tr.To)
				queue = append(queue, tr.To)
			}
		}
	}
	return paths[s]
}
