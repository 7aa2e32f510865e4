package postgres_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
)

// TestListRequestsPaging walks the pages of both orders forwards and back,
// and checks the filters that decide who sees what.
func TestListRequestsPaging(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, teams, users := requestDB(t, []string{"payments", "search"}, []string{"alice", "bob"})
	team, other, alice, bob := teams["payments"], teams["search"], users["alice"], users["bob"]
	filed := 0
	file := func(team, user int64, expires time.Time) int64 {
		filed++
		id, _, err := db.InsertRequest(ctx, postgres.NewRequest{
			SubmissionKey: fmt.Sprintf("submission-%08d", filed), TeamID: team, RequesterID: user,
			Region: "cn-north-1", SourceInstanceID: "mysql-1", BackupID: "b-1", Engine: "MySQL", Spec: []byte(`{}`),
			Reason: "because", ExpiresAt: expires,
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	later := time.Now().Add(time.Hour)
	var ids []int64 // payments, by alice, oldest first
	for range 7 {
		ids = append(ids, file(team, alice, later))
	}
	bobs := file(team, bob, later)
	expired := file(team, bob, time.Now().Add(-time.Minute))
	searchs := file(other, bob, later)

	walk := func(f postgres.RequestFilter, oldestFirst bool) (forward, back []int64) {
		t.Helper()
		var cur postgres.RequestCursor
		var last postgres.RequestPage
		for {
			p, err := db.ListRequests(ctx, f, cur, oldestFirst, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Requests {
				forward = append(forward, r.ID)
			}
			last = p
			if p.Next == 0 {
				break
			}
			cur = postgres.RequestCursor{After: p.Next}
		}
		// And back from the last page to the first.
		page := last
		var pages [][]int64
		for {
			var got []int64
			for _, r := range page.Requests {
				got = append(got, r.ID)
			}
			pages = append([][]int64{got}, pages...)
			if page.Prev == 0 {
				break
			}
			var err error
			if page, err = db.ListRequests(ctx, f, postgres.RequestCursor{Before: page.Prev}, oldestFirst, 3); err != nil {
				t.Fatal(err)
			}
		}
		return forward, slices.Concat(pages...)
	}
	rev := func(s []int64) []int64 { s = slices.Clone(s); slices.Reverse(s); return s }
	aliceOnly := postgres.RequestFilter{TeamIDs: []int64{team}, RequesterID: alice}
	for _, oldestFirst := range []bool{false, true} {
		want := ids
		if !oldestFirst {
			want = rev(ids)
		}
		fwd, back := walk(aliceOnly, oldestFirst)
		if !slices.Equal(fwd, want) || !slices.Equal(back, want) {
			t.Errorf("oldestFirst=%v: forward %v, back %v, want %v", oldestFirst, fwd, back, want)
		}
	}

	for _, tc := range []struct {
		name string
		f    postgres.RequestFilter
		want []int64
	}{
		{"no teams in scope", postgres.RequestFilter{TeamIDs: []int64{}}, nil},
		{"a team outside the scope", postgres.RequestFilter{TeamIDs: []int64{team}, TeamID: other}, nil},
		{"every team", postgres.RequestFilter{AllTeams: true, Requester: "bob"}, []int64{bobs, expired, searchs}},
		{"decidable by alice", postgres.RequestFilter{TeamIDs: []int64{team}, NotRequester: alice, Undecided: true}, []int64{bobs}},
		{"one team", postgres.RequestFilter{TeamIDs: []int64{team, other}, TeamID: other}, []int64{searchs}},
		{"status", postgres.RequestFilter{AllTeams: true, Status: "ready"}, nil},
		{"created in range", postgres.RequestFilter{AllTeams: true, RequesterID: bob, CreatedFrom: time.Now().Add(-time.Hour), CreatedTo: time.Now().Add(time.Hour)}, []int64{bobs, expired, searchs}},
		{"created later", postgres.RequestFilter{AllTeams: true, CreatedFrom: time.Now().Add(time.Hour)}, nil},
	} {
		p, err := db.ListRequests(ctx, tc.f, postgres.RequestCursor{}, true, 50)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range p.Requests {
			got = append(got, r.ID)
		}
		n, err := db.CountRequests(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) || n != len(tc.want) {
			t.Errorf("%s: %v (count %d), want %v", tc.name, got, n, tc.want)
		}
	}
}

// requestDB is a fresh database holding the named teams and users, by name.
func requestDB(t *testing.T, teamNames, userNames []string) (db *postgres.DB, teams, users map[string]int64) {
	t.Helper()
	ctx := t.Context()
	pool := postgrestest.Pool(t)
	db, teams, users = postgres.New(pool), map[string]int64{}, map[string]int64{}
	for _, name := range teamNames {
		id, err := db.InsertTeam(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		teams[name] = id
	}
	for _, name := range userNames {
		var id int64
		if err := pool.QueryRow(ctx, `INSERT INTO users (username, email, display_name) VALUES ($1, $1 || '@example.com', $1) RETURNING id`, name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		users[name] = id
	}
	return db, teams, users
}
