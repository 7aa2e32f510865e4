package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/notify"
	"restoredesk/internal/postgres"
	"restoredesk/internal/views"
)

// jobsPageSize is how many jobs the admin jobs page lists at a time.
const jobsPageSize = 50

var jobGroupLabels = map[string]string{
	postgres.JobQueued: "Queued", postgres.JobRunning: "Running", postgres.JobRetrying: "Retrying", postgres.JobFailed: "Failed",
}

var jobGroupBadges = map[string]string{
	postgres.JobQueued: "neutral", postgres.JobRunning: "progress", postgres.JobRetrying: "pending", postgres.JobFailed: "bad",
}

// jobsHref links to one group's list, filtered by kind, from before.
func jobsHref(group, kind string, before int64) string {
	q := url.Values{"state": {group}}
	if kind != "" {
		q.Set("kind", kind)
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	return "/admin/jobs?" + q.Encode()
}

// adminJobs is the read-only page of River's jobs: counts per kind, then one
// group's jobs (queued, running, retrying or failed), newest first, keyset
// paged on the job id.
func (h *Handler) adminJobs(c echo.Context) error {
	ctx := c.Request().Context()
	group := c.QueryParam("state")
	if !slices.Contains(postgres.JobGroups, group) {
		group = postgres.JobQueued
	}
	kind := c.QueryParam("kind")
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	counts, err := h.db.JobCounts(ctx)
	if err != nil {
		return err
	}
	jobs, err := h.db.Jobs(ctx, postgres.JobFilter{Group: group, Kind: kind, Before: max(before, 0)}, jobsPageSize+1)
	if err != nil {
		return err
	}
	p := views.JobsProps{Group: group, Kind: kind}
	total := map[string]int{}
	byKind := map[string]map[string]int{}
	var kinds []string
	for _, n := range counts {
		if byKind[n.Kind] == nil {
			byKind[n.Kind] = map[string]int{}
			kinds = append(kinds, n.Kind)
		}
		byKind[n.Kind][n.Group] = n.Count
		if kind == "" || kind == n.Kind {
			total[n.Group] += n.Count
		}
	}
	if kind != "" && !slices.Contains(kinds, kind) {
		kinds = append(kinds, kind)
	}
	for _, g := range postgres.JobGroups {
		p.Groups = append(p.Groups, views.JobTab{Group: g, Label: jobGroupLabels[g], Href: jobsHref(g, kind, 0), Count: total[g], Active: g == group})
	}
	for _, k := range kinds {
		p.Kinds = append(p.Kinds, views.Option{Value: k, Label: k})
		if byKind[k] == nil {
			continue
		}
		line := views.JobKindCount{Kind: k}
		for _, g := range postgres.JobGroups {
			line.Counts = append(line.Counts, views.JobCell{Count: byKind[k][g], Href: jobsHref(g, k, 0)})
		}
		p.Counts = append(p.Counts, line)
	}
	if len(jobs) > jobsPageSize {
		jobs = jobs[:jobsPageSize]
		p.NextHref = jobsHref(group, kind, jobs[len(jobs)-1].ID)
	}
	if before > 0 {
		p.PrevHref = jobsHref(group, kind, 0)
	}
	for _, j := range jobs {
		p.Jobs = append(p.Jobs, h.jobRow(j))
	}
	noStore(c)
	return render(c, http.StatusOK, views.AdminJobs(h.page(c, "Background jobs", "admin"), p))
}

// jobRow shows j; a notification delivery by its own record, which counts
// its attempts (its job snoozes between them) and keeps the endpoint's error.
func (h *Handler) jobRow(j postgres.Job) views.JobRow {
	r := views.JobRow{ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: j.State, Badge: jobGroupBadges[j.Group],
		Attempt: fmt.Sprintf("%d of %d", j.Attempt, j.MaxAttempts), Created: j.CreatedAt, LastError: j.LastError, Args: j.Args}
	if j.Group == postgres.JobQueued || j.Group == postgres.JobRetrying {
		r.NextRun = j.ScheduledAt
	}
	if j.FinalizedAt != nil {
		r.Finalized = *j.FinalizedAt
	}
	if j.DeliveryID != nil {
		r.DeliveryID = *j.DeliveryID
		status := deref(j.DeliveryStatus)
		r.Delivery = fmt.Sprintf("delivery #%d (%s): %s", *j.DeliveryID, deref(j.DeliveryType), status)
		if j.DeliveryAttempts != nil {
			r.Attempt = strconv.Itoa(*j.DeliveryAttempts) + " attempts"
			if *j.DeliveryAttempts == 1 {
				r.Attempt = "1 attempt"
			}
		}
		if e := deref(j.DeliveryError); e != "" {
			r.LastError = e
		}
		r.CanRetry = h.Notify != nil && status == notify.StatusFailed
	}
	return r
}

// adminJobRetry is "Retry now": only a failed notification delivery, resent
// through notify's own path so that the delivery's record stays the truth.
// Other jobs (a restore's above all) cannot be retried, cancelled or deleted
// here: they move only through their request's transitions.
func (h *Handler) adminJobRetry(c echo.Context) error {
	if err := h.requireNotify(); err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	j, err := h.db.Job(ctx, id)
	if err != nil {
		return err
	}
	const refused = "Only a failed notification delivery can be retried here."
	back := jobsHref(postgres.JobFailed, "", 0)
	if j.DeliveryID == nil || deref(j.DeliveryStatus) != notify.StatusFailed {
		return h.adminDoneKind(c, "error", back, refused)
	}
	return h.resend(c, *j.DeliveryID, back, refused)
}

// deref is *p, or the zero value when p is nil.
func deref[T any](p *T) T {
	var zero T
	if p != nil {
		zero = *p
	}
	return zero
}
