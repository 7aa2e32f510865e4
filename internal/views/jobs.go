package views

import (
	"strconv"
	"time"
)

// JobsProps is the admin jobs page: the counts per kind, then one group's
// jobs, newest first, a page at a time.
type JobsProps struct {
	Group    string // the group shown
	Kind     string // the kind filter; "" for every kind
	Groups   []JobTab
	Counts   []JobKindCount
	Kinds    []Option
	Jobs     []JobRow
	PrevHref string
	NextHref string
}

// JobTab is one group's tab with its count.
type JobTab struct {
	Group, Label, Href string
	Count              int
	Active             bool
}

// JobKindCount is one kind's line of the counts table: a count per group, in
// the order of JobsProps.Groups.
type JobKindCount struct {
	Kind   string
	Counts []JobCell
}

// JobCell is one count, linking to its list.
type JobCell struct {
	Count int
	Href  string
}

// JobRow is one job.
type JobRow struct {
	ID         int64
	Kind       string
	Queue      string
	State      string // River's state
	Badge      string
	Attempt    string // "2 of 5"
	Created    time.Time
	NextRun    time.Time // queued or retrying: when it runs next
	Finalized  time.Time
	LastError  string
	Args       string
	Delivery   string // a notification delivery: "delivery #12 (request.created): failed"
	DeliveryID int64
	CanRetry   bool // a failed notification delivery: "Retry now" resends it
}

// RetryHref is the job's "Retry now" action.
func (j JobRow) RetryHref() string { return "/admin/jobs/" + strconv.FormatInt(j.ID, 10) + "/retry" }
