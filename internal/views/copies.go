package views

import (
	"strconv"
	"time"
)

// CopyRow is one restored copy, on its request's page and on Live copies.
type CopyRow struct {
	ID         int64
	RequestID  int64
	Team       string
	Requester  string
	Region     string
	InstanceID string
	State      string // in words: Running, Deleting, Deleted, Delete failed, …
	StateKind  string // the badge kind
	Duplicate  bool   // not the request's own instance
	Failed     bool   // the instance of a failed request
	Prepaid    bool
	Created    time.Time
	Age        string
	DeleteAt   time.Time // zero: not set
	DeleteUTC  string    // the deletion time in UTC, for the exact reading
	Failure    string
	SoFar      string // the estimate so far, or "" when none
	Monthly    string // the estimate per month, or ""
	SoFarCNY   float64
	MonthlyCNY float64
	CanExtend  bool
	CanDelete  bool
	KeepDays   string // the extend form's value
	KeepMax    int
	KeepError  string
	Label      string // "estimate, list price, as of …"
}

// Stands out: the copies nobody asked to keep (a failed request's
// instance, a duplicate).
func (c CopyRow) StandsOut() bool { return c.Duplicate || c.Failed }

func (c CopyRow) href(action string) string {
	return "/requests/" + strconv.FormatInt(c.RequestID, 10) + "/copies/" + strconv.FormatInt(c.ID, 10) + "/" + action
}

// LiveCopies is the Live copies page.
type LiveCopies struct {
	Rows   []CopyRow
	Totals []TeamTotal
	Sort   string
	Label  string
}

// TeamTotal is a team's live copies added up.
type TeamTotal struct {
	Team           string
	Copies         int
	SoFar, Monthly string
}

// sortLinks are the Live copies page's sortable columns.
var sortLinks = []struct{ Key, Label string }{
	{"team", "Team"}, {"requester", "Requester"}, {"age", "Age"}, {"delete_at", "Deletion time"},
	{"state", "State"}, {"so_far", "So far"}, {"monthly", "Per month"},
}
