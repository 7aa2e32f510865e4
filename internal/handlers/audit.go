package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/audit"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/timezone"
	"restoredesk/internal/views"
)

// auditPageSize is how many events one page of the audit log shows.
const auditPageSize = 50

// auditPage shows the audit log, filtered and paged, to those who may read
// it: auditors and admins everything, leads their teams' request events.
func (h *Handler) auditPage(c echo.Context) error {
	u := currentUser(c)
	if !policy.CanViewAuditLog(u) {
		return echo.NewHTTPError(http.StatusForbidden, "The audit log is open to auditors, admins and team leads.")
	}
	noStore(c)
	scope := policy.AuditScopeFor(u)
	ctx := c.Request().Context()
	form, f, cur := parseAuditFilter(c.QueryParams(), timezone.From(ctx))
	if err := h.resolveTeam(ctx, &form, &f); err != nil {
		return err
	}
	props := views.AuditProps{
		Filter: form, Actions: audit.Actions, HidePersonal: scope.HidePersonal,
		TargetTypes: []string{audit.TargetRequest, audit.TargetUser, audit.TargetTeam, audit.TargetChannel, audit.TargetAudit},
	}
	status := http.StatusOK
	if len(form.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		page, err := audit.Query(ctx, h.Pool, f, scope, cur, auditPageSize)
		if err != nil {
			return err
		}
		props.Events = auditEvents(page.Events)
		if err := h.nameTeams(ctx, u, props.Events); err != nil {
			return err
		}
		q := auditQuery(form)
		if page.Newer > 0 {
			props.NewerHref = "/audit?" + withParam(q, "after", page.Newer)
		}
		if page.Older > 0 {
			props.OlderHref = "/audit?" + withParam(q, "before", page.Older)
		}
		if policy.CanExportAudit(u) {
			q := exportQuery(q, f)
			props.ExportCSV = "/audit/export?" + withParam(q, "format", audit.FormatCSV)
			props.ExportJSONL = "/audit/export?" + withParam(q, "format", audit.FormatJSONL)
		}
	}
	return render(c, status, views.AuditPage(h.page(c, "Audit log", "audit"), props))
}

// auditExport streams the filtered audit log as CSV or JSON Lines to auditors
// and admins. The export is recorded first (audit.RecordExport), so even an
// aborted download is on record; it then holds exactly the matching events up
// to and including that record.
func (h *Handler) auditExport(c echo.Context) error {
	u := currentUser(c)
	if !policy.CanExportAudit(u) {
		return echo.NewHTTPError(http.StatusForbidden, "Only auditors and admins can export the audit log.")
	}
	// An export is recorded in the auditor's name, so another site must not
	// be able to start one by sending the browser here. Browsers say where a
	// navigation comes from; a request without the header (a script, curl)
	// is the auditor's own.
	switch c.Request().Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return echo.NewHTTPError(http.StatusForbidden,
			"An export can only be started from Restore Desk's own audit page; open the audit page and export from there.")
	}
	format := c.QueryParam("format")
	if format != audit.FormatCSV && format != audit.FormatJSONL {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose the export format: format=csv or format=jsonl.")
	}
	ctx := c.Request().Context()
	form, f, _ := parseAuditFilter(c.QueryParams(), timezone.From(ctx))
	if err := h.resolveTeam(ctx, &form, &f); err != nil {
		return err
	}
	for _, field := range []string{"from", "to", "actor", "team", "action", "target_type", "target_id"} {
		if msg := form.Errors[field]; msg != "" {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, field+": "+msg)
		}
	}
	filters := map[string]any{}
	for k, v := range auditQuery(form) {
		filters[k] = v[0]
	}
	rec, err := audit.RecordExport(ctx, h.Pool, actor(c, u), format, filters)
	if err != nil {
		return err
	}
	ext, ctype := "csv", "text/csv; charset=utf-8"
	if format == audit.FormatJSONL {
		ext, ctype = "jsonl", "application/jsonl; charset=utf-8"
	}
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, ctype)
	hdr.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="restoredesk-audit-%s.%s"`,
		rec.OccurredAt.UTC().Format("20060102T150405Z"), ext))
	noStore(c)
	c.Response().WriteHeader(http.StatusOK)
	n, err := audit.Export(ctx, h.Pool, c.Response(), format, f, policy.AuditScopeFor(u), rec.Seq)
	if err != nil {
		// The status is sent: cut the connection, so the client sees a
		// failed download rather than a file that looks complete.
		h.Log.ErrorContext(ctx, "audit export failed", "err", err, "rows", n)
		panic(http.ErrAbortHandler)
	}
	h.Log.InfoContext(ctx, "audit exported", "format", format, "rows", n, "seq", rec.Seq)
	return nil
}

// auditTimeFormats are the time forms the filters accept: what a
// datetime-local input sends (with or without seconds) and a date, read in the
// viewer's zone as the page shows its times, or RFC 3339 with its own offset.
var auditTimeFormats = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02", time.RFC3339Nano}

// parseAuditFilter reads the audit page's filters and cursor from the query,
// with a plain-words problem per field that cannot be used. Times without an
// offset are read in zone, the viewer's.
func parseAuditFilter(q url.Values, zone *time.Location) (views.AuditFilter, audit.Filter, audit.Cursor) {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	form := views.AuditFilter{
		From: get("from"), To: get("to"), Actor: get("actor"), Team: get("team"), Action: get("action"),
		TargetType: get("target_type"), TargetID: get("target_id"), Zone: zone.String(), Errors: map[string]string{},
	}
	var f audit.Filter
	parseTime := func(field, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		for _, layout := range auditTimeFormats {
			if t, err := time.ParseInLocation(layout, v, zone); err == nil {
				return t.UTC()
			}
		}
		form.Errors[field] = "Enter a date and time such as 2026-03-01T14:30 (" + zone.String() + ")."
		return time.Time{}
	}
	f.From, f.To = parseTime("from", form.From), parseTime("to", form.To)
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		form.Errors["to"] = "Must be after From."
	}
	f.Actor = form.Actor
	if id, err := strconv.ParseInt(form.Team, 10, 64); err == nil && id > 0 {
		f.TeamID = id // a name is resolved by resolveTeam
	}
	if form.Action != "" && !slices.Contains(audit.Actions, form.Action) {
		form.Errors["action"] = "Choose an action from the list."
	}
	f.Action = form.Action
	switch form.TargetType {
	case "", audit.TargetRequest, audit.TargetUser, audit.TargetTeam, audit.TargetChannel, audit.TargetAudit:
	default:
		form.Errors["target_type"] = "Choose a target type from the list."
	}
	if form.TargetID != "" && form.TargetType == "" {
		form.Errors["target_id"] = "Choose a target type too."
	}
	f.TargetType, f.TargetID = form.TargetType, form.TargetID
	var cur audit.Cursor
	cur.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	cur.After, _ = strconv.ParseInt(q.Get("after"), 10, 64)
	return form, f, cur
}

// resolveTeam turns a team filter given by name into the team's id, or
// notes that there is no such team.
func (h *Handler) resolveTeam(ctx context.Context, form *views.AuditFilter, f *audit.Filter) error {
	if form.Team == "" || f.TeamID != 0 {
		return nil
	}
	t, err := h.db.TeamByName(ctx, strings.ToLower(form.Team))
	if errors.Is(err, postgres.ErrNotFound) {
		form.Errors["team"] = "There is no team called " + strconv.Quote(form.Team) + "."
		return nil
	}
	f.TeamID = t.ID
	return err
}

// nameTeams shows team names instead of ids: the viewer's own teams are
// known, the others on the page are read in one statement. A team that no
// longer exists keeps its id.
func (h *Handler) nameTeams(ctx context.Context, u *policy.User, events []views.AuditEvent) error {
	names := map[string]string{}
	for _, m := range u.Teams {
		names[strconv.FormatInt(m.TeamID, 10)] = m.TeamName
	}
	var unknown []int64
	for _, e := range events {
		if _, ok := names[e.Team]; !ok && e.Team != "" {
			if id, err := strconv.ParseInt(e.Team, 10, 64); err == nil && !slices.Contains(unknown, id) {
				unknown = append(unknown, id)
			}
		}
	}
	if len(unknown) > 0 {
		found, err := h.db.TeamNamesByID(ctx, unknown)
		if err != nil {
			return err
		}
		for id, name := range found {
			names[strconv.FormatInt(id, 10)] = name
		}
	}
	for i, e := range events {
		if name, ok := names[e.Team]; ok {
			events[i].Team = name
		}
	}
	return nil
}

// auditQuery returns the non-empty filters as query parameters, for links
// that keep them.
func auditQuery(form views.AuditFilter) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{
		"from": form.From, "to": form.To, "actor": form.Actor, "team": form.Team, "action": form.Action,
		"target_type": form.TargetType, "target_id": form.TargetID,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// exportQuery is q with the time filters as RFC 3339 UTC: an export is in
// UTC, and its link (and the audit.exported record of its filters) then
// means the same moments whichever zone opens it.
func exportQuery(q url.Values, f audit.Filter) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	for k, t := range map[string]time.Time{"from": f.From, "to": f.To} {
		if !t.IsZero() {
			out.Set(k, t.UTC().Format(time.RFC3339))
		}
	}
	return out
}

func withParam[T string | int64](q url.Values, k string, v T) string {
	out := url.Values{}
	for key, vals := range q {
		out[key] = vals
	}
	out.Set(k, fmt.Sprint(v))
	return out.Encode()
}

// auditEvents turns stored events into what the views show; request and user
// targets link to their pages. The request page renders its history with
// views.AuditTimeline(auditEvents(rows)), rows from audit.Timeline.
func auditEvents(rows []audit.Row) []views.AuditEvent {
	out := make([]views.AuditEvent, len(rows))
	for i, r := range rows {
		e := views.AuditEvent{
			Seq: r.Seq, Time: r.OccurredAt, Actor: r.ActorName, Action: r.Action,
			TargetType: r.TargetType, TargetID: r.TargetID, ClientAddr: r.ClientAddr, UserAgent: r.UserAgent,
			Details: detailPairs(r.Details),
		}
		if r.ActorID != nil {
			e.ActorID = *r.ActorID
			if adminMadeAdmin(r) {
				e.Flag = "admin created an admin"
			}
		}
		if r.TeamID != nil {
			e.Team = strconv.FormatInt(*r.TeamID, 10)
		}
		if r.TargetID != "" {
			switch r.TargetType {
			case audit.TargetRequest:
				e.TargetHref = "/requests/" + url.PathEscape(r.TargetID)
			case audit.TargetUser:
				e.TargetHref = "/admin/users/" + url.PathEscape(r.TargetID)
			}
		}
		out[i] = e
	}
	return out
}

// adminMadeAdmin reports whether r is an admin (a person, not the system)
// creating an admin or asking for or confirming the admin role: what a
// reviewer of separation of duties looks for first.
func adminMadeAdmin(r audit.Row) bool {
	var d struct {
		Admin        bool `json:"admin"`
		AdminPending bool `json:"admin_pending"`
		Changes      map[string]struct {
			To any `json:"to"`
		} `json:"changes"`
	}
	switch r.Action {
	case audit.AdminAdminConfirmed:
		return true
	case audit.AdminUserCreated:
		return json.Unmarshal(r.Details, &d) == nil && (d.Admin || d.AdminPending)
	case audit.AdminUserUpdated:
		return json.Unmarshal(r.Details, &d) == nil && (d.Changes["admin"].To == true || d.Changes["admin_pending"].To == true)
	}
	return false
}

// detailPairs renders details as sorted key: value pairs; strings as they
// are, anything else as compact JSON.
func detailPairs(raw []byte) []views.KV {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]views.KV, 0, len(keys))
	for _, k := range keys {
		var s string
		if json.Unmarshal(m[k], &s) != nil {
			var buf bytes.Buffer
			json.Compact(&buf, m[k])
			s = buf.String()
		}
		out = append(out, views.KV{Key: k, Value: s})
	}
	return out
}
