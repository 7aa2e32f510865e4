package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
)

// Filter selects audit events; zero fields select everything.
type Filter struct {
	From       time.Time // events at or after From
	To         time.Time // events before To
	Actor      string    // a user id, or an actor name (a username, or "system")
	TeamID     int64
	Action     string
	TargetType string
	TargetID   string // only with TargetType
}

// Cursor positions a page by seq: Before > 0 asks for the page of events
// older than Before, After > 0 for the page newer than After; neither, the
// newest page.
type Cursor struct {
	Before, After int64
}

// Page is one page of events, newest first.
type Page struct {
	Events []Row
	Newer  int64 // > 0: Cursor{After: Newer} is the newer page
	Older  int64 // > 0: Cursor{Before: Older} is the older page
}

// Query returns one page of at most limit events that match f and that scope
// may see, newest first. Paging is by seq (keyset), so a deep page costs what
// the first does. With scope.HidePersonal, client addresses and user agents
// come back empty.
func Query(ctx context.Context, db postgres.DBTX, f Filter, scope policy.AuditScope, cur Cursor, limit int) (Page, error) {
	if limit <= 0 {
		limit = 50
	}
	sql, args, err := pageSQL(ctx, db, f, scope, cur, limit+1)
	if err != nil || sql == "" {
		return Page{}, err
	}
	asc := cur.After > 0
	rows, err := collect(ctx, db, sql, args)
	if err != nil {
		return Page{}, err
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	p := Page{Events: rows}
	if asc {
		slices.Reverse(rows)
	}
	if len(rows) == 0 {
		if asc {
			p.Older = cur.After + 1
		} else if cur.Before > 0 {
			p.Newer = cur.Before - 1
		}
		return p, nil
	}
	first, last := rows[0].Seq, rows[len(rows)-1].Seq
	switch {
	case asc:
		p.Older = last
		if more {
			p.Newer = first
		}
	default:
		if cur.Before > 0 {
			p.Newer = first
		}
		if more {
			p.Older = last
		}
	}
	return p, nil
}

// pageSQL returns the statement and arguments of one page of limit events
// ("" when nothing can match).
func pageSQL(ctx context.Context, db postgres.DBTX, f Filter, scope policy.AuditScope, cur Cursor, limit int) (string, []any, error) {
	q, err := build(ctx, db, f, scope)
	if err != nil || q.empty {
		return "", nil, err
	}
	asc := cur.After > 0
	switch {
	case asc:
		q.where("seq > " + q.arg(cur.After))
	case cur.Before > 0:
		q.where("seq < " + q.arg(cur.Before))
	}
	return q.page(scope, asc, limit), q.args, nil
}

// Timeline returns the events of one target (such as TargetRequest and the
// request's id) that scope may see, oldest first: the history shown on a
// request's page. Engineers' scope hides addresses and user agents.
func Timeline(ctx context.Context, db postgres.DBTX, targetType, targetID string, scope policy.AuditScope) ([]Row, error) {
	q, err := build(ctx, db, Filter{TargetType: targetType, TargetID: targetID}, scope)
	if err != nil || q.empty {
		return nil, err
	}
	return collect(ctx, db, q.all(scope), q.args)
}

// Each calls fn for every event matching f that scope may see, up to and
// including event upTo (0: all), oldest first. Rows stream from the database
// one at a time, so memory stays constant however many match. An error from
// fn stops the walk and is returned.
func Each(ctx context.Context, db postgres.DBTX, f Filter, scope policy.AuditScope, upTo int64, fn func(*Row) error) error {
	q, err := build(ctx, db, f, scope)
	if err != nil || q.empty {
		return err
	}
	if upTo > 0 {
		q.where("seq <= " + q.arg(upTo))
	}
	return scanEach(ctx, db, q.all(scope), q.args, fn)
}

// planEachTime makes PostgreSQL plan a query for its actual values: an
// unnamed statement gets a custom plan every time. The default (a cached
// prepared statement) switches to a generic plan after five runs, and a
// generic plan cannot tell a rare action (best found on its own index) from a
// common one (best found walking seq), which made some pages 20 times slower.
const planEachTime = pgx.QueryExecModeCacheDescribe

// query is a filter turned into SQL conditions and their arguments.
type query struct {
	conds []string
	args  []any
	teams []int64 // restrict to these teams; nil: any team
	empty bool    // nothing can match
}

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *query) where(cond string) { q.conds = append(q.conds, cond) }

// build turns f and scope into conditions. Every condition is a plain
// equality or a seq range, so each filter (and the team of a lead's scope)
// meets an index ending in seq: see migrations 00002 and 00004.
func build(ctx context.Context, db postgres.DBTX, f Filter, scope policy.AuditScope) (*query, error) {
	q := &query{}
	if !scope.All {
		// Leads and engineers: only the events of their teams' requests.
		q.where("target_type = 'request'")
		q.teams = scope.TeamIDs
		if f.TeamID != 0 {
			q.teams = nil
			if slices.Contains(scope.TeamIDs, f.TeamID) {
				q.teams = []int64{f.TeamID}
			}
		}
		if len(q.teams) == 0 {
			q.empty = true
			return q, nil
		}
	} else if f.TeamID != 0 {
		q.teams = []int64{f.TeamID}
	}
	// occurred_at never decreases along seq (Record sees to it, Verify checks
	// it), so a time range is a seq range: find its ends on the occurred_at
	// index, then page on seq like every other filter.
	if !f.From.IsZero() {
		lo, ok, err := seqAt(ctx, db, `SELECT seq FROM audit_events WHERE occurred_at >= $1 ORDER BY occurred_at, seq LIMIT 1`, f.From)
		if err != nil || !ok {
			q.empty = true
			return q, err
		}
		q.where("seq >= " + q.arg(lo))
	}
	if !f.To.IsZero() {
		hi, ok, err := seqAt(ctx, db, `SELECT seq FROM audit_events WHERE occurred_at < $1 ORDER BY occurred_at DESC, seq DESC LIMIT 1`, f.To)
		if err != nil || !ok {
			q.empty = true
			return q, err
		}
		q.where("seq <= " + q.arg(hi))
	}
	if f.Actor != "" {
		if id, err := strconv.ParseInt(f.Actor, 10, 64); err == nil {
			q.where("actor_id = " + q.arg(id))
		} else {
			q.where("actor_name = " + q.arg(f.Actor))
		}
	}
	if f.Action != "" {
		q.where("action = " + q.arg(f.Action))
	}
	if f.TargetType != "" {
		q.where("target_type = " + q.arg(f.TargetType))
		if f.TargetID != "" {
			q.where("target_id = " + q.arg(f.TargetID))
		}
	}
	return q, nil
}

func seqAt(ctx context.Context, db postgres.DBTX, sql string, t time.Time) (int64, bool, error) {
	var seq int64
	err := db.QueryRow(ctx, sql, planEachTime, t).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find audit time range: %w", err)
	}
	return seq, true, nil
}

// columns selects rowColumns, with personal fields blanked for scopes that
// must not see them, so they never leave the database.
func columns(scope policy.AuditScope) string {
	if !scope.HidePersonal {
		return rowColumns
	}
	hidden := "''::text AS client_addr, ''::text AS user_agent"
	if scope.Self > 0 {
		// The viewer's own events keep their addresses: only other
		// people's are theirs to keep (docs/architecture.md, Who may do what).
		self := strconv.FormatInt(scope.Self, 10)
		hidden = "CASE WHEN actor_id = " + self + " THEN client_addr ELSE '' END AS client_addr, " +
			"CASE WHEN actor_id = " + self + " THEN user_agent ELSE '' END AS user_agent"
	}
	return strings.Replace(rowColumns, "client_addr, user_agent", hidden, 1)
}

// page is the SQL for one page of limit events. With several teams each gets
// its own ordered, limited branch (an index range scan on (team_id, …, seq))
// and the branches are merged: one team_id = ANY(…) condition would instead
// have to sort every matching event.
func (q *query) page(scope policy.AuditScope, asc bool, limit int) string {
	order := " ORDER BY seq DESC LIMIT " + strconv.Itoa(limit)
	if asc {
		order = " ORDER BY seq LIMIT " + strconv.Itoa(limit)
	}
	if len(q.teams) <= 1 {
		return q.selectFor(scope, q.teams) + order
	}
	branches := make([]string, len(q.teams))
	for i, t := range q.teams {
		branches[i] = "(" + q.selectFor(scope, []int64{t}) + order + ")"
	}
	return "SELECT * FROM (" + strings.Join(branches, " UNION ALL ") + ") AS e" + order
}

// all is the SQL for every matching event, oldest first.
func (q *query) all(scope policy.AuditScope) string {
	return q.selectFor(scope, q.teams) + " ORDER BY seq"
}

func (q *query) selectFor(scope policy.AuditScope, teams []int64) string {
	conds := slices.Clone(q.conds)
	switch len(teams) {
	case 0:
	case 1:
		conds = append(conds, "team_id = "+strconv.FormatInt(teams[0], 10))
	default:
		ids := make([]string, len(teams))
		for i, t := range teams {
			ids[i] = strconv.FormatInt(t, 10)
		}
		conds = append(conds, "team_id IN ("+strings.Join(ids, ", ")+")")
	}
	sql := "SELECT " + columns(scope) + " FROM audit_events"
	if len(conds) > 0 {
		sql += " WHERE " + strings.Join(conds, " AND ")
	}
	return sql
}

func collect(ctx context.Context, db postgres.DBTX, sql string, args []any) ([]Row, error) {
	var out []Row
	err := scanEach(ctx, db, sql, args, func(r *Row) error {
		out = append(out, *r)
		return nil
	})
	return out, err
}

// scanEach runs sql, which selects rowColumns, and calls fn with each row as
// it arrives from the server.
func scanEach(ctx context.Context, db postgres.DBTX, sql string, args []any, fn func(*Row) error) error {
	rows, err := db.Query(ctx, sql, append([]any{planEachTime}, args...)...)
	if err != nil {
		return fmt.Errorf("read audit events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r       Row
			details []byte
		)
		if err := rows.Scan(r.scanDest(&details)...); err != nil {
			return fmt.Errorf("read audit events: %w", err)
		}
		r.Details = details
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit events: %w", err)
	}
	return nil
}
