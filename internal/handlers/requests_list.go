package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
	"restoredesk/internal/timezone"
	"restoredesk/internal/views"
)

// requestPageSize is how many requests one page of a list shows.
const requestPageSize = 25

// requestHistory lists every request the viewer may see (their teams';
// auditors and admins all), newest first, filtered and paged.
func (h *Handler) requestHistory(c echo.Context) error {
	u := currentUser(c)
	ctx := c.Request().Context()
	scope := policy.RequestScopeFor(u)
	form, f, cur := parseRequestFilter(c.QueryParams(), timezone.From(c.Request().Context()))
	f.AllTeams, f.TeamIDs = scope.All, scope.TeamIDs
	p := views.RequestHistoryProps{Filter: form, Filtered: len(requestQuery(form)) > 0}
	for _, s := range request.Statuses() {
		p.Statuses = append(p.Statuses, views.Option{Value: string(s), Label: s.Label()})
	}
	for _, r := range jdcloud.Regions {
		p.Regions = append(p.Regions, views.Option{Value: r.ID, Label: r.Name + " (" + r.ID + ")"})
	}
	if scope.All {
		teams, err := h.db.TeamNames(ctx)
		if err != nil {
			return err
		}
		for _, t := range teams {
			p.Teams = append(p.Teams, views.Option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name})
		}
	} else {
		for _, m := range u.Teams {
			p.Teams = append(p.Teams, views.Option{Value: strconv.FormatInt(m.TeamID, 10), Label: m.TeamName})
		}
	}
	if form.Team != "" && !slices.ContainsFunc(p.Teams, func(o views.Option) bool { return o.Value == form.Team }) {
		p.Filter.Errors["team"] = "Choose one of the teams in the list."
	}
	people, err := h.db.Requesters(ctx, f)
	if err != nil {
		return err
	}
	for _, r := range people {
		id := strconv.FormatInt(r.ID, 10)
		p.Requesters = append(p.Requesters, views.Option{Value: id, Label: r.Name + " (" + r.Username + ")"})
		if strings.EqualFold(form.Requester, r.Username) {
			// A username, as older links name people: the same person by id.
			form.Requester, p.Filter.Requester, f.RequesterID = id, id, r.ID
		}
	}
	if form.Requester != "" && !slices.ContainsFunc(p.Requesters, func(o views.Option) bool { return o.Value == form.Requester }) {
		p.Filter.Errors["requester"] = "Choose a person from the list."
	}
	noStore(c)
	if len(p.Filter.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.RequestHistory(h.page(c, "Restore requests", "requests"), p))
	}
	page, err := h.db.ListRequests(ctx, f, cur, false, requestPageSize)
	if err != nil {
		return err
	}
	p.Requests = requestRows(c.Request().Context(), page.Requests, time.Now())
	p.PrevHref, p.NextHref = pageHrefs("/requests", requestQuery(form), page)
	if len(page.Requests) > 0 {
		// The page's place in the list, counted up to a cap (see CountCap).
		total, err := h.db.CountRequestsCapped(ctx, f, 0, false)
		if err != nil {
			return err
		}
		before := 0
		if page.Prev > 0 {
			if before, err = h.db.CountRequestsCapped(ctx, f, page.Requests[0].ID, false); err != nil {
				return err
			}
		}
		p.Range = views.ListRange(before, len(page.Requests), total, postgres.CountCap)
	}
	return render(c, http.StatusOK, views.RequestHistory(h.page(c, "Restore requests", "requests"), p))
}

// parseRequestFilter reads the history's filters and cursor from the query,
// with a plain-words problem per field that cannot be used. Dates are days
// in zone, the viewer's, as the list's times are shown; "to" includes its day.
func parseRequestFilter(q url.Values, zone *time.Location) (views.RequestFilterForm, postgres.RequestFilter, postgres.RequestCursor) {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	form := views.RequestFilterForm{
		Status: get("status"), Team: get("team"), Requester: get("requester"), Region: get("region"),
		Kind: get("kind"), From: get("from"), To: get("to"), Zone: zone.String(), Errors: map[string]string{},
	}
	f := postgres.RequestFilter{Status: request.Status(form.Status), Region: form.Region, Kind: request.Kind(form.Kind)}
	if form.Requester != "" {
		// A person from the list, by id (checked against the viewer's choices).
		f.RequesterID, _ = strconv.ParseInt(form.Requester, 10, 64)
	}
	if f.Kind != "" && f.Kind != request.FromBackup && f.Kind != request.ToPointInTime {
		form.Errors["kind"] = "Choose backups or points in time from the list."
	}
	if form.Status != "" && !f.Status.Known() {
		form.Errors["status"] = "Choose a status from the list."
	}
	if form.Team != "" {
		f.TeamID, _ = strconv.ParseInt(form.Team, 10, 64) // checked against the viewer's choices
	}
	if _, ok := jdcloud.LookupRegion(form.Region); form.Region != "" && !ok {
		form.Errors["region"] = "Choose a region from the list."
	}
	day := func(field, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(time.DateOnly, v, zone)
		if err != nil {
			form.Errors[field] = "Enter a date such as 2026-03-01."
		}
		return t
	}
	f.CreatedFrom = day("from", form.From)
	if to := day("to", form.To); !to.IsZero() {
		f.CreatedTo = to.AddDate(0, 0, 1)
		if !f.CreatedFrom.IsZero() && to.Before(f.CreatedFrom) {
			form.Errors["to"] = "Must be on or after the from date."
		}
	}
	var cur postgres.RequestCursor
	cur.After, _ = strconv.ParseInt(q.Get("after"), 10, 64)
	cur.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	return form, f, cur
}

// requestQuery returns the non-empty filters as query parameters, for links
// that keep them.
func requestQuery(form views.RequestFilterForm) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{
		"status": form.Status, "team": form.Team, "requester": form.Requester, "region": form.Region,
		"kind": form.Kind, "from": form.From, "to": form.To,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// pageHrefs are the links to the pages before and after page of the list at
// path, keeping the query q.
func pageHrefs(path string, q url.Values, page postgres.RequestPage) (prev, next string) {
	if page.Prev > 0 {
		prev = path + "?" + withParam(q, "before", page.Prev)
	}
	if page.Next > 0 {
		next = path + "?" + withParam(q, "after", page.Next)
	}
	return prev, next
}

// requestRows turns stored requests into list rows, with ages and time left
// counted from now.
func requestRows(ctx context.Context, list []request.Request, now time.Time) []views.RequestRow {
	out := make([]views.RequestRow, len(list))
	for i, r := range list {
		out[i] = views.RequestRow{
			ID: r.ID, Team: r.TeamName, Requester: r.RequesterName, Status: r.Status, Region: r.Region, Source: joinName(r.SourceInstanceName, r.SourceInstanceID),
			BackupTime: jdTime(ctx, r.BackupTime), Reason: views.Excerpt(r.Reason, 80), Created: r.CreatedAt,
			Age: views.Duration(now.Sub(r.CreatedAt)),
		}
		if r.InstanceID != "" {
			out[i].Instance = joinName(instanceName(r), r.InstanceID)
		}
		if r.Status.Ready() && r.FinishedAt != nil {
			out[i].ReadyAt = *r.FinishedAt
		}
		if r.KeepDays != nil {
			out[i].KeepFor = keepDaysWords(*r.KeepDays)
		}
		if r.Kind == request.ToPointInTime && r.RestoreTime != nil {
			out[i].BackupTime = "point in time " + views.WhenIn(ctx, *r.RestoreTime)
		}
		if r.Status.Pending() {
			out[i].TimeLeft = views.Duration(r.ExpiresAt.Sub(now))
			if !r.ExpiresAt.After(now) {
				out[i].TimeLeft = "expired"
			}
		}
	}
	return out
}

// instanceName is the name the request gave its new instance, or the
// default JD Cloud got.
func instanceName(r request.Request) string {
	var s jdcloud.RestoredInstanceSpec
	if json.Unmarshal(r.Spec, &s) == nil && s.InstanceName != "" {
		return s.InstanceName
	}
	return fmt.Sprintf("restore-%d", r.ID)
}
