package audit_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres/postgrestest"
)

// Teams and people of the visibility tests.
const teamA, teamB = 1, 2

var (
	auditorUser = &policy.User{ID: 3, Username: "ada", Auditor: true}
	adminUser   = &policy.User{ID: 1, Username: "root", Admin: true}
	leadA       = &policy.User{ID: 12, Username: "bob", Teams: []policy.Membership{{TeamID: teamA, Lead: true}}}
	engineerA   = &policy.User{ID: 11, Username: "alice", Teams: []policy.Membership{{TeamID: teamA}}}
	leadB       = &policy.User{ID: 22, Username: "dan", Teams: []policy.Membership{{TeamID: teamB, Lead: true}}}
	leadAB      = &policy.User{ID: 30, Username: "erin", Teams: []policy.Membership{{TeamID: teamA, Lead: true}, {TeamID: teamB, Lead: true}}}
)

// visibilityEvents is a small log with events of both teams' requests and
// events that belong to no request. Seq = index + 1.
var visibilityEvents = []audit.Event{
	{Actor: alice, Action: audit.SignIn, TargetType: audit.TargetUser, TargetID: "11"},                            // 1
	{Actor: alice, Action: audit.RequestCreated, TargetType: audit.TargetRequest, TargetID: "100", TeamID: teamA}, // 2 A
	{Actor: audit.Actor{UserID: 21, Name: "carol", ClientAddr: "192.0.2.9", UserAgent: "UA-carol"}, // 3 B
		Action: audit.RequestCreated, TargetType: audit.TargetRequest, TargetID: "200", TeamID: teamB},
	{Actor: bob, Action: audit.RequestApproved, TargetType: audit.TargetRequest, TargetID: "100", TeamID: teamA},      // 4 A
	{Actor: audit.System, Action: audit.JDCloudCall, TargetType: audit.TargetRequest, TargetID: "100", TeamID: teamA}, // 5 A
	{Actor: root, Action: audit.AdminMembershipChanged, TargetType: audit.TargetTeam, TargetID: "1", TeamID: teamA},   // 6 team A, not a request
	{Actor: audit.Actor{UserID: 22, Name: "dan", ClientAddr: "192.0.2.10", UserAgent: "UA-dan"}, // 7 B
		Action: audit.RequestRejected, TargetType: audit.TargetRequest, TargetID: "200", TeamID: teamB, Details: map[string]any{"comment": "no"}},
	{Actor: auditor, Action: audit.AuditExported, TargetType: audit.TargetAudit},                                       // 8
	{Actor: audit.System, Action: audit.RequestReady, TargetType: audit.TargetRequest, TargetID: "100", TeamID: teamA}, // 9 A
}

func seed(t *testing.T, events []audit.Event) *pgxpool.Pool {
	t.Helper()
	pool := postgrestest.Pool(t)
	for _, ev := range events {
		record(t, pool, ev)
	}
	return pool
}

func seqs(rows []audit.Row) []int64 {
	out := []int64{}
	for _, r := range rows {
		out = append(out, r.Seq)
	}
	return out
}

// TestQueryVisibility: each role sees exactly its share (docs/architecture.md, The audit trail), newest
// first, with addresses and user agents only where allowed.
func TestQueryVisibility(t *testing.T) {
	t.Parallel()
	pool := seed(t, visibilityEvents)
	for _, tc := range []struct {
		name     string
		user     *policy.User
		want     []int64
		personal bool
	}{
		{"auditor", auditorUser, []int64{9, 8, 7, 6, 5, 4, 3, 2, 1}, true},
		{"admin", adminUser, []int64{9, 8, 7, 6, 5, 4, 3, 2, 1}, true},
		{"lead of team A", leadA, []int64{9, 5, 4, 2}, true},
		{"engineer of team A", engineerA, []int64{9, 5, 4, 2}, false},
		{"lead of team B", leadB, []int64{7, 3}, true},
		{"lead of both teams", leadAB, []int64{9, 7, 5, 4, 3, 2}, true},
		{"anonymous", nil, []int64{}, false},
		{"disabled auditor", &policy.User{ID: 4, Username: "old", Auditor: true, Disabled: true}, []int64{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			scope := policy.AuditScopeFor(tc.user)
			// Small pages, so the multi-team merge is paged through too.
			var got []audit.Row
			cur := audit.Cursor{}
			for {
				page, err := audit.Query(t.Context(), pool, audit.Filter{}, scope, cur, 2)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page.Events...)
				if page.Older == 0 {
					break
				}
				cur = audit.Cursor{Before: page.Older}
			}
			if !slices.Equal(seqs(got), tc.want) {
				t.Errorf("sees events %v, want %v", seqs(got), tc.want)
			}
			for _, r := range got {
				own := tc.user != nil && r.ActorID != nil && *r.ActorID == tc.user.ID
				if hasPersonal := r.ClientAddr != "" || r.UserAgent != ""; hasPersonal && !tc.personal && !own {
					t.Errorf("event %d shows address %q and user agent %q", r.Seq, r.ClientAddr, r.UserAgent)
				}
				// Without the right to see others' addresses, one still
				// sees one's own (docs/architecture.md: "without other people's").
				if own && !tc.personal && r.ClientAddr == "" {
					t.Errorf("event %d: the viewer's own address is hidden from them", r.Seq)
				}
				if tc.personal && r.ActorID != nil && r.ClientAddr == "" {
					t.Errorf("event %d: address hidden from a viewer who may see it", r.Seq)
				}
			}
			// Export (Each) selects the same events, oldest first.
			var exported []int64
			audit.Each(t.Context(), pool, audit.Filter{}, scope, 0, func(r *audit.Row) error {
				exported = append(exported, r.Seq)
				return nil
			})
			want := slices.Clone(tc.want)
			slices.Reverse(want)
			if !slices.Equal(exported, want) && !(len(exported) == 0 && len(want) == 0) {
				t.Errorf("Each selects %v, want %v", exported, want)
			}
		})
	}
}

// TestTimeline: a request's history, oldest first, for those who may see it.
func TestTimeline(t *testing.T) {
	t.Parallel()
	pool := seed(t, visibilityEvents)
	for _, tc := range []struct {
		name string
		user *policy.User
		id   string
		want []int64
	}{
		{"engineer of the team", engineerA, "100", []int64{2, 4, 5, 9}},
		{"lead of the team", leadA, "100", []int64{2, 4, 5, 9}},
		{"lead of another team", leadB, "100", nil},
		{"auditor", auditorUser, "200", []int64{3, 7}},
		{"anonymous", nil, "100", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			scope := policy.AuditScopeFor(tc.user)
			rows, err := audit.Timeline(t.Context(), pool, audit.TargetRequest, tc.id, scope)
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(rows); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("timeline %v, want %v", got, tc.want)
			}
			for _, r := range rows {
				own := r.ActorID != nil && *r.ActorID == scope.Self
				if scope.HidePersonal && !own && (r.ClientAddr != "" || r.UserAgent != "") {
					t.Errorf("event %d shows address and user agent to %s", r.Seq, tc.name)
				}
				if scope.HidePersonal && own && r.ClientAddr == "" {
					t.Errorf("event %d: %s's own address is hidden from them", r.Seq, tc.name)
				}
			}
		})
	}
	// Engineers and leads see no timeline of a user or team.
	rows, err := audit.Timeline(t.Context(), pool, audit.TargetTeam, "1", policy.AuditScopeFor(leadA))
	if err != nil || len(rows) != 0 {
		t.Errorf("lead sees team timeline: %v, %v", seqs(rows), err)
	}
}

// TestQueryFilters: each filter alone and combined, paged newest first and
// back again, returns exactly the matching events.
func TestQueryFilters(t *testing.T) {
	t.Parallel()
	actors := []audit.Actor{alice, bob, audit.System}
	actions := []string{audit.RequestCreated, audit.JDCloudCall, audit.RequestApproved, audit.SignIn}
	var events []audit.Event
	for i := range 130 {
		ev := audit.Event{Actor: actors[i%3], Action: actions[i%4], TargetType: audit.TargetRequest,
			TargetID: strconv.Itoa(i % 7), TeamID: int64(i%2 + 1)}
		if ev.Action == audit.SignIn {
			ev.TargetType, ev.TargetID, ev.TeamID = audit.TargetUser, strconv.FormatInt(ev.Actor.UserID, 10), 0
		}
		events = append(events, ev)
	}
	pool := seed(t, events)
	var all []audit.Row
	audit.Each(t.Context(), pool, audit.Filter{}, policy.AuditScope{All: true}, 0, func(r *audit.Row) error {
		all = append(all, *r)
		return nil
	})
	t10, t60 := all[9].OccurredAt, all[59].OccurredAt
	for _, tc := range []struct {
		name  string
		f     audit.Filter
		match func(r audit.Row) bool
	}{
		{"none", audit.Filter{}, func(audit.Row) bool { return true }},
		{"actor by name", audit.Filter{Actor: "bob"}, func(r audit.Row) bool { return r.ActorName == "bob" }},
		{"actor by id", audit.Filter{Actor: "11"}, func(r audit.Row) bool { return r.ActorID != nil && *r.ActorID == 11 }},
		{"system", audit.Filter{Actor: "system"}, func(r audit.Row) bool { return r.ActorID == nil }},
		{"team", audit.Filter{TeamID: 2}, func(r audit.Row) bool { return r.TeamID != nil && *r.TeamID == 2 }},
		{"action", audit.Filter{Action: audit.JDCloudCall}, func(r audit.Row) bool { return r.Action == audit.JDCloudCall }},
		{"target type", audit.Filter{TargetType: audit.TargetUser}, func(r audit.Row) bool { return r.TargetType == audit.TargetUser }},
		{"target", audit.Filter{TargetType: audit.TargetRequest, TargetID: "3"}, func(r audit.Row) bool {
			return r.TargetType == audit.TargetRequest && r.TargetID == "3"
		}},
		{"from", audit.Filter{From: t10}, func(r audit.Row) bool { return !r.OccurredAt.Before(t10) }},
		{"to", audit.Filter{To: t60}, func(r audit.Row) bool { return r.OccurredAt.Before(t60) }},
		{"time range, actor, team, action", audit.Filter{From: t10, To: t60, Actor: "alice", TeamID: 1, Action: audit.RequestCreated},
			func(r audit.Row) bool {
				return !r.OccurredAt.Before(t10) && r.OccurredAt.Before(t60) && r.ActorName == "alice" && r.TeamID != nil && *r.TeamID == 1 &&
					r.Action == audit.RequestCreated
			}},
		{"nothing matches", audit.Filter{Actor: "nobody"}, func(audit.Row) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var want []int64
			for i := len(all) - 1; i >= 0; i-- {
				if tc.match(all[i]) {
					want = append(want, all[i].Seq)
				}
			}
			scope := policy.AuditScope{All: true}
			var pages [][]int64
			var got []int64
			cur := audit.Cursor{}
			for {
				page, err := audit.Query(t.Context(), pool, tc.f, scope, cur, 20)
				if err != nil {
					t.Fatal(err)
				}
				pages = append(pages, seqs(page.Events))
				got = append(got, seqs(page.Events)...)
				if page.Older == 0 {
					break
				}
				cur = audit.Cursor{Before: page.Older}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
			// Walk back with the newer links: the same pages, in reverse.
			for i := len(pages) - 1; i > 0; i-- {
				page, err := audit.Query(t.Context(), pool, tc.f, scope, audit.Cursor{After: pages[i][0]}, 20)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(seqs(page.Events), pages[i-1]) {
					t.Errorf("newer than %d: %v, want %v", pages[i][0], seqs(page.Events), pages[i-1])
				}
				if (page.Newer != 0) != (i-1 > 0) {
					t.Errorf("page %d: newer cursor %d", i-1, page.Newer)
				}
			}
		})
	}
}
