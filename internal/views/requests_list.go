package views

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"restoredesk/internal/request"
)

// RequestRow is one restore request in a list: the history, the approvals
// queue, the dashboard.
type RequestRow struct {
	ID         int64
	Team       string
	Requester  string
	Status     request.Status
	Region     string
	Source     string
	BackupTime string // what is restored: the backup's time, or the point in time
	Reason     string // an excerpt
	Created    time.Time
	Age        string // since it was created, e.g. "3 h 20 min"
	TimeLeft   string // before the approval window closes (pending requests)
	WaitingFor string // the approvals queue: who may decide it
	Instance   string // the new instance: "restore-12 (mysql-abc)", once JD Cloud has it
	ReadyAt    time.Time

	// What the request will create, in the form's words (the approvals
	// queue shows them so that a lead can decide from it).
	Engine  string // "MySQL 8.0"
	Class   string // "db.mysql.s1.small (1 CPU, 2 GB)"
	Storage string // "100 GB, Local SSD"
	VPC     string // "prod-vpc (vpc-123)"
	Billing string // "Pay as you go, by duration"
	KeepFor string // "3 days from Ready"; "" for requests from before lifetimes
}

// Href is the request's page.
func (r RequestRow) Href() string { return "/requests/" + strconv.FormatInt(r.ID, 10) }

// RequestFilterForm is the history's filter form, as typed.
type RequestFilterForm struct {
	Status, Team, Requester, Region, Kind, From, To string
	Zone                                            string            // the zone the dates are days in, the viewer's
	Errors                                          map[string]string // field → problem
}

// RequestHistoryProps is the request history page.
type RequestHistoryProps struct {
	Filter     RequestFilterForm
	Statuses   []Option
	Teams      []Option // the teams the viewer may filter by (value: team id)
	Regions    []Option
	Requesters []Option // the people who filed requests the viewer may see (value: user id)
	Requests   []RequestRow
	Range      string // "1–25 of 1,204"
	Filtered   bool   // some filter is set (changes the empty state's words)
	PrevHref   string
	NextHref   string
}

// ApprovalsProps is the approvals queue of a lead.
type ApprovalsProps struct {
	Decide      []RequestRow // pending requests the viewer may decide, oldest first
	PrevHref    string
	NextHref    string
	Own         []RequestRow // the viewer's own pending requests in teams they lead
	OwnMoreHref string       // the full list of them, when Own is cut short
}

// DashboardRequests are the dashboard's restore sections.
type DashboardRequests struct {
	Mine         []RequestRow // the viewer's latest requests
	MineHref     string       // all of them, in the history
	CanRequest   bool         // the viewer is in a team
	Lead         bool         // leads a team: show what waits for their decision
	WaitingCount int          // up to DashWaitingUpTo+1
	Waiting      []RequestRow // the oldest of those
	Activity     []AuditEvent // latest events the viewer may see, newest first
	AuditHref    string       // the audit log, when the viewer may open it
	Admin        bool         // show the instances to delete
	Duplicates   []DuplicateInstance
}

// Duration renders a span for people: "45 s", "12 min", "3 h 20 min",
// "2 d 4 h". Negative spans are "0 s".
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		h := int(d.Hours())
		return fmt.Sprintf("%d h %d min", h, int(d.Minutes())-60*h)
	}
	days := int(d.Hours()) / 24
	return fmt.Sprintf("%d d %d h", days, int(d.Hours())-24*days)
}

// Excerpt shortens s to at most n characters, ending with "…" when cut.
func Excerpt(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// DashWaitingUpTo is where the dashboard's count of what waits for a lead
// stops ("more than 1,000"): the count is taken on every view of the
// dashboard, so a team's backlog of 80,000 must not make each view count
// them all; the queue lists them.
const DashWaitingUpTo = 1000

// ListRange says which rows of a list a page shows: "1–25 of 1,204". before
// is how many rows come ahead of the page and total how many there are, each
// counted up to limit+1; past limit the words say "more than".
func ListRange(before, shown, total, limit int) string {
	if shown == 0 {
		return ""
	}
	of := "of " + Thousands(total)
	if total > limit {
		of = "of more than " + Thousands(limit)
	}
	if before > limit {
		return Thousands(shown) + " " + of
	}
	return Thousands(before+1) + "–" + Thousands(before+shown) + " " + of
}

// Thousands writes n with a comma between thousands: 1,204.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// columns says which of a request table's columns tell the rows apart: a
// column whose value is the same on every row (one team; the viewer's own
// requests) is said once above the table instead.
type columns struct {
	Team, Requester bool
	Same            string // "Team payments · Requested by Alice"
}

func columnsOf(rows []RequestRow) columns {
	c := columns{}
	var same []string
	for _, r := range rows {
		c.Team = c.Team || r.Team != rows[0].Team
		c.Requester = c.Requester || r.Requester != rows[0].Requester
	}
	if len(rows) < 2 {
		c.Team, c.Requester = true, true
		return c
	}
	if !c.Team {
		same = append(same, "Team "+rows[0].Team)
	}
	if !c.Requester {
		same = append(same, "Requested by "+rows[0].Requester)
	}
	c.Same = strings.Join(same, " · ")
	return c
}
