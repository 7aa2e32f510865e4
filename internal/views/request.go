package views

import (
	"time"

	"restoredesk/internal/request"
)

// RequestDetail is a request's page.
type RequestDetail struct {
	ID             int64
	Status         request.Status
	Team           string
	Requester      string
	Region         string
	Source         string
	Kind           string // what is restored, in words: "A backup", "A point in time"
	Backup         string
	RestorePoint   string // the moment restored, in Beijing time and UTC (point in time)
	Estimate       string // what the instance costs at list price, or "No estimate"
	EstimateLabel  string // "estimate, list price, as of …", or why there is none
	Engine         string
	Params         []Param
	Reason         string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	Decider        string
	DecidedAt      time.Time
	Comment        string
	InstanceID     string
	InstanceStatus string
	Domain         string
	Port           string
	FailureReason  string
	Failure        []Param
	Progress       string // what the worker is doing, in words
	Duplicates     []DuplicateInstance
	KeepFor        string    // "3 days from Ready", "" for requests from before lifetimes
	Copies         []CopyRow // the instances the request made

	CanApprove      bool
	CanReject       bool
	CanCancel       bool
	CanRequestAgain bool
	DecideNote      string // why the viewer cannot decide, when that helps
	RejectComment   string // kept after a refused reject
	RejectError     string
	ApproveComment  string // kept after a refused approve (a comment too long)
	ApproveError    string

	Timeline []TimelineItem
}

// DuplicateInstance is an instance carrying a request's tag that is not the
// request's own: someone must delete it, since it bills until then.
type DuplicateInstance struct {
	InstanceID string
	Name       string
	Region     string
	RequestID  int64
	Team       string
	Found      time.Time
}

// Param is one labelled value.
type Param struct{ Label, Value string }
