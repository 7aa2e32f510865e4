package handlers

import (
	"encoding/json"
	"fmt"
	"strings"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/views"
)

// operationWords name JD Cloud's operations as a reader of a timeline says them.
var operationWords = map[string]string{
	jdcloud.OpCreateInstanceFromBackup:   "the create",
	jdcloud.OpCreateInstanceByTime:       "the point-in-time create",
	jdcloud.OpDescribeInstances:          "the search for the request's instance",
	jdcloud.OpDescribeInstanceAttributes: "a status check of the instance",
	jdcloud.OpDescribeBackups:            "the check of the backup",
}

// creates are the operations whose every call a timeline shows; any other
// call that succeeded is routine and folded away.
var creates = map[string]bool{jdcloud.OpCreateInstanceFromBackup: true, jdcloud.OpCreateInstanceByTime: true}

// timelineItems writes a request's events as sentences, oldest first, and
// folds each run of routine successful JD Cloud calls into one item.
func timelineItems(rows []audit.Row) []views.TimelineItem {
	events := auditEvents(rows)
	var out []views.TimelineItem
	for i, e := range events {
		var d map[string]any
		_ = json.Unmarshal(rows[i].Details, &d)
		var routine bool
		events[i].Sentence, routine = sentence(e, d)
		e = events[i]
		if routine {
			if n := len(out); n > 0 && len(out[n-1].Folded) > 0 {
				out[n-1].Folded = append(out[n-1].Folded, e)
				continue
			}
			out = append(out, views.TimelineItem{Folded: []views.AuditEvent{e}})
			continue
		}
		out = append(out, views.TimelineItem{Event: e})
	}
	return out
}

// sentence says what an event means, in words; routine reports a
// successful JD Cloud call other than a create.
func sentence(e views.AuditEvent, d map[string]any) (s string, routine bool) {
	who := e.Actor
	if e.ActorID == 0 && (who == audit.SystemName || who == "") {
		who = "Restore Desk"
	}
	str := func(k string) string {
		if v, ok := d[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	quoted := func(k string) string {
		if c := str(k); c != "" {
			return ": “" + c + "”"
		}
		return ""
	}
	switch e.Action {
	case audit.RequestCreated:
		return who + " filed the request", false
	case audit.RequestApproved:
		return who + " approved" + quoted("comment"), false
	case audit.RequestRejected:
		return who + " rejected" + quoted("comment"), false
	case audit.RequestCancelled:
		return who + " cancelled the request", false
	case audit.RequestExpired:
		if ttl := str("approval_ttl"); ttl != "" {
			return "The request expired: nobody decided within " + ttl, false
		}
		return "The request expired: nobody decided in time", false
	case audit.RequestExecutionStart:
		return "Restore Desk found the backup ready and started the restore", false
	case audit.JDCloudCall:
		op := word(operationWords, str("operation"))
		rid := ""
		if id := str("jdcloud_request_id"); id != "" {
			rid = " (request id " + id + ")"
		}
		switch status := str("http_status"); {
		case status == "0" || status == "":
			msg := "JD Cloud did not answer " + op
			if err := str("error"); err != "" {
				msg += ": " + err
			}
			return msg, false
		case strings.HasPrefix(status, "2"):
			if creates[str("operation")] {
				return "JD Cloud accepted " + op + rid, false
			}
			return "JD Cloud answered " + op + rid, true
		default:
			msg := "JD Cloud refused " + op + " (HTTP " + status + ")"
			if err := str("error"); err != "" {
				msg += ": " + err
			}
			return msg + rid, false
		}
	case audit.RequestInstanceCreated:
		return "JD Cloud is building instance " + str("instance_id"), false
	case audit.RequestInstanceAdopted:
		return "Restore Desk found instance " + str("instance_id") + " by the request's tag and took it as the request's own", false
	case audit.RequestDuplicate:
		return "JD Cloud created more than one instance for this request; the others bill until deleted", false
	case audit.RequestReady:
		return "Instance " + str("instance_id") + " is running and ready to connect", false
	case audit.RequestFailed:
		if r := str("reason"); r != "" {
			return "The restore failed: " + r, false
		}
		return "The restore failed", false
	}
	return views.ActionLabel(e.Action) + " by " + who, false
}
