package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"restoredesk/internal/demo"
	"restoredesk/internal/jobs"
	"restoredesk/internal/notify"
	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
	"restoredesk/internal/testkit"
)

// statementLog records the SQL a server runs, with its arguments.
type statementLog struct {
	mu    sync.Mutex
	stmts []recorded
}

type recorded struct {
	sql  string
	args []any
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	l.stmts = append(l.stmts, recorded{d.SQL, d.Args})
	l.mu.Unlock()
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// take returns what was recorded since the last take.
func (l *statementLog) take() []recorded {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stmts
	l.stmts = nil
	return s
}

// badNodes walks an EXPLAIN (FORMAT JSON) plan and returns the Seq Scans and
// Sorts that touch restore_requests or audit_events: the tables that grow
// with a year of use, where every page must be an index range scan.
func badNodes(plan map[string]any, under []string) []string {
	kind, _ := plan["Node Type"].(string)
	rel, _ := plan["Relation Name"].(string)
	var out []string
	big := rel == "restore_requests" || rel == "audit_events"
	if kind == "Seq Scan" && big {
		out = append(out, "Seq Scan on "+rel)
	}
	if big {
		for _, u := range under {
			out = append(out, u+" over "+rel)
		}
	}
	next := under
	if kind == "Sort" || kind == "Incremental Sort" {
		next = append(next[:len(next):len(next)], kind)
	}
	children, _ := plan["Plans"].([]any)
	for _, c := range children {
		if m, ok := c.(map[string]any); ok {
			out = append(out, badNodes(m, next)...)
		}
	}
	return out
}

// TestPagePlans opens every page (each GET route, with the filters people
// use) and EXPLAINs every statement it ran against the requests and audit
// tables with sequential scans and sorts switched off: a Seq Scan or Sort
// left on those tables means a page that slows down as they grow. Small test
// data cannot show a bad plan any other way. A GET route missing from the
// list fails the test.
func TestPagePlans(t *testing.T) {
	t.Parallel()
	log := &statementLog{}
	cfg, err := pgxpool.ParseConfig(postgrestest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = log
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// The notification pages run on the demo outbox, as web serve's demo does.
	s := testkit.Start(t, testkit.Options{Pool: pool, Demo: true, Notify: func(pool *pgxpool.Pool) *notify.Service {
		n := notify.New(pool, notify.Config{Outbox: true})
		client, err := jobs.New(pool, jobs.Config{Test: true}, n)
		if err != nil {
			t.Fatal(err)
		}
		return notify.NewService(n, client)
	}})
	id := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "mysql-payorders1")
	team := strconv.FormatInt(s.Team(t, "payments"), 10)
	var user string
	if err := pool.QueryRow(t.Context(), `SELECT id::text FROM users WHERE username = 'alice'`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	channel, err := postgres.New(pool).InsertChannel(t.Context(), postgres.ChannelInput{Kind: "email",
		Name: "everyone", Address: "restore-team@example.com", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	// A ready request with its copy, for the copy pages.
	readyID := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "mysql-payorders1")
	var copyID int64
	if err := pool.QueryRow(t.Context(), `WITH r AS (
			UPDATE restore_requests SET status = 'ready', instance_id = 'mysql-plancopy1', finished_at = now() WHERE id = $1
			RETURNING id, region, finished_at)
		INSERT INTO copies (request_id, region, instance_id, delete_at) SELECT id, region, 'mysql-plancopy1', finished_at + interval '3 days' FROM r
		RETURNING id`, readyID).Scan(&copyID); err != nil {
		t.Fatal(err)
	}
	copyPage := fmt.Sprintf("/requests/%d/copies/%d/delete", readyID, copyID)
	today := time.Now().UTC().Format(time.DateOnly)
	req := "/requests/" + strconv.FormatInt(id, 10)

	pages := []struct {
		route, path, who string
	}{
		{"/", "/", "bob"},
		{"/", "/", "erin"},
		{"/", "/", "dave"},
		{"/signin", "/signin", ""},
		{"/healthz", "/healthz", ""},
		{"/readyz", "/readyz", ""},
		{"/static/*", "/static/css/app.css", ""},
		{"/auth/oidc", "/auth/oidc", ""},
		{"/auth/oidc/callback", "/auth/oidc/callback", ""},
		{"/account", "/account", "alice"},
		{"/admin", "/admin", "erin"},
		{"/admin/users", "/admin/users", "erin"},
		{"/admin/users/new", "/admin/users/new", "erin"},
		{"/admin/users/:id", "/admin/users/" + user, "erin"},
		{"/admin/teams", "/admin/teams", "erin"},
		{"/admin/teams/:id", "/admin/teams/" + team, "erin"},
		{"/admin/teams/:id/ownership", "/admin/teams/" + team + "/ownership", "erin"},
		{"/admin/teams/:id/ownership/instances/remove", "/admin/teams/" + team + "/ownership/instances/remove?region=cn-north-1&instance_id=mysql-payorders1", "erin"},
		{"/admin/teams/:id/ownership/vpcs/remove", "/admin/teams/" + team + "/ownership/vpcs/remove?region=cn-north-1&vpc_id=vpc-payprod001", "erin"},
		{"/admin/teams/:id/members/:user/remove", "/admin/teams/" + team + "/members/" + user + "/remove", "erin"},
		{"/admin/users/:id/disable", "/admin/users/" + user + "/disable", "erin"},
		{"/admin/users/:id/sessions/revoke", "/admin/users/" + user + "/sessions/revoke", "erin"},
		{"/admin/channels", "/admin/channels", "erin"},
		{"/admin/channels/mail", "/admin/channels/mail", "erin"},
		{"/admin/channels/:id", "/admin/channels/" + strconv.FormatInt(channel, 10), "erin"},
		{"/admin/jobs", "/admin/jobs", "erin"},
		{"/admin/jobs", "/admin/jobs?" + url.Values{"state": {"failed"}, "kind": {"notify_deliver"}}.Encode(), "erin"},
		{"/outbox", "/outbox", "erin"},
		{"/audit", "/audit", "dave"},
		{"/audit", "/audit?" + url.Values{"action": {"request.created"}}.Encode(), "dave"},
		{"/audit", "/audit?" + url.Values{"team": {team}, "from": {today}, "to": {today}}.Encode(), "dave"},
		{"/audit", "/audit?" + url.Values{"actor": {"alice"}}.Encode(), "dave"},
		{"/audit", "/audit?" + url.Values{"target_type": {"request"}, "target_id": {strconv.FormatInt(id, 10)}}.Encode(), "dave"},
		{"/audit", "/audit", "bob"},
		{"/audit/export", "/audit/export?format=csv", "dave"},
		{"/requests", "/requests", "bob"},
		{"/requests", "/requests", "dave"},
		{"/requests", "/requests?" + url.Values{"status": {"pending_approval"}, "region": {"cn-north-1"}}.Encode(), "dave"},
		{"/requests", "/requests?" + url.Values{"team": {team}}.Encode(), "dave"},
		{"/requests", "/requests?" + url.Values{"requester": {"alice"}}.Encode(), "dave"},
		{"/requests", "/requests?" + url.Values{"from": {today}, "to": {today}}.Encode(), "dave"},
		{"/requests", "/requests?" + url.Values{"kind": {"time"}}.Encode(), "dave"},
		{"/requests", "/requests?" + url.Values{"status": {"ready"}, "team": {team}, "kind": {"backup"}}.Encode(), "bob"},
		{"/requests/new", "/requests/new", "alice"},
		{"/requests/:id", req, "bob"},
		{"/requests/:id/status", req + "/status", "alice"},
		{"/approvals", "/approvals", "bob"},
		{"/requests/:id", fmt.Sprintf("/requests/%d", readyID), "alice"},
		{"/requests/:id/copies/:copy/delete", copyPage, "alice"},
		{"/copies", "/copies", "bob"},
		{"/copies", "/copies", "dave"},
		{"/copies", "/copies?sort=monthly", "erin"},
	}
	// Every combination of the history's filters, and of the audit log's,
	// for someone who sees every team and for a lead who sees one.
	history := [][2]string{{"status", "ready"}, {"team", team}, {"requester", "alice"}, {"region", "cn-north-1"},
		{"from", today}, {"kind", "backup"}}
	auditFilters := [][2]string{{"actor", "alice"}, {"team", team}, {"action", "request.created"},
		{"target_type", "request"}, {"from", today + "T00:00"}}
	for _, set := range []struct {
		route   string
		filters [][2]string
	}{{"/requests", history}, {"/audit", auditFilters}} {
		for mask := 1; mask < 1<<len(set.filters); mask++ {
			v := url.Values{}
			for i, f := range set.filters {
				if mask&(1<<i) != 0 {
					v.Set(f[0], f[1])
				}
			}
			for _, who := range []string{"dave", "bob"} {
				pages = append(pages, struct{ route, path, who string }{set.route, set.route + "?" + v.Encode(), who})
			}
		}
	}
	covered := map[string]bool{}
	for _, p := range pages {
		covered[p.route] = true
	}
	var missing []string
	for _, rt := range s.Echo.Routes() {
		if rt.Method == echo.GET && !covered[rt.Path] {
			missing = append(missing, rt.Path)
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("GET %s is not in the page list of TestPagePlans", m)
	}

	clients := map[string]*testkit.Client{}
	for _, p := range pages {
		c, ok := clients[p.who]
		if !ok {
			if p.who == "" {
				c = s.NewClient(t)
			} else {
				c = s.SignIn(t, p.who, demo.Password)
			}
			clients[p.who] = c
		}
		log.take()
		resp, _ := c.Get(t, p.path)
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s as %s: %d", p.path, p.who, resp.StatusCode)
		}
		for _, st := range log.take() {
			if !strings.Contains(st.sql, "restore_requests") && !strings.Contains(st.sql, "audit_events") {
				continue
			}
			if q := strings.TrimSpace(strings.ToUpper(st.sql)); !strings.HasPrefix(q, "SELECT") && !strings.HasPrefix(q, "WITH") && !strings.HasPrefix(q, "(") {
				continue
			}
			for _, bad := range explain(t, pool, st) {
				t.Errorf("GET %s as %s: %s in\n%s", p.path, p.who, bad, st.sql)
			}
		}
	}
}

// explain returns the bad nodes of st's plan with seq scans and sorts off.
func explain(t *testing.T, pool *pgxpool.Pool, st recorded) []string {
	t.Helper()
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off`); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+st.sql, st.args...).Scan(&raw); err != nil {
		t.Errorf("explain %q: %v", st.sql, err)
		return nil
	}
	var plans []struct {
		Plan map[string]any `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) == 0 {
		t.Fatalf("explain output %s: %v", raw, err)
	}
	var out []string
	for _, p := range plans {
		out = append(out, badNodes(p.Plan, nil)...)
	}
	return dedupe(out)
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
