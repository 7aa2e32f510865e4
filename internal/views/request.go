package views

import (
	"time"

	"restoredesk/internal/request"
)

// RefreshSeconds is how often a request's page reloads itself without
// JavaScript while Restore Desk works on the request (approved, creating):
// the instance takes minutes, so a few seconds late is no loss.
const RefreshSeconds = 5

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
	WaitingFor      string // pending: who may decide ("Waiting for bob or grace to approve or reject it.")
	Gone            string // why approval is refused: the point in time is now out of JD Cloud's reach; the way forward
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

// Outcome says, on a request that ended without an instance to use, why,
// what it left behind and what to do next; empty for every other request.
func (r RequestDetail) Outcome() []string {
	again := "To go on, use \"Request again\": it files a new request with the same choices, to be approved anew."
	switch r.Status {
	case request.Expired:
		return []string{
			"No lead of " + r.Team + " approved or rejected the request in time, so it expired. Nothing was created and nothing is billed.",
			again + " Tell a lead of the team, so that it is decided in time.",
		}
	case request.Failed:
		left := "Restore Desk found no instance of this request at JD Cloud, so nothing is billed and there is nothing to clean up."
		if r.InstanceID != "" {
			left = "JD Cloud created instance " + r.InstanceID + ", which may still exist: while it does it is billed, as the billing above says. " +
				"Restore Desk lists it under Live copies and deletes it 24 hours after finding it (a team that keeps copies gets reminders instead, and a lead of " + r.Team + " deletes it there)."
		}
		return []string{left, again}
	}
	return nil
}
