package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/problem"
	"restoredesk/internal/request"
	"restoredesk/internal/restore"
	"restoredesk/internal/timezone"
	"restoredesk/internal/views"
)

// loadRequest reads the request named in the path, if the viewer may see it;
// otherwise 404, so ids reveal nothing.
func (h *Handler) loadRequest(c echo.Context) (request.Request, *policy.User, error) {
	u := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return request.Request{}, u, echo.NewHTTPError(http.StatusNotFound, "Not found")
	}
	r, err := h.db.Request(c.Request().Context(), id)
	if err != nil {
		return r, u, err
	}
	if !policy.CanViewRequest(u, policyRequest(r)) {
		return r, u, echo.NewHTTPError(http.StatusNotFound, "Not found")
	}
	return r, u, nil
}

// requestPage shows a request: parameters, live status, actions, timeline.
func (h *Handler) requestPage(c echo.Context) error {
	r, u, err := h.loadRequest(c)
	if err != nil {
		return err
	}
	d, err := h.requestDetail(c, r, u, true)
	if err != nil {
		return err
	}
	noStore(c)
	p := h.page(c, fmt.Sprintf("Request #%d", r.ID), "requests")
	if r.Status.Active() {
		p.Refresh = views.RefreshSeconds
	}
	return render(c, http.StatusOK, views.RequestPage(p, d))
}

// requestStatus is the live part of the page, fetched by the script while
// the request is not final.
func (h *Handler) requestStatus(c echo.Context) error {
	r, u, err := h.loadRequest(c)
	if err != nil {
		return err
	}
	d, err := h.requestDetail(c, r, u, false)
	if err != nil {
		return err
	}
	noStore(c)
	return render(c, http.StatusOK, views.RequestStatus(d))
}

// decide handles Approve, Reject and Cancel: one transition each, refused
// unless the viewer may and the request is still pending.
func (h *Handler) decide(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, u, err := h.loadRequest(c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		var done string
		switch action {
		case "approve":
			err, done = h.Lifecycle.Approve(ctx, actor(c, u), r.ID, c.FormValue("comment")), "Approved. Restore Desk is creating the instance."
		case "reject":
			err, done = h.Lifecycle.Reject(ctx, actor(c, u), r.ID, c.FormValue("comment")), "Rejected. The requester can see your comment."
		case "cancel":
			err, done = h.Lifecycle.Cancel(ctx, actor(c, u), r.ID), "Request cancelled."
		}
		switch {
		case err == nil:
		case problem.CodeOf(err) == problem.Invalid:
			// A refused comment: the page again, the comment kept, the problem next to it.
			d, derr := h.requestDetail(c, r, u, true)
			if derr != nil {
				return derr
			}
			if action == "approve" {
				d.ApproveComment, d.ApproveError = c.FormValue("comment"), problem.MessageOf(err)
			} else {
				d.RejectComment, d.RejectError = c.FormValue("comment"), problem.MessageOf(err)
			}
			return render(c, http.StatusUnprocessableEntity, views.RequestPage(h.page(c, fmt.Sprintf("Request #%d", r.ID), "requests"), d))
		case errors.Is(err, restore.ErrForbidden):
			return echo.NewHTTPError(http.StatusForbidden, forbiddenMessage(action, r, u))
		case problem.CodeOf(err) == problem.Conflict:
			// Someone (or the clock) got there first: say so on the request's page.
			if e := h.setFlash(c, "error", problem.MessageOf(err)); e != nil {
				return e
			}
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/requests/%d", r.ID))
		default:
			return err // a database failure: a logged 500, never the conflict flash
		}
		back := fmt.Sprintf("/requests/%d", r.ID)
		if c.FormValue("from") == "approvals" {
			// Decided from the queue: back to the queue, for the next one.
			back, done = "/approvals", fmt.Sprintf("Request #%d: %s", r.ID, done)
		}
		if err := h.setFlash(c, "success", done); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, back)
	}
}

func forbiddenMessage(action string, r request.Request, u *policy.User) string {
	switch {
	case action == "cancel":
		return "Only the requester can cancel this request."
	case u.ID == r.RequesterID:
		return "You cannot decide your own request; another lead of the team must."
	default:
		return "Only a lead of the request's team can decide on it."
	}
}

// requestDetail builds the page's view model. withTimeline also loads the
// audit events the viewer may see.
func (h *Handler) requestDetail(c echo.Context, r request.Request, u *policy.User, withTimeline bool) (views.RequestDetail, error) {
	pr := policyRequest(r)
	var err error
	d := views.RequestDetail{
		ID: r.ID, Status: r.Status,
		Team: r.TeamName, Requester: r.RequesterName, Region: regionWords(r.Region),
		Source: joinName(r.SourceInstanceName, r.SourceInstanceID),
		Backup: fmt.Sprintf("%s — %s, %s", joinName(r.BackupName, r.BackupID), jdTimeAndUTC(c.Request().Context(), r.BackupTime), views.Bytes(r.BackupSizeBytes)),
		Engine: r.Engine, Reason: r.Reason, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		Comment: r.DecisionComment, InstanceID: r.InstanceID, InstanceStatus: instanceStatusWords(r.InstanceStatus),
		Domain: r.InternalDomainName, Port: r.InstancePort, FailureReason: r.FailureReason,
		CanApprove: policy.CanDecide(u, pr), CanReject: policy.CanDecide(u, pr), CanCancel: policy.CanCancel(u, pr),
		CanRequestAgain: policy.CanRequestAgain(u, pr),
	}
	d.Kind = r.Kind.Label()
	var spec jdcloud.RestoredInstanceSpec
	if json.Unmarshal(r.Spec, &spec) == nil {
		d.Estimate, d.EstimateLabel = h.estimate(r.Region, spec.InstanceClass, spec.InstanceStorageType, spec.InstanceStorageGB, spec.ChargeSpec)
	}
	if r.Kind == request.ToPointInTime && r.RestoreTime != nil {
		d.Backup = ""
		d.RestorePoint = pointInTime(c.Request().Context(), *r.RestoreTime)
	}
	if r.DeciderName != nil {
		d.Decider = *r.DeciderName
	}
	if r.DecidedAt != nil {
		d.DecidedAt = *r.DecidedAt
	}
	if pr.Pending && restore.PointInTimeGone(r, time.Now()) {
		// Approval would be refused: the lead sees why and rejects with the
		// suggested comment; the requester sees that "Request again" with a
		// later time is the way forward.
		d.CanApprove = false
		d.Gone = fmt.Sprintf("This request can no longer be approved: the moment to restore is now more than %d days ago, "+
			"further back than JD Cloud can restore.", jdcloud.PointInTimeDays)
		switch {
		case d.CanReject:
			d.Gone += " Reject it with the comment below; the requester then files it again with a later time."
			d.RejectComment = restore.GoneComment(d.RestorePoint)
		case u.ID == r.RequesterID:
			d.Gone += " Cancel it and use \"Request again\" to choose a later time."
		}
	}
	if pr.Pending && !d.CanApprove && d.Gone == "" && u.LeadOf(r.TeamID) && u.ID == r.RequesterID {
		d.DecideNote = "You requested this, so another lead of the team must decide."
	}
	if pr.Pending {
		if d.WaitingFor, err = h.waitingFor(c.Request().Context(), decidersCache{}, r, u.ID); err != nil {
			return d, err
		}
	}
	d.Progress = r.Status.Progress()
	vpcs, err := h.db.TeamVPCs(c.Request().Context(), r.TeamID)
	if err != nil {
		return d, err
	}
	var vpcName string
	for _, v := range vpcs {
		if v.Region == r.Region && v.VpcID == requestSpec(r).VpcID {
			vpcName = v.VpcName
		}
	}
	d.Params = specParams(r, vpcName)
	dups, err := h.db.RequestDuplicates(c.Request().Context(), r.ID)
	if err != nil {
		return d, err
	}
	d.Duplicates = duplicateViews(dups)
	d.KeepFor = keepFor(c.Request().Context(), r)
	if d.Copies, err = h.requestCopies(c.Request().Context(), r, u); err != nil {
		return d, err
	}
	if len(r.Failure) > 0 {
		var f map[string]any
		if json.Unmarshal(r.Failure, &f) == nil {
			keys := make([]string, 0, len(f))
			for k := range f {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if v := fmt.Sprint(f[k]); v != "" && v != "0" {
					d.Failure = append(d.Failure, views.Param{Label: "JD Cloud " + strings.ReplaceAll(k, "_", " "), Value: v})
				}
			}
		}
	}
	if withTimeline {
		rows, err := audit.Timeline(c.Request().Context(), h.Pool, audit.TargetRequest, strconv.FormatInt(r.ID, 10), policy.RequestTimelineScope(u, r.TeamID))
		if err != nil {
			return d, err
		}
		d.Timeline = timelineItems(rows)
	}
	return d, nil
}

// pointInTime renders a restore point in Beijing time (JD Cloud's console's
// zone, the form's default) and in UTC, after the viewer's own zone when it is
// neither.
func pointInTime(ctx context.Context, t time.Time) string {
	s := fmt.Sprintf("%s Beijing time (%s UTC)", restore.FormTime(t, restore.DefaultZone), t.UTC().Format("2006-01-02 15:04"))
	zone := timezone.From(ctx)
	if _, off := t.In(zone).Zone(); off != 0 && off != 8*3600 {
		s = fmt.Sprintf("%s %s — %s", restore.FormTime(t, zone), zone, s)
	}
	return s
}

// duplicateViews turns stored duplicates into the pages' rows.
func duplicateViews(dups []postgres.DuplicateInstance) []views.DuplicateInstance {
	out := make([]views.DuplicateInstance, 0, len(dups))
	for _, x := range dups {
		out = append(out, views.DuplicateInstance{InstanceID: x.InstanceID, Name: x.InstanceName, Region: x.Region,
			RequestID: x.RequestID, Team: x.TeamName, Found: x.FoundAt})
	}
	return out
}

// specParams lists the stored parameters in the form's words: names, not
// JD Cloud's identifiers (the VPC by the name recorded with the team's VPCs).
func specParams(r request.Request, vpcName string) []views.Param {
	var s jdcloud.RestoredInstanceSpec
	if json.Unmarshal(r.Spec, &s) != nil {
		return nil
	}
	name := s.InstanceName
	if name == "" {
		name = fmt.Sprintf("restore-%d (default)", r.ID)
	}
	arch := s.InstanceType
	if arch == "" {
		arch = jdcloud.InstanceTypeCluster // JD Cloud's default
	}
	ps := []views.Param{
		{Label: "Instance name", Value: name},
		{Label: "Instance class", Value: classWords(s.InstanceClass)},
		{Label: "Storage", Value: storageSummary(s)},
		{Label: "Zones", Value: zoneWords(r.Region, s.AzID)},
		{Label: "VPC", Value: vpcLabel(vpcName, s.VpcID)},
		{Label: "Subnet", Value: s.SubnetID},
		{Label: "Billing", Value: billingWords(s.ChargeSpec)},
		{Label: "Architecture", Value: word(archWords, arch)},
	}
	for _, opt := range []struct{ label, v string }{
		{"Parameter group", s.ParameterGroup}, {"Port", s.InstancePort},
	} {
		if opt.v != "" {
			ps = append(ps, views.Param{Label: opt.label, Value: opt.v})
		}
	}
	return ps
}

// zoneWords names the zones by their letter: "a (primary), b (standby)".
func zoneWords(region string, azs []string) string {
	roles := []string{"primary", "standby"}
	var parts []string
	for i, az := range azs {
		z := strings.TrimPrefix(az, region)
		if z == "" || z == az {
			z = az
		}
		if i < len(roles) && len(azs) > 1 {
			z += " (" + roles[i] + ")"
		}
		parts = append(parts, "zone "+z)
	}
	return strings.Join(parts, ", ")
}

func joinName(name, id string) string {
	if name == "" {
		return id
	}
	return name + " (" + id + ")"
}
