package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/request"
)

// RequestFilter selects restore requests for the history, the approvals
// queue and the dashboard. Zero fields select everything within the teams.
type RequestFilter struct {
	AllTeams     bool    // any team; otherwise only TeamIDs
	TeamIDs      []int64 // the teams whose requests may appear (when !AllTeams)
	TeamID       int64   // one team
	Status       request.Status
	Requester    string // a username
	RequesterID  int64
	NotRequester int64 // leave out this user's requests
	Region       string
	Kind         request.Kind // a backup or a point in time; empty: both
	CreatedFrom  time.Time    // created at or after
	CreatedTo    time.Time    // created before
	Undecided    bool         // pending and still within the approval window
}

// RequestCursor positions a page by request id, in the list's own order:
// After > 0 asks for the page that follows request After, Before > 0 for the
// page that precedes request Before; neither, the first page.
type RequestCursor struct {
	After, Before int64
}

// RequestPage is one page of requests.
type RequestPage struct {
	Requests []request.Request
	Prev     int64 // > 0: RequestCursor{Before: Prev} is the previous page
	Next     int64 // > 0: RequestCursor{After: Next} is the next page
}

// where turns f into SQL conditions over requestSelect's aliases. It
// reports false when nothing can match (no teams in scope).
func (f RequestFilter) where(args *[]any) ([]string, bool) {
	arg := func(v any) string {
		*args = append(*args, v)
		return "$" + strconv.Itoa(len(*args))
	}
	var conds []string
	if !f.AllTeams {
		if len(f.TeamIDs) == 0 || (f.TeamID != 0 && !slices.Contains(f.TeamIDs, f.TeamID)) {
			return nil, false
		}
		conds = append(conds, "r.team_id = ANY("+arg(f.TeamIDs)+")")
	}
	if f.TeamID != 0 {
		conds = append(conds, "r.team_id = "+arg(f.TeamID))
	}
	if f.Status != "" {
		conds = append(conds, "r.status = "+arg(f.Status))
	}
	if f.Requester != "" {
		conds = append(conds, "ru.username = "+arg(f.Requester))
	}
	if f.RequesterID != 0 {
		conds = append(conds, "r.requester_id = "+arg(f.RequesterID))
	}
	if f.NotRequester != 0 {
		conds = append(conds, "r.requester_id <> "+arg(f.NotRequester))
	}
	if f.Kind != "" {
		conds = append(conds, "r.kind = "+arg(f.Kind))
	}
	if f.Region != "" {
		conds = append(conds, "r.region = "+arg(f.Region))
	}
	if !f.CreatedFrom.IsZero() {
		conds = append(conds, "r.created_at >= "+arg(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		conds = append(conds, "r.created_at < "+arg(f.CreatedTo))
	}
	if f.Undecided {
		conds = append(conds, "r.status = "+pending+" AND r.expires_at > now()")
	}
	return conds, true
}

// ListRequests returns one page of at most limit requests matching f, newest
// first, or oldest first with oldestFirst. Pages are keyset pages on the id
// (which grows with the creation time), so a deep page costs what the first
// does. The team, status and requester filters meet an index ending in id
// (migration 00006); region and dates are checked along the id order.
func (d *DB) ListRequests(ctx context.Context, f RequestFilter, cur RequestCursor, oldestFirst bool, limit int) (RequestPage, error) {
	var args []any
	conds, ok := f.where(&args)
	if !ok {
		return RequestPage{}, nil
	}
	// "ahead" is the list's direction: ids below the cursor when newest first.
	ahead, behind, order := "<", ">", "DESC"
	if oldestFirst {
		ahead, behind, order = ">", "<", "ASC"
	}
	backward := cur.Before > 0
	switch {
	case backward:
		args = append(args, cur.Before)
		conds = append(conds, "r.id "+behind+" $"+strconv.Itoa(len(args)))
		order = map[string]string{"ASC": "DESC", "DESC": "ASC"}[order]
	case cur.After > 0:
		args = append(args, cur.After)
		conds = append(conds, "r.id "+ahead+" $"+strconv.Itoa(len(args)))
	}
	sql := requestSelect
	if len(conds) > 0 {
		sql += " WHERE " + strings.Join(conds, " AND ")
	}
	sql += " ORDER BY r.id " + order + " LIMIT " + strconv.Itoa(limit+1)
	rows, err := d.db.Query(ctx, sql, args...)
	if err != nil {
		return RequestPage{}, fmt.Errorf("list requests: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[request.Request])
	if err != nil {
		return RequestPage{}, fmt.Errorf("read requests: %w", err)
	}
	more := len(list) > limit
	if more {
		list = list[:limit]
	}
	if backward {
		slices.Reverse(list)
	}
	p := RequestPage{Requests: list}
	// step moves an id one place against the list's direction.
	step := int64(-1)
	if oldestFirst {
		step = 1
	}
	if len(list) == 0 {
		// Past either end (the rows were filtered away meanwhile): offer
		// the way back, including the cursor's own request.
		if backward {
			p.Next = cur.Before - step
		} else if cur.After > 0 {
			p.Prev = cur.After + step
		}
		return p, nil
	}
	first, last := list[0].ID, list[len(list)-1].ID
	if backward {
		p.Next = last
		if more {
			p.Prev = first
		}
	} else {
		if cur.After > 0 {
			p.Prev = first
		}
		if more {
			p.Next = last
		}
	}
	return p, nil
}

// CountCap is where counts stop: a total up to it is exact, and a count of
// CountCap+1 means "more than CountCap". Counting further would make a page's
// cost grow with the table (a lead's backlog, a year of history) for a
// figure nobody reads digit by digit.
const CountCap = 10_000

// CountRequests counts the requests matching f, up to CountCap+1.
func (d *DB) CountRequests(ctx context.Context, f RequestFilter) (int, error) {
	return d.countRequests(ctx, f, 0, false, CountCap)
}

// CountRequestsUpTo counts the requests matching f, up to upTo+1: a count
// of upTo+1 means "more than upTo".
func (d *DB) CountRequestsUpTo(ctx context.Context, f RequestFilter, upTo int) (int, error) {
	return d.countRequests(ctx, f, 0, false, upTo)
}

// TeamNames returns the id and name of every team, by name: the choices of
// the history's team filter for those who see every team.
func (d *DB) TeamNames(ctx context.Context) ([]Team, error) {
	rows, err := d.db.Query(ctx, `SELECT id, name FROM teams ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("team names: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByNameLax[Team])
}

// CountRequestsCapped counts the requests matching f, up to CountCap+1 (a count
// above CountCap means "more than CountCap"). With ahead > 0 it counts only
// those that come before request ahead in the list's order (newest first,
// or oldest first with oldestFirst): the place of a page in its list.
func (d *DB) CountRequestsCapped(ctx context.Context, f RequestFilter, ahead int64, oldestFirst bool) (int, error) {
	return d.countRequests(ctx, f, ahead, oldestFirst, CountCap)
}

func (d *DB) countRequests(ctx context.Context, f RequestFilter, ahead int64, oldestFirst bool, upTo int) (int, error) {
	var args []any
	conds, ok := f.where(&args)
	if !ok {
		return 0, nil
	}
	if ahead > 0 {
		args = append(args, ahead)
		op := ">"
		if oldestFirst {
			op = "<"
		}
		conds = append(conds, "r.id "+op+" $"+strconv.Itoa(len(args)))
	}
	sql := `SELECT 1 FROM restore_requests r`
	if f.Requester != "" {
		sql += ` JOIN users ru ON ru.id = r.requester_id`
	}
	if len(conds) > 0 {
		sql += " WHERE " + strings.Join(conds, " AND ")
	}
	var n int
	if err := d.db.QueryRow(ctx, `SELECT count(*) FROM (`+sql+` LIMIT `+strconv.Itoa(upTo+1)+`) c`, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count requests: %w", err)
	}
	return n, nil
}

// Requester is someone who may have filed a request, as the history's
// filter offers them.
type Requester struct {
	ID       int64
	Name     string
	Username string
}

// Requesters lists, by name, the people whose requests f's teams hold: the
// members of those teams, or every user when f covers all teams. It reads
// the memberships, never the requests, so it costs the same however long
// the history grows.
func (d *DB) Requesters(ctx context.Context, f RequestFilter) ([]Requester, error) {
	sql, args := `SELECT id, display_name, username FROM users ORDER BY display_name, username`, []any(nil)
	if !f.AllTeams {
		if len(f.TeamIDs) == 0 {
			return nil, nil
		}
		sql, args = `SELECT DISTINCT u.id, u.display_name, u.username FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.team_id = ANY($1) ORDER BY u.display_name, u.username`, []any{f.TeamIDs}
	}
	rows, err := d.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list requesters: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Requester, error) {
		var q Requester
		return q, r.Scan(&q.ID, &q.Name, &q.Username)
	})
	if err != nil {
		return nil, fmt.Errorf("read requesters: %w", err)
	}
	return out, nil
}
