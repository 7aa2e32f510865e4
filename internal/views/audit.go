package views

import (
	"strconv"
	"strings"
	"time"
)

// AuditEvent is one audit event as the audit page and request timelines show
// it. The handlers build it from audit.Row (handlers.auditEvents).
type AuditEvent struct {
	Seq        int64
	Time       time.Time
	Actor      string // username, or "system"
	ActorID    int64  // 0 for the system or an unknown user
	Action     string // identifier, such as "request.approved"
	TargetType string
	TargetID   string
	TargetHref string // the target's page, "" when it has none
	Team       string // team name (or id), "" when none
	ClientAddr string // "" when hidden from the viewer
	UserAgent  string
	Details    []KV   // sorted by key; values are compact JSON for anything but strings
	Sentence   string // what it means, in words (timelines)
	// Flag draws a reviewer's eye to the event ("admin created an admin"),
	// "" for most events.
	Flag string
}

// TimelineItem is one entry of a request's timeline: an event, or a run of
// routine JD Cloud calls folded into one line.
type TimelineItem struct {
	Event  AuditEvent
	Folded []AuditEvent
}

// KV is one key: value pair of an event's details.
type KV struct {
	Key, Value string
}

// AuditFilter is the audit page's filter form, as typed.
type AuditFilter struct {
	From, To, Actor, Team, Action, TargetType, TargetID string
	Zone                                                string            // the zone From and To are read in, the viewer's
	Errors                                              map[string]string // field name → problem
}

// AuditProps is what the audit page shows.
type AuditProps struct {
	Filter       AuditFilter
	Actions      []string // the action identifiers to offer
	TargetTypes  []string
	Events       []AuditEvent
	HidePersonal bool   // no address and user agent columns
	ExportCSV    string // export links; "" when the viewer may not export
	ExportJSONL  string
	NewerHref    string
	OlderHref    string
}

// actionLabels are the words a timeline shows for each action.
var actionLabels = map[string]string{
	"auth.sign_in":               "Signed in",
	"auth.sign_in_failed":        "Sign-in failed",
	"auth.sign_out":              "Signed out",
	"auth.sessions_revoked":      "Sessions revoked",
	"request.created":            "Request created",
	"request.cancelled":          "Cancelled",
	"request.approved":           "Approved",
	"request.rejected":           "Rejected",
	"request.expired":            "Expired",
	"request.execution_started":  "Execution started",
	"jdcloud.call":               "JD Cloud call",
	"request.instance_created":   "Instance created",
	"request.instance_adopted":   "Instance adopted",
	"request.duplicate_instance": "Duplicate instance found",
	"request.ready":              "Ready",
	"request.failed":             "Failed",
	"admin.user_created":         "User created",
	"admin.user_updated":         "User updated",
	"admin.user_disabled":        "User disabled",
	"admin.password_reset":       "Password reset",
	"admin.team_created":         "Team created",
	"admin.membership_changed":   "Membership changed",
	"admin.ownership_changed":    "Ownership changed",
	"audit.exported":             "Audit log exported",
}

// ActionLabel returns the words for an action identifier (the identifier
// itself when it has none).
func ActionLabel(action string) string {
	if l, ok := actionLabels[action]; ok {
		return l
	}
	return action
}

func auditSeq(n int64) string { return strconv.FormatInt(n, 10) }

func auditTarget(e AuditEvent) string {
	if e.TargetID == "" {
		return e.TargetType
	}
	return e.TargetType + " " + e.TargetID
}

// detailSummary is the one line an event's closed details show: its keys
// and the start of their values, cut short (the stylesheet ellipsizes it to
// the column; the server cuts it so a page does not carry each value twice).
func detailSummary(details []KV) string {
	if len(details) == 0 {
		return "Client"
	}
	var b strings.Builder
	for i, kv := range details {
		if i > 0 {
			b.WriteString(" · ")
		}
		b.WriteString(kv.Key)
		b.WriteString(": ")
		b.WriteString(Excerpt(kv.Value, 40))
		if b.Len() > 200 {
			break
		}
	}
	return b.String()
}
