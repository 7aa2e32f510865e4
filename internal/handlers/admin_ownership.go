package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/postgres"
	"restoredesk/internal/problem"
	"restoredesk/internal/restore"
	"restoredesk/internal/views"
)

// ownershipInput is what the ownership forms send.
type ownershipInput struct {
	Region, Instance, VPC string
}

// adminOwnership shows, for the chosen region, the source instances a team
// owns and the VPCs it may restore into, with the forms to change them.
func (h *Handler) adminOwnership(c echo.Context) error {
	return h.renderOwnership(c, http.StatusOK, ownershipInput{Region: c.QueryParam("region")}, nil)
}

func (h *Handler) renderOwnership(c echo.Context, status int, in ownershipInput, errs map[string]string) error {
	ctx := c.Request().Context()
	team, err := h.pathTeam(c)
	if err != nil {
		return err
	}
	if errs == nil {
		errs = map[string]string{}
	}
	if in.Region == "" {
		in.Region = jdcloud.Regions[0].ID
	}
	if _, ok := jdcloud.LookupRegion(in.Region); !ok {
		errs["region"] = "Choose a region from the list."
		status = http.StatusUnprocessableEntity
	}
	p := views.OwnershipProps{TeamID: team.ID, TeamName: team.Name, Region: in.Region, Instance: in.Instance, VPC: in.VPC, Errors: errs}
	owned, err := h.db.TeamInstances(ctx, team.ID)
	if err != nil {
		return err
	}
	vpcs, err := h.db.TeamVPCs(ctx, team.ID)
	if err != nil {
		return err
	}
	for _, r := range jdcloud.Regions {
		s := views.RegionSummary{ID: r.ID, Label: r.Name + " (" + r.ID + ")"}
		for _, o := range owned {
			if o.Region == r.ID {
				s.Instances++
			}
		}
		for _, v := range vpcs {
			if v.Region == r.ID {
				s.VPCs++
			}
		}
		p.Regions = append(p.Regions, s)
	}
	if errs["region"] == "" {
		if err := h.ownershipChoices(c, team, owned, vpcs, &p); err != nil {
			return err
		}
	}
	noStore(c)
	return render(c, status, views.AdminOwnership(h.page(c, "Team "+team.Name+": instances and VPCs", "admin"), p))
}

// ownershipChoices fills p with what the team has in p.Region and the
// instances and VPCs JD Cloud lists there, each instance with its owner.
func (h *Handler) ownershipChoices(c echo.Context, team postgres.Team, owned []postgres.TeamInstance, vpcs []postgres.TeamVPC, p *views.OwnershipProps) error {
	ctx := c.Request().Context()
	var (
		instances []jdcloud.Instance
		cloudVPCs []jdcloud.Vpc
		err       error
	)
	if h.Cloud == nil {
		p.CloudErr = "JD Cloud is not configured, so its instances and VPCs cannot be listed."
	} else {
		instances, err = h.Cloud.AllInstances(ctx, p.Region, jdcloud.DescribeInstancesQuery{})
		if err == nil {
			cloudVPCs, err = h.Cloud.AllVpcs(ctx, p.Region, jdcloud.DescribeVpcsQuery{})
		}
		if err != nil {
			h.Log.WarnContext(ctx, "ownership page look-up", "err", err)
			p.CloudErr = "JD Cloud could not list this region's instances and VPCs right now (" + jdcloud.Describe(err) + "). Try again in a moment."
		}
	}
	owners, err := h.db.RegionOwners(ctx, p.Region)
	if err != nil {
		return err
	}
	live := map[string]string{}
	for _, in := range instances {
		live[in.InstanceID] = in.InstanceStatus
		if owners[in.InstanceID] == team.Name {
			continue
		}
		label := fmt.Sprintf("%s (%s) — %s, %s", in.InstanceName, in.InstanceID, in.Engine, in.InstanceStatus)
		if o := owners[in.InstanceID]; o != "" {
			label += " — owned by " + o
		}
		p.InstanceChoices = append(p.InstanceChoices, views.Option{Value: in.InstanceID, Label: label})
	}
	for _, o := range owned {
		if o.Region == p.Region {
			st, ok := live[o.InstanceID]
			if !ok && len(instances) > 0 {
				st = "not found on JD Cloud"
			}
			p.Owned = append(p.Owned, views.OwnedItem{ID: o.InstanceID, Name: o.InstanceName, Engine: o.Engine, Status: st})
		}
	}
	cloudNames := map[string]string{}
	for _, v := range cloudVPCs {
		cloudNames[v.VpcID] = v.VpcName
	}
	for _, v := range vpcs {
		if v.Region == p.Region {
			name := v.VpcName
			if name == "" {
				name = cloudNames[v.VpcID] // granted by id only (the demo seed)
			}
			p.VPCs = append(p.VPCs, views.OwnedItem{ID: v.VpcID, Name: name})
		}
	}
	for _, v := range cloudVPCs {
		if slices.ContainsFunc(p.VPCs, func(o views.OwnedItem) bool { return o.ID == v.VpcID }) {
			continue
		}
		p.VPCChoices = append(p.VPCChoices, views.Option{Value: v.VpcID, Label: fmt.Sprintf("%s (%s) %s", v.VpcName, v.VpcID, v.AddressPrefix)})
	}
	return nil
}

// adminOwnershipChange handles the four ownership forms: add or remove an
// instance or a VPC. A refused addition comes back with 422, the choice kept
// and the problem next to its field.
func (h *Handler) adminOwnershipChange(kind string, add bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		team, err := h.pathTeam(c)
		if err != nil {
			return err
		}
		in := ownershipInput{Region: strings.TrimSpace(c.FormValue("region")),
			Instance: strings.TrimSpace(c.FormValue("instance_id")), VPC: strings.TrimSpace(c.FormValue("vpc_id"))}
		field, id, noun := "instance_id", in.Instance, "instance"
		if kind == restore.KindVPC {
			field, id, noun = "vpc_id", in.VPC, "VPC"
		}
		fail := func(msg string) error {
			return h.renderOwnership(c, http.StatusUnprocessableEntity, in, map[string]string{field: msg})
		}
		if _, ok := jdcloud.LookupRegion(in.Region); !ok {
			return h.renderOwnership(c, http.StatusUnprocessableEntity, in, map[string]string{"region": "Choose a region from the list."})
		}
		if id == "" {
			return fail("Choose the " + noun + ".")
		}
		if add && h.Cloud == nil {
			return fail("JD Cloud is not configured, so nothing can be added.")
		}
		own := restore.NewOwnership(h.Pool, h.Cloud)
		a := actor(c, currentUser(c))
		switch {
		case add && kind == restore.KindInstance:
			err = own.AddInstance(ctx, a, team, in.Region, id)
		case add:
			err = own.AddVPC(ctx, a, team, in.Region, id)
		case kind == restore.KindInstance:
			err = own.RemoveInstance(ctx, a, team, in.Region, id)
		default:
			err = own.RemoveVPC(ctx, a, team, in.Region, id)
		}
		switch {
		case err == nil:
		case errors.Is(err, restore.ErrNoChange) && add:
			return fail(fmt.Sprintf("The team already has %s.", id))
		case errors.Is(err, restore.ErrNoChange):
			// A repeated removal: nothing left to do.
			return h.ownershipDone(c, team.ID, in.Region, "error", fmt.Sprintf("The team did not have %s.", id))
		case problem.CodeOf(err) != problem.Internal:
			// Unknown to JD Cloud, owned by another team, or JD Cloud could not be asked.
			return fail(problem.MessageOf(err))
		default:
			return err
		}
		done := fmt.Sprintf("%s %s added.", views.Capitalize(noun), id)
		if !add {
			done = fmt.Sprintf("%s %s removed.", views.Capitalize(noun), id)
		}
		return h.ownershipDone(c, team.ID, in.Region, "success", done)
	}
}

func (h *Handler) ownershipDone(c echo.Context, team int64, region, kind, msg string) error {
	if err := h.setFlash(c, kind, msg); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, teamHref(team)+"/ownership?"+url.Values{"region": {region}}.Encode())
}

// pathTeam reads the team named by the :id path parameter.
func (h *Handler) pathTeam(c echo.Context) (postgres.Team, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return postgres.Team{}, err
	}
	return h.db.TeamByID(c.Request().Context(), id)
}
