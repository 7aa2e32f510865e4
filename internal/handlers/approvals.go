package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/notify"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
	"restoredesk/internal/views"
)

// ownPendingShown is how many of a lead's own pending requests the queue
// lists before linking to the history for the rest.
const ownPendingShown = 10

// approvals is a lead's queue: the pending requests of the teams they lead
// that they may decide (not their own), oldest first, and apart from them
// their own pending requests, which another lead must decide.
func (h *Handler) approvals(c echo.Context) error {
	u := currentUser(c)
	led := policy.DecidableTeams(u)
	if len(led) == 0 {
		return echo.NewHTTPError(http.StatusForbidden, "The approvals queue is for team leads.")
	}
	ctx := c.Request().Context()
	var cur postgres.RequestCursor
	cur.After, _ = strconv.ParseInt(c.QueryParam("after"), 10, 64)
	cur.Before, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	page, err := h.db.ListRequests(ctx, decidableBy(u), cur, true, requestPageSize)
	if err != nil {
		return err
	}
	// The query mirrors policy.CanDecide; the policy has the last word.
	page.Requests = slices.DeleteFunc(page.Requests, func(r request.Request) bool {
		return !policy.CanDecide(u, policyRequest(r))
	})
	own, err := h.db.ListRequests(ctx, postgres.RequestFilter{TeamIDs: led, RequesterID: u.ID, Undecided: true},
		postgres.RequestCursor{}, true, ownPendingShown)
	if err != nil {
		return err
	}
	now := time.Now()
	p := views.ApprovalsProps{Decide: requestRows(page.Requests, now), Own: requestRows(own.Requests, now)}
	if err := h.describeRows(ctx, p.Decide, page.Requests); err != nil {
		return err
	}
	deciders := decidersCache{}
	for i, r := range page.Requests {
		if p.Decide[i].WaitingFor, err = h.waitingFor(ctx, deciders, r, u.ID); err != nil {
			return err
		}
	}
	for i, r := range own.Requests {
		if p.Own[i].WaitingFor, err = h.waitingFor(ctx, deciders, r, u.ID); err != nil {
			return err
		}
	}
	p.PrevHref, p.NextHref = pageHrefs("/approvals", url.Values{}, page)
	if own.Next > 0 {
		p.OwnMoreHref = "/requests?" + url.Values{"status": {string(request.Pending)}, "requester": {u.Username}}.Encode()
	}
	noStore(c)
	return render(c, http.StatusOK, views.Approvals(h.page(c, "Approvals", "approvals"), p))
}

// decidersCache keeps, for one page, who may decide the requests of a team
// and requester.
type decidersCache map[[2]int64][]postgres.User

// waitingFor says who may decide pending request r, in the notifications'
// words, the viewer as "you". It is resolved at every render, so a lead added
// or removed since the request was filed shows as things are now.
func (h *Handler) waitingFor(ctx context.Context, cache decidersCache, r request.Request, viewer int64) (string, error) {
	key := [2]int64{r.TeamID, r.RequesterID}
	us, ok := cache[key]
	if !ok {
		var err error
		if us, err = h.db.Approvers(ctx, r.TeamID, r.RequesterID); err != nil {
			return "", err
		}
		cache[key] = us
	}
	names := make([]string, 0, len(us))
	for _, a := range us {
		if a.ID == viewer {
			names = append(names, "you")
		} else {
			names = append(names, a.DisplayName)
		}
	}
	return notify.WaitingFor(names), nil
}

// describeRows adds to rows (made from list) what each request will create,
// in the form's words; VPC names are those recorded with the teams' VPCs,
// never asked of JD Cloud to render a page.
func (h *Handler) describeRows(ctx context.Context, rows []views.RequestRow, list []request.Request) error {
	vpcNames := map[string]string{} // team|region|vpc id → name
	seen := map[int64]bool{}
	for i, r := range list {
		if !seen[r.TeamID] {
			seen[r.TeamID] = true
			vpcs, err := h.db.TeamVPCs(ctx, r.TeamID)
			if err != nil {
				return err
			}
			for _, v := range vpcs {
				vpcNames[fmt.Sprint(v.TeamID, "|", v.Region, "|", v.VpcID)] = v.VpcName
			}
		}
		s := requestSpec(r)
		rows[i].Engine, rows[i].Class, rows[i].Storage = r.Engine, classWords(s.InstanceClass), storageSummary(s)
		rows[i].VPC = vpcLabel(vpcNames[fmt.Sprint(r.TeamID, "|", r.Region, "|", s.VpcID)], s.VpcID)
		rows[i].Billing = billingWords(s.ChargeSpec)
		rows[i].Region = regionWords(r.Region)
		rows[i].BackupTime = jdTime(ctx, r.BackupTime)
	}
	return nil
}

// decidableBy selects the requests u may decide: pending, still within the
// approval window, of a team u leads, and not u's own.
func decidableBy(u *policy.User) postgres.RequestFilter {
	return postgres.RequestFilter{TeamIDs: policy.DecidableTeams(u), NotRequester: u.ID, Undecided: true}
}
