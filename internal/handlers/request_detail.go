package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/restore"
	"restoredesk/internal/views"
)

// loadRequest reads the request named in the path, if the viewer may see it;
// otherwise 404, so ids reveal nothing.
func (h *Handler) loadRequest(c echo.Context) (postgres.Request, *policy.User, error) {
	u := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return postgres.Request{}, u, echo.NewHTTPError(http.StatusNotFound, "Not found")
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
	return render(c, http.StatusOK, views.RequestPage(h.page(c, fmt.Sprintf("Request #%d", r.ID), "requests"), d))
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

// errCommentTooLong: a reject comment over restore.MaxCommentLength, answered
// at the field like a missing one.
var errCommentTooLong = errors.New("reject comment too long")

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
			err, done = h.life.Approve(ctx, actor(c, u), r.ID), "Approved. Restore Desk is creating the instance."
		case "reject":
			comment := c.FormValue("comment")
			if utf8.RuneCountInString(strings.TrimSpace(comment)) > restore.MaxCommentLength {
				err = errCommentTooLong
				break
			}
			err, done = h.life.Reject(ctx, actor(c, u), r.ID, comment), "Rejected. The requester can see your comment."
		case "cancel":
			err, done = h.life.Cancel(ctx, actor(c, u), r.ID), "Request cancelled."
		}
		var se *restore.StateError
		switch {
		case err == nil:
		case errors.Is(err, restore.ErrCommentRequired), errors.Is(err, errCommentTooLong):
			d, derr := h.requestDetail(c, r, u, true)
			if derr != nil {
				return derr
			}
			d.RejectError = "Write a comment: the requester needs to know why."
			if errors.Is(err, errCommentTooLong) {
				// What was typed comes back, so it can be shortened rather than retyped.
				d.RejectComment = c.FormValue("comment")
				d.RejectError = fmt.Sprintf("Keep the comment to %d characters; this one has %d.",
					restore.MaxCommentLength, utf8.RuneCountInString(strings.TrimSpace(d.RejectComment)))
			}
			return render(c, http.StatusUnprocessableEntity, views.RequestPage(h.page(c, fmt.Sprintf("Request #%d", r.ID), "requests"), d))
		case errors.Is(err, restore.ErrForbidden):
			return echo.NewHTTPError(http.StatusForbidden, forbiddenMessage(action, r, u))
		case errors.As(err, &se):
			if e := h.setFlash(c, "error", views.Capitalize(se.Error())+"."); e != nil {
				return e
			}
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/requests/%d", r.ID))
		case errors.Is(err, restore.ErrApprovalExpired):
			if e := h.setFlash(c, "error", "Too late: the approval window has passed and the request has expired."); e != nil {
				return e
			}
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/requests/%d", r.ID))
		default:
			return err
		}
		if err := h.setFlash(c, "success", done); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/requests/%d", r.ID))
	}
}

func forbiddenMessage(action string, r postgres.Request, u *policy.User) string {
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
func (h *Handler) requestDetail(c echo.Context, r postgres.Request, u *policy.User, withTimeline bool) (views.RequestDetail, error) {
	st := restore.Status(r.Status)
	pr := policyRequest(r)
	d := views.RequestDetail{
		ID: r.ID, Status: r.Status, StatusLabel: st.Label(), Badge: st.Badge(), Active: !st.Terminal(),
		Team: r.TeamName, Requester: r.RequesterName, Region: r.Region,
		Source: joinName(r.SourceInstanceName, r.SourceInstanceID),
		Backup: fmt.Sprintf("%s — %s, %s", r.BackupID, views.ShortTime(r.BackupTime), views.Bytes(r.BackupSizeBytes)),
		Engine: r.Engine, Reason: r.Reason, CreatedAt: views.When(r.CreatedAt), ExpiresAt: views.When(r.ExpiresAt),
		Comment: r.DecisionComment, InstanceID: r.InstanceID, InstanceStatus: r.InstanceStatus,
		Domain: r.InternalDomainName, Port: r.InstancePort, FailureReason: r.FailureReason,
		CanApprove: policy.CanDecide(u, pr), CanReject: policy.CanDecide(u, pr), CanCancel: policy.CanCancel(u, pr),
		CanRequestAgain: policy.CanRequestAgain(u, pr),
	}
	if r.DeciderName != nil {
		d.Decider = *r.DeciderName
	}
	if r.DecidedAt != nil {
		d.DecidedAt = views.When(*r.DecidedAt)
	}
	if pr.Pending && !d.CanApprove && u.LeadOf(r.TeamID) && u.ID == r.RequesterID {
		d.DecideNote = "You requested this, so another lead of the team must decide."
	}
	switch st {
	case restore.Approved:
		d.Progress = "Checking the backup before creating the instance…"
	case restore.Provisioning:
		d.Progress = "Creating the instance on JD Cloud…"
	case restore.Creating:
		d.Progress = "JD Cloud is building the instance…"
	}
	d.Params = specParams(r)
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
		rows, err := audit.Timeline(c.Request().Context(), h.pool, audit.TargetRequest, strconv.FormatInt(r.ID, 10), policy.RequestTimelineScope(u, r.TeamID))
		if err != nil {
			return d, err
		}
		d.Timeline = auditEvents(rows)
	}
	return d, nil
}

// specParams lists the stored parameters in the form's words.
func specParams(r postgres.Request) []views.Param {
	var s jdcloud.RestoredInstanceSpec
	if json.Unmarshal(r.Spec, &s) != nil {
		return nil
	}
	name := s.InstanceName
	if name == "" {
		name = fmt.Sprintf("restore-%d (default)", r.ID)
	}
	ps := []views.Param{
		{Label: "Instance name", Value: name},
		{Label: "Instance class", Value: s.InstanceClass},
		{Label: "Storage (GB)", Value: strconv.Itoa(s.InstanceStorageGB)},
		{Label: "Zones", Value: strings.Join(s.AzID, ", ")},
		{Label: "VPC / subnet", Value: s.VpcID + " / " + s.SubnetID},
		{Label: "Billing", Value: s.ChargeSpec.ChargeMode},
	}
	if s.ChargeSpec.ChargeDuration > 0 {
		ps = append(ps, views.Param{Label: "Period", Value: fmt.Sprintf("%d %s", s.ChargeSpec.ChargeDuration, s.ChargeSpec.ChargeUnit)})
	}
	for _, opt := range []struct{ label, v string }{
		{"Parameter group", s.ParameterGroup}, {"Storage type", s.InstanceStorageType},
		{"Port", s.InstancePort}, {"Architecture", s.InstanceType},
	} {
		if opt.v != "" {
			ps = append(ps, views.Param{Label: opt.label, Value: opt.v})
		}
	}
	if s.StorageEncrypted != nil && *s.StorageEncrypted {
		ps = append(ps, views.Param{Label: "Encrypted storage", Value: "yes"})
	}
	return ps
}

func joinName(name, id string) string {
	if name == "" {
		return id
	}
	return name + " (" + id + ")"
}
