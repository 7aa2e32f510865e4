package handlers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/problem"
	"restoredesk/internal/request"
	"restoredesk/internal/restore"
	"restoredesk/internal/views"
)

// copyStates are the copy states in the pages' words, with their badges.
var copyStates = map[string][2]string{
	postgres.CopyRunning:      {"Running", "ok"},
	postgres.CopyDeleting:     {"Deleting", "warn"},
	postgres.CopyDeleted:      {"Deleted", "neutral"},
	postgres.CopyDeleteFailed: {"Delete failed", "bad"},
	postgres.CopyGoneOutside:  {"Deleted outside Restore Desk", "neutral"},
	postgres.CopyOverdue:      {"Overdue", "bad"},
}

// keepFor says how long a request's copy is kept and, once it is ready,
// until when (in the viewer's zone and in UTC).
func keepFor(ctx context.Context, r request.Request) string {
	if r.KeepDays == nil {
		return ""
	}
	s := keepDaysWords(*r.KeepDays)
	if r.Status == request.Ready && r.FinishedAt != nil {
		at := r.FinishedAt.Add(time.Duration(*r.KeepDays) * 24 * time.Hour)
		s += fmt.Sprintf(": deleted at %s (%s)", views.WhenIn(ctx, at), views.UTCTitle(at))
	}
	return s
}

// keepDaysWords is a lifetime in words: "3 days from Ready".
func keepDaysWords(n int) string {
	if n == 1 {
		return "1 day from Ready"
	}
	return fmt.Sprintf("%d days from Ready", n)
}

// copyRow is a copy as the pages show it to u at now.
func (h *Handler) copyRow(cp postgres.Copy, u *policy.User, now time.Time) views.CopyRow {
	st := copyStates[cp.State]
	row := views.CopyRow{
		ID: cp.ID, RequestID: cp.RequestID, Team: cp.TeamName, Requester: cp.RequesterName, Region: cp.Region,
		InstanceID: cp.InstanceID, State: st[0], StateKind: st[1], Duplicate: cp.Duplicate, Prepaid: cp.Prepaid,
		Failed: cp.RequestStatus == string(request.Failed), Created: cp.CreatedAt, Age: age(now.Sub(cp.CreatedAt)),
		KeepMax: cp.MaxKeepDays,
	}
	if cp.DeleteAt != nil {
		row.DeleteAt, row.DeleteUTC = *cp.DeleteAt, views.UTCTitle(*cp.DeleteAt)
	}
	var f struct {
		Reason string `json:"reason"`
	}
	if cp.State == postgres.CopyDeleteFailed && json.Unmarshal(cp.Failure, &f) == nil {
		row.Failure = f.Reason
	}
	var spec jdcloud.RestoredInstanceSpec
	if json.Unmarshal(cp.Spec, &spec) == nil {
		if e, ok := h.Prices.Estimate(cp.Region, spec.InstanceClass, spec.InstanceStorageType, spec.InstanceStorageGB,
			jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePostpaidByDuration}); ok {
			since := cmp.Or(cp.ReadyAt, &cp.CreatedAt)
			if cp.Duplicate {
				since = &cp.CreatedAt
			}
			end := now
			if cp.FinishedAt != nil {
				end = *cp.FinishedAt
			}
			row.SoFarCNY, row.MonthlyCNY = max(0, e.Hourly*end.Sub(*since).Hours()), e.Monthly
			row.SoFar, row.Monthly, row.Label = money(row.SoFarCNY, e.Currency), money(e.Monthly, e.Currency), e.Label()
		}
	}
	live := cp.State == postgres.CopyRunning || cp.State == postgres.CopyOverdue
	manage := live && !cp.Prepaid && policy.CanManageCopy(u, policy.Request{TeamID: cp.TeamID, RequesterID: cp.RequesterID})
	row.CanDelete = manage
	row.CanExtend = manage && !cp.Duplicate && cp.ReadyAt != nil && cp.RequestStatus == string(request.Ready)
	if cp.KeepDays != nil {
		row.KeepDays = strconv.Itoa(min(*cp.KeepDays+1, cp.MaxKeepDays))
	}
	return row
}

// money is an amount as the estimates show it: "¥12.34".
func money(v float64, currency string) string {
	if currency == "CNY" {
		return fmt.Sprintf("¥%.2f", v)
	}
	return fmt.Sprintf("%s %.2f", currency, v)
}

// age is a duration in the list's words: "3 h", "2 d".
func age(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d d", int(d.Hours()/24))
}

// requestCopies are request r's copies as u sees them.
func (h *Handler) requestCopies(ctx context.Context, r request.Request, u *policy.User) ([]views.CopyRow, error) {
	cs, err := h.db.RequestCopies(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rows := make([]views.CopyRow, 0, len(cs))
	for _, cp := range cs {
		rows = append(rows, h.copyRow(cp, u, now))
	}
	return rows, nil
}

// loadCopy reads the :copy of the :id request the viewer may see.
func (h *Handler) loadCopy(c echo.Context) (postgres.Copy, request.Request, *policy.User, error) {
	r, u, err := h.loadRequest(c)
	if err != nil {
		return postgres.Copy{}, r, u, err
	}
	id, err := pathID(c, "copy")
	if err != nil {
		return postgres.Copy{}, r, u, err
	}
	cp, err := h.db.Copy(c.Request().Context(), id)
	if err != nil || cp.RequestID != r.ID {
		return cp, r, u, echo.NewHTTPError(http.StatusNotFound, "Not found")
	}
	return cp, r, u, nil
}

// extendCopy moves a copy's deletion time to Keep for days after Ready.
func (h *Handler) extendCopy(c echo.Context) error {
	cp, r, u, err := h.loadCopy(c)
	if err != nil {
		return err
	}
	days, convErr := strconv.Atoi(strings.TrimSpace(c.FormValue("keep_days")))
	if convErr != nil {
		return h.refuseExtend(c, r, u, cp.ID, "Enter the number of days as a whole number.")
	}
	err = h.Lifecycle.ExtendCopy(c.Request().Context(), actor(c, u), cp.ID, days)
	switch {
	case err == nil:
	case errors.Is(err, restore.ErrForbidden):
		return echo.NewHTTPError(http.StatusForbidden, "Only the requester or a lead of the team can extend this copy.")
	case problem.CodeOf(err) == problem.Invalid:
		return h.refuseExtend(c, r, u, cp.ID, problem.MessageOf(err))
	default:
		return h.copyConflict(c, r, err)
	}
	if err := h.setFlash(c, "success", "Copy "+cp.InstanceID+" extended."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/requests/%d", r.ID))
}

// refuseExtend shows the request page again with the problem at the extend field.
func (h *Handler) refuseExtend(c echo.Context, r request.Request, u *policy.User, copyID int64, msg string) error {
	d, err := h.requestDetail(c, r, u, true)
	if err != nil {
		return err
	}
	for i := range d.Copies {
		if d.Copies[i].ID == copyID {
			d.Copies[i].KeepDays, d.Copies[i].KeepError = c.FormValue("keep_days"), msg
		}
	}
	noStore(c)
	return render(c, http.StatusUnprocessableEntity, views.RequestPage(h.page(c, fmt.Sprintf("Request #%d", r.ID), "requests"), d))
}

// copyConflict reports a refusal that is about the copy's state on the
// request's page; anything else is an error.
func (h *Handler) copyConflict(c echo.Context, r request.Request, err error) error {
	if problem.CodeOf(err) != problem.Conflict {
		return err
	}
	if e := h.setFlash(c, "error", problem.MessageOf(err)); e != nil {
		return e
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/requests/%d", r.ID))
}

// deleteCopyConfirm asks before deleting a copy, naming its instance.
func (h *Handler) deleteCopyConfirm(c echo.Context) error {
	cp, _, u, err := h.loadCopy(c)
	if err != nil {
		return err
	}
	row := h.copyRow(cp, u, time.Now())
	if !row.CanDelete {
		return echo.NewHTTPError(http.StatusForbidden, "Only the requester or a lead of the team can delete this copy, while it runs.")
	}
	noStore(c)
	return render(c, http.StatusOK, views.DeleteCopyConfirm(h.page(c, "Delete copy "+cp.InstanceID, "requests"), row))
}

// deleteCopy deletes a copy now, once the confirmation names its instance.
func (h *Handler) deleteCopy(c echo.Context) error {
	cp, r, u, err := h.loadCopy(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != cp.InstanceID {
		return h.deleteCopyConfirm(c) // not confirmed (a bare POST): ask
	}
	err = h.Lifecycle.DeleteCopyNow(c.Request().Context(), actor(c, u), cp.ID)
	switch {
	case err == nil:
	case errors.Is(err, restore.ErrForbidden):
		return echo.NewHTTPError(http.StatusForbidden, "Only the requester or a lead of the team can delete this copy.")
	default:
		return h.copyConflict(c, r, err)
	}
	if err := h.setFlash(c, "success", "Deleting "+cp.InstanceID+": Restore Desk deletes it in a moment."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/requests/%d", r.ID))
}

// liveCopies lists the copies the viewer may see, sortable, with team totals.
func (h *Handler) liveCopies(c echo.Context) error {
	u := currentUser(c)
	cs, err := h.db.LiveCopies(c.Request().Context(), u.TeamIDs(), policy.CanViewAllCopies(u))
	if err != nil {
		return err
	}
	now := time.Now()
	l := views.LiveCopies{Sort: c.QueryParam("sort"), Label: "estimate, list price, as of " + h.Prices.AsOf}
	for _, cp := range cs {
		l.Rows = append(l.Rows, h.copyRow(cp, u, now))
	}
	sortCopies(l.Rows, l.Sort)
	type sum struct {
		n              int
		soFar, monthly float64
	}
	totals := map[string]*sum{}
	for _, r := range l.Rows {
		t := totals[r.Team]
		if t == nil {
			t = &sum{}
			totals[r.Team] = t
		}
		t.n++
		t.soFar += r.SoFarCNY
		t.monthly += r.MonthlyCNY
	}
	for team, t := range totals {
		l.Totals = append(l.Totals, views.TeamTotal{Team: team, Copies: t.n,
			SoFar: money(t.soFar, h.Prices.Currency), Monthly: money(t.monthly, h.Prices.Currency)})
	}
	slices.SortFunc(l.Totals, func(a, b views.TeamTotal) int { return strings.Compare(a.Team, b.Team) })
	noStore(c)
	return render(c, http.StatusOK, views.LiveCopiesPage(h.page(c, "Live copies", "copies"), l))
}

// sortCopies orders the rows by the column key (oldest first by default).
func sortCopies(rows []views.CopyRow, key string) {
	by := map[string]func(a, b views.CopyRow) int{
		"team":      func(a, b views.CopyRow) int { return strings.Compare(a.Team, b.Team) },
		"requester": func(a, b views.CopyRow) int { return strings.Compare(a.Requester, b.Requester) },
		"age":       func(a, b views.CopyRow) int { return a.Created.Compare(b.Created) },
		"delete_at": func(a, b views.CopyRow) int {
			// Not set sorts last.
			switch {
			case a.DeleteAt.IsZero() || b.DeleteAt.IsZero():
				return cmp.Compare(boolInt(a.DeleteAt.IsZero()), boolInt(b.DeleteAt.IsZero()))
			}
			return a.DeleteAt.Compare(b.DeleteAt)
		},
		"state":   func(a, b views.CopyRow) int { return strings.Compare(a.State, b.State) },
		"so_far":  func(a, b views.CopyRow) int { return cmp.Compare(b.SoFarCNY, a.SoFarCNY) },
		"monthly": func(a, b views.CopyRow) int { return cmp.Compare(b.MonthlyCNY, a.MonthlyCNY) },
	}
	f, ok := by[key]
	if !ok {
		f = by["age"]
	}
	slices.SortStableFunc(rows, f)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
