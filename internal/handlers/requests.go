package handlers

import (
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/policy"
	"restoredesk/internal/problem"
	"restoredesk/internal/request"
	"restoredesk/internal/restore"
	"restoredesk/internal/timezone"
	"restoredesk/internal/views"
)

// actor is the signed-in user as the audit trail records them.
func actor(c echo.Context, u *policy.User) audit.Actor {
	cl := clientOf(c)
	return audit.Actor{UserID: u.ID, Name: u.Username, ClientAddr: cl.Addr, UserAgent: cl.UserAgent}
}

// errNoTeam refuses the request form to people in no team.
var errNoTeam = echo.NewHTTPError(http.StatusForbidden,
	"You are not in any team, so you cannot request restores. Ask an admin to add you to your team.")

// draftFrom reads the request form from the query (GET) or body (POST).
func draftFrom(c echo.Context) restore.Draft {
	v := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	return restore.Draft{
		Key: v("key"), Team: v("team"), Region: v("region"), Source: v("source"), Backup: v("backup"),
		Kind: v("kind"), RestoreAt: v("restore_at"), Zone: timezone.From(c.Request().Context()).String(),
		Class: v("class"), Storage: v("storage"), AZPrimary: v("az_primary"), AZStandby: v("az_standby"),
		VPC: v("vpc"), Subnet: v("subnet"), ParamGroup: v("param_group"), StorageType: v("storage_type"),
		Encrypted: v("encrypted") != "", Port: v("port"), Arch: v("arch"), ChargeMode: v("charge_mode"),
		Period: v("period"), PeriodUnit: v("period_unit"), Name: v("name"), Reason: c.FormValue("reason"),
		KeepDays: v("keep_days"),
	}
}

// newRequestForm shows the request form. Its choices depend on each other
// (team → region → source → backup, VPC → subnet), so the form reloads
// through this GET with the values typed so far; "from" pre-fills it from an
// earlier request ("Request again").
func (h *Handler) newRequestForm(c echo.Context) error {
	u := currentUser(c)
	if len(u.Teams) == 0 {
		return errNoTeam
	}
	d := draftFrom(c)
	from, _ := strconv.ParseInt(c.QueryParam("from"), 10, 64)
	var gone string // the earlier request's moment, when JD Cloud can no longer restore it
	if from > 0 {
		r, err := h.db.Request(c.Request().Context(), from)
		if err != nil || !policy.CanRequestAgain(u, policyRequest(r)) {
			return echo.NewHTTPError(http.StatusNotFound, "Not found")
		}
		zone := timezone.From(c.Request().Context())
		d = restore.DraftFrom(r)
		d.Zone = zone.String()
		switch {
		case restore.PointInTimeGone(r, time.Now()):
			// The old moment would only be refused again: the requester
			// chooses a later one.
			gone, d.RestoreAt = restore.FormTime(*r.RestoreTime, zone), ""
		case r.RestoreTime != nil:
			d.RestoreAt = r.RestoreTime.In(zone).Format("2006-01-02T15:04")
		}
	}
	if d.Key == "" {
		d.Key = rand.Text()
	}
	ch, err := h.Planner.Choices(c.Request().Context(), u, d)
	if err != nil {
		return err
	}
	f := h.requestFormView(ch.Suggested, ch, nil)
	f.FromRequest = from
	if gone != "" && f.PointInTime {
		f.RestoreHint = fmt.Sprintf("Request #%d restored to %s, which is now too far back; choose a later time. %s", from, gone, f.RestoreHint)
	}
	noStore(c)
	if c.FormValue("partial") == "1" {
		return render(c, http.StatusOK, views.RequestFormBody(f))
	}
	return render(c, http.StatusOK, views.NewRequestPage(h.formPage(c), f))
}

// createRequest validates the form against every rule of the request form and stores
// a pending request. A refused form comes back with 422, the input kept and
// each problem next to its field; a repeated submission of the same form
// lands on the request it already created.
func (h *Handler) createRequest(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if len(u.Teams) == 0 {
		return errNoTeam
	}
	d := draftFrom(c)
	if len(d.Key) < 16 || len(d.Key) > 64 {
		d.Key = rand.Text() // a tampered or missing key: treat as a fresh form
	}
	if prev, err := h.db.RequestBySubmission(ctx, d.Key); err == nil && prev.RequesterID == u.ID {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/requests/%d", prev.ID))
	}
	// A submission is validated and shown again as it was sent, not as
	// Choices suggests, so a required field left empty is refused, not
	// silently filled in.
	ch, err := h.Planner.Choices(ctx, u, d)
	if err != nil {
		return err
	}
	n, problems := h.Planner.Validate(u, d, ch)
	if problems == nil {
		id, _, err := h.Lifecycle.Submit(ctx, actor(c, u), n)
		switch {
		case err == nil:
			if err := h.setFlash(c, "success", fmt.Sprintf("Request #%d submitted. A lead of the team will decide on it.", id)); err != nil {
				return err
			}
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/requests/%d", id))
		case errors.Is(err, restore.ErrForbidden):
			problems = map[string]string{"team": "You are not a member of this team, so you cannot request restores for it."}
		case errors.Is(err, restore.ErrNoApprover):
			problems = map[string]string{"team": problem.MessageOf(err)}
		case errors.Is(err, restore.ErrKeyInUse):
			d.Key = rand.Text() // a fresh form: the next submission stands on its own
			problems = map[string]string{"reason": problem.MessageOf(err)}
		case errors.Is(err, restore.ErrNotOwned):
			problems = map[string]string{"source": problem.MessageOf(err)}
		default:
			return err
		}
	}
	noStore(c)
	return render(c, http.StatusUnprocessableEntity,
		views.NewRequestPage(h.formPage(c), h.requestFormView(d, ch, problems)))
}

// requestFormView maps the draft and its choices to the form's view model.
func (h *Handler) requestFormView(d restore.Draft, ch restore.Choices, problems map[string]string) views.RequestForm {
	// A field that does not apply to the engine is hidden, unless it was sent
	// anyway and refused: then it shows, with its value and its problem.
	// The period fields show only with prepaid billing, so their problems
	// otherwise go next to the billing choice (the period is dropped from
	// the form shown again).
	if problems != nil && d.ChargeMode != jdcloud.ChargePrepaidByDuration {
		problems = maps.Clone(problems)
		for _, k := range []string{"period", "period_unit"} {
			if msg, ok := problems[k]; ok {
				delete(problems, k)
				if _, taken := problems["charge_mode"]; !taken {
					problems["charge_mode"] = msg + " Submit again without one, or choose prepaid billing."
				}
			}
		}
	}
	refused := func(fields ...string) bool {
		return slices.ContainsFunc(fields, func(f string) bool { return problems[f] != "" })
	}
	f := views.RequestForm{
		Values: views.RequestValues{
			Key: d.Key, Team: d.Team, Region: d.Region, Source: d.Source, Backup: d.Backup, Class: d.Class,
			Storage: d.Storage, AZPrimary: d.AZPrimary, AZStandby: d.AZStandby, VPC: d.VPC, Subnet: d.Subnet,
			ParamGroup: d.ParamGroup, StorageType: d.StorageType, Port: d.Port, Arch: d.Arch, ChargeMode: d.ChargeMode,
			Period: d.Period, PeriodUnit: d.PeriodUnit, Name: d.Name, Reason: d.Reason, Encrypted: d.Encrypted,
			Kind: string(ch.Kind), RestoreAt: d.RestoreAt, KeepDays: d.KeepDays,
		},
		KeepMax:        ch.Policy.MaxKeepDays,
		KeepHint:       restore.KeepHint(d.KeepDays, ch, time.Now()),
		PointInTime:    ch.Kind == request.ToPointInTime,
		Errors:         problems,
		Engine:         ch.Engine,
		StandbyZone:    ch.AZCount == 2 || refused("az_standby"),
		ShowParamGroup: ch.Applies(jdcloud.FieldParameterGroup) || refused("param_group"),
		ShowStorage:    ch.Applies(jdcloud.FieldStorageType) || refused("storage_type", "encrypted"),
		ShowPort:       ch.Applies(jdcloud.FieldPort) || refused("port"),
		ShowArch:       ch.Applies(jdcloud.FieldInstanceType) || refused("arch"),
		NoApprover:     ch.NoApprover,
		LookupErr:      ch.LookupErr,
	}
	for _, m := range ch.Teams {
		f.Teams = append(f.Teams, views.Option{Value: strconv.FormatInt(m.TeamID, 10), Label: m.TeamName})
	}
	for _, r := range ch.Regions {
		f.Regions = append(f.Regions, views.Option{Value: r.ID, Label: r.Name + " (" + r.ID + ")"})
	}
	for _, s := range ch.Sources {
		label := s.InstanceID
		if s.InstanceName != "" {
			label = s.InstanceName + " (" + s.InstanceID + ")"
		}
		if s.Engine != "" {
			label += " — " + s.Engine
		}
		f.Sources = append(f.Sources, views.Option{Value: s.InstanceID, Label: label})
	}
	if ch.Source != nil && ch.Source.EngineVersion != "" {
		f.EngineNote = "version " + ch.Source.EngineVersion + ", from the source instance"
	}
	for _, b := range ch.Backups {
		f.Backups = append(f.Backups, views.Option{Value: b.BackupID, Label: fmt.Sprintf("%s — %s, %s, %s (%s)",
			jdTimeIn(ch.Zone, b.BackupStartTime), views.Bytes(b.BackupSizeByte), b.BackupMode, b.BackupMethod, b.BackupID)})
	}
	f.Kinds = []views.Option{{Value: string(request.FromBackup), Label: "A backup"},
		{Value: string(request.ToPointInTime), Label: "A point in time"}}
	if f.PointInTime {
		f.ZoneName = ch.Zone.String()
		if !ch.Window.From.IsZero() {
			f.RestoreHint = fmt.Sprintf("Your time zone, %s. From %s to %s (%s).", ch.Zone, restore.FormTime(ch.Window.From, ch.Zone),
				restore.FormTime(ch.Window.To, ch.Zone), ch.Window.FromReason)
			f.RestoreMin = ch.Window.From.In(ch.Zone).Format("2006-01-02T15:04")
			f.RestoreMax = ch.Window.To.In(ch.Zone).Format("2006-01-02T15:04")
		}
		if at, ok := restore.ParseFormTime(d.RestoreAt, ch.Zone); ok {
			f.RestoreEcho = fmt.Sprintf("%s in %s is %s UTC and %s Beijing time.", restore.FormTime(at, ch.Zone), ch.Zone,
				at.UTC().Format("2006-01-02 15:04"), restore.FormTime(at, restore.DefaultZone))
		}
		if ch.PointInTimeRefusal != "" && problems["source"] == "" {
			f.LookupErr = ch.PointInTimeRefusal
		}
	}
	if d.Class != "" {
		gb, _ := strconv.Atoi(strings.TrimSpace(d.Storage))
		period, _ := strconv.Atoi(strings.TrimSpace(d.Period))
		f.Estimate, f.EstimateLabel = h.estimate(d.Region, d.Class, d.StorageType, gb,
			jdcloud.ChargeSpec{ChargeMode: d.ChargeMode, ChargeUnit: d.PeriodUnit, ChargeDuration: period})
	}
	for _, k := range ch.Classes {
		f.Classes = append(f.Classes, views.Option{Value: k.Code, Label: k.Label()})
	}
	if ch.Class != nil {
		f.StorageHint = "Allowed for this class: " + ch.Class.Storage.String() + "."
		if ch.Backup != nil {
			f.StorageHint += fmt.Sprintf(" The backup (%s) needs at least %d GB.", views.Bytes(ch.Backup.BackupSizeByte), ch.Backup.SizeGB())
		}
		if f.PointInTime && ch.Source != nil {
			f.StorageHint += fmt.Sprintf(" At least the source's %d GB.", ch.Source.InstanceStorageGB)
		}
	}
	for _, z := range ch.AZs {
		f.AZs = append(f.AZs, views.Option{Value: z, Label: z})
	}
	for _, v := range ch.VPCs {
		label := v.VpcID
		if v.VpcName != "" {
			label = v.VpcName + " (" + v.VpcID + ")"
		}
		f.VPCs = append(f.VPCs, views.Option{Value: v.VpcID, Label: label})
	}
	for _, s := range ch.Subnets {
		f.Subnets = append(f.Subnets, views.Option{Value: s.SubnetID, Label: fmt.Sprintf("%s (%s, %s, %d free addresses)",
			s.SubnetName, s.SubnetID, s.AddressPrefix, s.AvailableIPCount)})
	}
	f.ChargeModes = []views.Option{
		{Value: jdcloud.ChargePostpaidByDuration, Label: "Pay as you go, by duration"},
		{Value: jdcloud.ChargePostpaidByUsage, Label: "Pay as you go, by usage"},
		{Value: jdcloud.ChargePrepaidByDuration, Label: "Prepaid subscription"},
	}
	f.PeriodUnits = []views.Option{{Value: jdcloud.ChargeUnitMonth, Label: "Months"}, {Value: jdcloud.ChargeUnitYear, Label: "Years"}}
	for _, s := range jdcloud.StorageTypes {
		f.StorageTypes = append(f.StorageTypes, views.Option{Value: s, Label: word(storageWords, s)})
	}
	f.Archs = []views.Option{{Value: jdcloud.InstanceTypeCluster, Label: "Primary and standby (cluster)"},
		{Value: jdcloud.InstanceTypeStandalone, Label: "Single node (standalone)"}}
	if ch.LookupErr != "" {
		// JD Cloud did not answer, so its choices are missing: the choices
		// typed so far stay selected (checked again when it answers), so
		// "Try again" loses nothing.
		f.Backups = keepTyped(f.Backups, d.Backup)
		f.Classes = keepTyped(f.Classes, d.Class)
		f.AZs = keepTyped(keepTyped(f.AZs, d.AZPrimary), d.AZStandby)
		f.VPCs = keepTyped(f.VPCs, d.VPC)
		f.Subnets = keepTyped(f.Subnets, d.Subnet)
	}
	return f
}

// keepTyped returns opts with typed added when it is not among them.
func keepTyped(opts []views.Option, typed string) []views.Option {
	if typed == "" || slices.ContainsFunc(opts, func(o views.Option) bool { return o.Value == typed }) {
		return opts
	}
	return append(opts, views.Option{Value: typed, Label: typed + " (as chosen; JD Cloud did not answer, so it is checked when you submit again)"})
}

// estimate is the cost of an instance in words and the label every estimate
// carries, or "No estimate" with why.
func (h *Handler) estimate(region, class, storageType string, gb int, charge jdcloud.ChargeSpec) (text, label string) {
	e, ok := h.Prices.Estimate(region, class, storageType, gb, charge)
	if !ok {
		return "No estimate", "the price table has no list price for " + class
	}
	return e.String(), e.Label()
}

// policyRequest is what the policy needs of a stored request.
func policyRequest(r request.Request) policy.Request {
	return policy.Request{TeamID: r.TeamID, RequesterID: r.RequesterID, Pending: r.Status.Pending()}
}

// formPage is the frame of the request form: the wide one, as the form
// shows its summary beside its fields.
func (h *Handler) formPage(c echo.Context) views.Page {
	p := h.page(c, "New restore request", "new")
	p.Wide = true
	return p
}
