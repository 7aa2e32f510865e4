package notify

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
)

// GroupActions are the audit actions about a request that its team's group
// channels receive: every step of its life, and the duplicate instances JD
// Cloud made for it. jdcloud.call is left out on purpose: it records each
// API call, and the step it leads to is announced by its own event.
var GroupActions = []string{
	"request.created", "request.cancelled", "request.approved", "request.rejected", "request.expired",
	"request.execution_started", "request.instance_created", "request.instance_adopted", "request.duplicate_instance",
	"request.ready", "request.failed", "copy.deleted", "copy.delete_failed",
}

// Personal recipients per action (see the README's table): the roles of the
// people mailed. approver: a lead of the team other than the requester.
var personalRoles = map[string][]string{
	"request.created":   {RoleApprover},
	"request.approved":  {RoleRequester},
	"request.rejected":  {RoleRequester},
	"request.ready":     {RoleRequester},
	"request.expired":   {RoleRequester},
	"request.cancelled": {RoleRequester},
	"request.failed":    {RoleRequester, RoleApprover},
	// A duplicate instance bills until someone deletes it in the JD Cloud
	// console, which only admins are asked to do.
	"request.duplicate_instance": {RoleAdmin},
	// The restored copy's end: deleted, or a delete JD Cloud refused, which
	// a lead must finish by hand.
	"copy.deleted":       {RoleRequester},
	"copy.delete_failed": {RoleRequester, RoleApprover},
}

// Roles that make someone a personal recipient.
const (
	RoleApprover  = "approver"  // may decide the request: a lead of its team, not its requester
	RoleRequester = "requester" // filed the request
	RoleLead      = "lead"      // escalation: a lead of the team
	RoleAdmin     = "admin"     // escalation, duplicate instances: an admin
)

// event is what a message is rendered from.

type event struct {
	Type     string
	Request  request.Request
	Event    *postgres.NotifyEvent // nil for reminders and tests
	Deciders []postgres.User       // who may decide now (pending requests)
	BaseURL  *url.URL
	Now      time.Time
}

// requestURL links to request id's page, or "" without BASE_URL.
func requestURL(base *url.URL, id int64) string {
	if base == nil {
		return ""
	}
	return base.JoinPath("requests", strconv.FormatInt(id, 10)).String()
}

// messageTime renders a JD Cloud time (backup times come without a zone, in
// JD Cloud's) in UTC, as messages show every time; anything unparsable as it
// came.
func messageTime(s string) string {
	t, err := jdcloud.ParseTime(s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// render builds the message of ev; id is the delivery's stable id.
func render(id string, ev event) Message {
	r := ev.Request
	details := map[string]any{}
	actor := "Restore Desk"
	when := ev.Now
	if ev.Event != nil {
		json.Unmarshal(ev.Event.Details, &details)
		if ev.Event.ActorName != "system" {
			actor = ev.Event.ActorName
		}
		when = ev.Event.OccurredAt
	}
	str := func(k string) string { s, _ := details[k].(string); return s }
	num := fmt.Sprintf("#%d", r.ID)
	m := Message{ID: id, Type: ev.Type, Time: when, URL: requestURL(ev.BaseURL, r.ID)}
	source := r.SourceInstanceID
	if r.SourceInstanceName != "" {
		source = r.SourceInstanceName + " (" + r.SourceInstanceID + ")"
	}
	backup := r.BackupID
	if r.BackupName != "" {
		backup = r.BackupName + " (" + r.BackupID + ")"
	}
	if r.BackupTime != "" {
		backup += ", taken " + messageTime(r.BackupTime)
	}
	what := Field{"Backup", backup}
	if r.Kind == request.ToPointInTime && r.RestoreTime != nil {
		// A message has no viewer: the moment in UTC and in Beijing time,
		// the zone JD Cloud's console shows.
		what = Field{"Point in time", r.RestoreTime.UTC().Format("2006-01-02 15:04 UTC") + " (" +
			r.RestoreTime.In(jdcloud.TimeZone).Format("2006-01-02 15:04") + " Beijing time)"}
	}
	m.Fields = []Field{
		{"Request", num}, {"Team", r.TeamName}, {"Requested by", r.RequesterName},
		{"Source", source + " in " + r.Region}, what, {"Reason", r.Reason},
	}
	var names, usernames []string
	for _, u := range ev.Deciders {
		names, usernames = append(names, u.DisplayName), append(usernames, u.Username)
	}
	waiting := WaitingFor(names)
	pending := r.Status == request.Pending
	switch ev.Type {
	case "request.created":
		m.Title = "Restore request " + num + " needs approval"
		m.Summary = fmt.Sprintf("%s asks to restore a backup of %s into a new instance.", r.RequesterName, source)
		m.Fields = append(m.Fields, Field{"Decide before", r.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")})
		m.Action = waiting
		if !pending {
			m.Action = "Already decided: the request is now " + strings.ReplaceAll(string(r.Status), "_", " ") + "."
		}
	case TypeReminder:
		m.Title = "Reminder: restore request " + num + " still needs approval"
		m.Summary = fmt.Sprintf("%s's request has waited %s for a decision.", r.RequesterName, age(ev.Now.Sub(r.CreatedAt)))
		m.Fields = append(m.Fields, Field{"Decide before", r.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")})
		m.Action = waiting
	case TypeEscalation:
		m.Title = "Escalation: restore request " + num + " has waited " + age(ev.Now.Sub(r.CreatedAt))
		m.Summary = fmt.Sprintf("Nobody has decided %s's request yet; it expires at %s.", r.RequesterName, r.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
		m.Action = waiting
	case "request.approved":
		m.Title = "Restore request " + num + " was approved"
		m.Summary = actor + " approved it; Restore Desk is creating the instance."
		m.Action = "Nothing to do: you will be told when the instance is ready."
	case "request.rejected":
		m.Title = "Restore request " + num + " was rejected"
		m.Summary = actor + " rejected it."
		m.Fields = append(m.Fields, Field{"Comment", str("comment")})
		m.Action = "Nothing pending. " + r.RequesterName + " may file a new request."
	case "request.cancelled":
		m.Title = "Restore request " + num + " was cancelled"
		m.Summary = actor + " cancelled it."
		m.Action = "Nothing pending."
	case "request.expired":
		m.Title = "Restore request " + num + " expired"
		m.Summary = "Nobody decided it within " + str("approval_ttl") + ", so it expired."
		m.Action = "Nothing pending. " + r.RequesterName + " may file it again."
	case "request.execution_started":
		m.Title = "Restore request " + num + ": execution started"
		m.Summary = "The backup was checked again; Restore Desk is asking JD Cloud for the instance."
		m.Action = "Nothing to do."
	case "request.instance_created", "request.instance_adopted":
		m.Title = "Restore request " + num + ": instance " + str("instance_id") + " is being built"
		m.Summary = "JD Cloud accepted the restore; the instance is being built."
		m.Fields = append(m.Fields, Field{"Instance", str("instance_id")})
		m.Action = "Nothing to do: you will be told when it is ready."
	case "request.duplicate_instance":
		dups := strList(details["duplicates"])
		m.Title = "Restore request " + num + ": JD Cloud made " + strconv.Itoa(len(dups)) + " instance(s) too many"
		m.Summary = "JD Cloud created more than one instance for this request; the extra ones bill until they are deleted."
		m.Fields = append(m.Fields, Field{"To delete", strings.Join(dups, ", ")})
		if a := str("adopted"); a != "" {
			m.Fields = append(m.Fields, Field{"Kept", a})
		}
		m.Action = "An admin must delete " + strings.Join(dups, ", ") + " in the JD Cloud console."
	case "request.ready":
		m.Title = "Restore request " + num + " is ready"
		endpoint := str("internal_domain_name")
		if p := str("instance_port"); p != "" {
			endpoint += ":" + p
		}
		m.Summary = "The restored instance " + str("instance_id") + " is running."
		m.Fields = append(m.Fields, Field{"Instance", str("instance_id")}, Field{"Endpoint", endpoint})
		m.Action = r.RequesterName + " can connect now."
	case "request.failed":
		m.Title = "Restore request " + num + " failed"
		m.Summary = "The restore failed: " + str("reason")
		m.Fields = append(m.Fields, Field{"Failure", str("reason")})
		if id := str("instance_id"); id != "" {
			m.Fields = append(m.Fields, Field{"Instance", id})
		}
		m.Action = "Nothing pending. " + r.RequesterName + " may file a new request once the cause is fixed."
	case "copy.deleted":
		m.Title = "Restore request " + num + ": copy " + str("instance_id") + " deleted"
		m.Summary = "The restored instance " + str("instance_id") + " is deleted; it no longer bills."
		if str("how") == "gone" {
			m.Summary = "The restored instance " + str("instance_id") + " is gone at JD Cloud (its prepaid period ended); it no longer bills."
		}
		m.Fields = append(m.Fields, Field{"Instance", str("instance_id")})
		m.Action = "Nothing to do."
	case "copy.delete_failed":
		m.Title = "Restore request " + num + ": copy " + str("instance_id") + " could not be deleted"
		m.Summary = "Deleting the restored instance failed: " + str("reason")
		m.Fields = append(m.Fields, Field{"Instance", str("instance_id")}, Field{"Failure", str("reason")})
		m.Action = "A lead of " + r.TeamName + " must delete " + str("instance_id") + " in the JD Cloud console: it bills until then."
	default:
		m.Title = "Restore request " + num + ": " + ev.Type
		m.Summary = ev.Type
	}
	data := map[string]any{
		"request": map[string]any{
			"id": r.ID, "url": m.URL, "team": r.TeamName, "status": r.Status, "requester": r.RequesterName,
			"region": r.Region, "source_instance_id": r.SourceInstanceID, "source_instance_name": r.SourceInstanceName,
			"backup_id": r.BackupID, "backup_name": r.BackupName, "reason": r.Reason,
			"expires_at": r.ExpiresAt.UTC().Format(time.RFC3339), "instance_id": r.InstanceID,
		},
		"waiting_for": nonNil(usernames),
		"title":       m.Title,
		"summary":     m.Summary,
		"action":      m.Action,
	}
	if ev.Event != nil {
		data["event"] = map[string]any{"seq": ev.Event.Seq, "hash": ev.Event.Hash, "actor": ev.Event.ActorName,
			"occurred_at": ev.Event.OccurredAt.UTC().Format(time.RFC3339Nano), "details": details}
	}
	m.Data = data
	return m
}

// testMessage is what "Send test message" sends.
func testMessage(id string, channel string, base *url.URL, now time.Time) Message {
	m := Message{ID: id, Type: TypeTest, Time: now,
		Title:   "Test message from Restore Desk",
		Summary: "An admin sent this to check the channel " + channel + ". Requests of the team will be announced here.",
		Action:  "Nothing to do."}
	if base != nil {
		m.URL = base.String()
	}
	m.Data = map[string]any{"channel": channel, "title": m.Title, "summary": m.Summary}
	return m
}

// strList reads a JSON array of strings.
func strList(v any) []string {
	var out []string
	if vs, ok := v.([]any); ok {
		for _, x := range vs {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WaitingFor says who must act on a pending request, given the names of the
// people who may decide it: the messages and the pages say it alike.
func WaitingFor(names []string) string {
	if len(names) == 0 {
		return "Nobody can decide it: the team has no other lead. An admin must add one."
	}
	return "Waiting for " + orList(names) + " to approve or reject it."
}

// orList joins names as "bob", "bob or grace", "alice, bob or grace".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// age says a duration the way people do: "5h", "2 days".
func age(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%d min", max(int(d.Minutes()), 1))
	}
}

func leads(ms []policy.Membership, team int64) bool {
	for _, m := range ms {
		if m.TeamID == team && m.Lead {
			return true
		}
	}
	return false
}
