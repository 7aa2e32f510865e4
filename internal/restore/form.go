package restore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // DefaultZone and viewers' zones, whatever the machine has installed
	"unicode"
	"unicode/utf8"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
)

// Draft is the request form as typed. Every value stays a string so a refused
// form comes back exactly as the user left it. Field names are the form's.
type Draft struct {
	Key         string // submission key: one request per rendered form
	Team        string
	Region      string
	Source      string
	Kind        string // "backup" (or empty) or "time": what to restore
	Backup      string
	RestoreAt   string // the point in time, as typed: 2006-01-02T15:04[:05] in Zone
	Zone        string // the zone RestoreAt is in (an IANA name); empty means DefaultZone
	Class       string
	Storage     string
	AZPrimary   string
	AZStandby   string
	VPC         string
	Subnet      string
	ParamGroup  string
	StorageType string
	Encrypted   bool
	Port        string
	Arch        string
	ChargeMode  string
	Period      string
	PeriodUnit  string
	Name        string
	Reason      string
	KeepDays    string // "Keep for" N days from Ready; empty means DefaultKeepDays
}

// MinReasonLength is the shortest reason accepted: a word or a letter
// tells the lead nothing to decide on.
const MinReasonLength = 10

// MaxReasonLength bounds the reason text.
const MaxReasonLength = 2000

// Choices are what the form offers for a draft: only the team's own
// instances and VPCs, the source's restorable backups, the engine's classes.
type Choices struct {
	Teams   []policy.Membership
	TeamID  int64
	Regions []jdcloud.Region // regions where the team owns instances
	Sources []postgres.TeamInstance
	Source  *jdcloud.Instance // live attributes of the chosen source
	Engine  string
	Backups []jdcloud.Backup // restorable backups of the source, newest first
	Backup  *jdcloud.Backup
	Classes []jdcloud.InstanceClass
	Class   *jdcloud.InstanceClass
	AZs     []string
	AZCount int
	VPCs    []postgres.TeamVPC
	Subnets []jdcloud.Subnet
	Subnet  *jdcloud.Subnet
	// Kind is what the draft restores; Window and Zone serve a point in
	// time: the span it may be chosen from, and the zone it is typed in.
	Kind               request.Kind
	Window             jdcloud.RestoreWindow
	Zone               *time.Location
	PointInTimeRefusal string // why the source cannot be restored to a point in time, "" when it can
	OnlyLead           bool   // nobody but the requester leads the team: nobody could decide
	// NoApprover says why nobody could decide, in the requester's terms;
	// "" when someone could.
	NoApprover string
	LookupErr  string // a JD Cloud look-up failed; in plain words
	// Policy is the chosen team's rules: the longest "Keep for", prepaid.
	Policy postgres.TeamPolicy
	// Suggested is the draft the choices were made for: the one given, with
	// sensible defaults in its empty fields (the source's class, storage,
	// zones, VPC and subnet). A form shown afresh shows it; a submitted form
	// is validated as it was sent.
	Suggested Draft
}

// Applies reports whether an engine-specific API field is offered for the
// chosen engine (the form hides the others and the server refuses them).
func (c Choices) Applies(field string) bool {
	return c.Engine != "" && jdcloud.FieldApplies(field, c.Engine)
}

// Planner gathers the form's choices and turns a valid draft into a request.
// JD Cloud look-ups here are form-filling reads: they are not audit events.
type Planner struct {
	db    *postgres.DB
	cloud *jdcloud.Client
	log   *slog.Logger
}

// NewPlanner returns a Planner reading ownership from db and live data from cloud.
func NewPlanner(db *postgres.DB, cloud *jdcloud.Client, log *slog.Logger) *Planner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Planner{db: db, cloud: cloud, log: log}
}

// Choices loads the options for d, for the draft d with defaults in its
// empty fields (Choices.Suggested); d itself is not changed. Values that are
// no longer offered (another team picked, say) are left for Validate to
// report.
func (p *Planner) Choices(ctx context.Context, u *policy.User, d Draft) (Choices, error) {
	c, err := p.choices(ctx, u, &d)
	c.Suggested = d
	return c, err
}

// DefaultZone is the zone a point in time is typed in when the viewer's is
// not known: Beijing time, as JD Cloud's console shows times.
var DefaultZone = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded (cmd/web), so only a typo gets here
	}
	return z
}

// formTimeLayouts are the forms a datetime-local input sends.
var formTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"}

// ParseFormTime reads a date and time typed in zone.
func ParseFormTime(v string, zone *time.Location) (time.Time, bool) {
	for _, l := range formTimeLayouts {
		if t, err := time.ParseInLocation(l, strings.TrimSpace(v), zone); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// choices is Choices on a copy of the draft, which it fills in as it goes.
func (p *Planner) choices(ctx context.Context, u *policy.User, d *Draft) (Choices, error) {
	var c Choices
	c.Teams = u.Teams
	c.Kind = request.FromBackup
	if d.Kind == string(request.ToPointInTime) {
		c.Kind = request.ToPointInTime
	}
	c.Zone = DefaultZone
	if d.Zone != "" {
		if z, err := time.LoadLocation(d.Zone); err == nil {
			c.Zone = z
		}
	}
	if d.Team == "" && len(u.Teams) > 0 {
		d.Team = strconv.FormatInt(u.Teams[0].TeamID, 10)
	}
	team, _ := strconv.ParseInt(d.Team, 10, 64)
	if !u.MemberOf(team) {
		return c, nil
	}
	var err error
	c.TeamID = team
	if c.Policy, err = p.db.TeamPolicy(ctx, team); err != nil {
		return c, err
	}
	if d.KeepDays == "" {
		d.KeepDays = strconv.Itoa(min(DefaultKeepDays, c.Policy.MaxKeepDays))
	}
	others, err := p.db.OtherLeads(ctx, team, u.ID)
	if err != nil {
		return c, err
	}
	c.OnlyLead = others == 0
	switch {
	case c.OnlyLead && u.LeadOf(team):
		c.NoApprover = "You are this team's only lead, so nobody could approve your request. Ask an admin to add another lead."
	case c.OnlyLead:
		c.NoApprover = "This team has no lead, so nobody could approve your request. Ask an admin to make someone its lead."
	}
	owned, err := p.db.TeamInstances(ctx, team)
	if err != nil {
		return c, err
	}
	for _, r := range jdcloud.Regions {
		if slices.ContainsFunc(owned, func(t postgres.TeamInstance) bool { return t.Region == r.ID }) {
			c.Regions = append(c.Regions, r)
		}
	}
	if d.Region == "" && len(c.Regions) > 0 {
		d.Region = c.Regions[0].ID
	}
	for _, t := range owned {
		if t.Region == d.Region {
			c.Sources = append(c.Sources, t)
		}
	}
	vpcs, err := p.db.TeamVPCs(ctx, team)
	if err != nil {
		return c, err
	}
	for _, v := range vpcs {
		if v.Region == d.Region {
			c.VPCs = append(c.VPCs, v)
		}
	}
	if d.Source == "" && len(c.Sources) == 1 {
		d.Source = c.Sources[0].InstanceID
	}
	if !slices.ContainsFunc(c.Sources, func(t postgres.TeamInstance) bool { return t.InstanceID == d.Source }) {
		return c, nil
	}
	if err := p.loadSource(ctx, d, &c); err != nil {
		c.LookupErr = "JD Cloud could not be asked about this instance right now (" + jdcloud.Describe(err) + "). Try again in a moment."
		p.log.WarnContext(ctx, "request form look-up", "err", err)
	}
	return c, nil
}

// loadSource reads the chosen source instance, its backups, the engine's
// zones and the chosen VPC's subnets from JD Cloud.
func (p *Planner) loadSource(ctx context.Context, d *Draft, c *Choices) error {
	src, err := p.cloud.DescribeInstanceAttributes(ctx, d.Region, d.Source)
	if err != nil {
		return err
	}
	c.Source, c.Engine = &src, src.Engine
	if c.Kind == request.ToPointInTime {
		if err := p.loadWindow(ctx, d, c); err != nil {
			return err
		}
	} else {
		backups, err := p.cloud.AllBackups(ctx, d.Region, d.Source)
		if err != nil {
			return err
		}
		for _, b := range backups {
			if b.Restorable() {
				c.Backups = append(c.Backups, b)
			}
		}
	}
	// Newest first; ISO 8601 UTC times sort as strings.
	slices.SortFunc(c.Backups, func(a, b jdcloud.Backup) int { return cmp.Compare(b.BackupStartTime, a.BackupStartTime) })
	for i := range c.Backups {
		if c.Backups[i].BackupID == d.Backup {
			c.Backup = &c.Backups[i]
		}
	}
	c.Classes = jdcloud.Classes(c.Engine)
	if c.Kind == request.ToPointInTime {
		// The new instance may not be smaller than the source.
		if sc, ok := jdcloud.LookupClass(src.InstanceClass); ok {
			c.Classes = slices.DeleteFunc(c.Classes, func(k jdcloud.InstanceClass) bool {
				return k.CPU < sc.CPU || k.MemoryGB < sc.MemoryGB
			})
		}
	}
	if d.Class == "" && slices.ContainsFunc(c.Classes, func(k jdcloud.InstanceClass) bool { return k.Code == src.InstanceClass }) {
		d.Class = src.InstanceClass
	}
	if d.Class == "" && len(c.Classes) > 0 {
		d.Class = c.Classes[0].Code
	}
	for i := range c.Classes {
		if c.Classes[i].Code == d.Class {
			c.Class = &c.Classes[i]
		}
	}
	if d.Storage == "" && c.Class != nil {
		want := src.InstanceStorageGB
		if c.Backup != nil {
			want = max(want, c.Backup.SizeGB())
		}
		if gb, ok := c.Class.Storage.Smallest(want); ok {
			d.Storage = strconv.Itoa(gb)
		}
	}
	if c.AZs, err = p.cloud.DescribeAzs(ctx, d.Region, c.Engine); err != nil {
		return err
	}
	if d.Arch == "" && c.Applies(jdcloud.FieldInstanceType) {
		d.Arch = jdcloud.InstanceTypeCluster
		if src.InstanceType == jdcloud.InstanceTypeStandalone {
			d.Arch = jdcloud.InstanceTypeStandalone
		}
	}
	c.AZCount = jdcloud.AZCount(c.Engine, d.Arch)
	if d.AZPrimary == "" && len(src.AzID) > 0 && slices.Contains(c.AZs, src.AzID[0]) {
		d.AZPrimary = src.AzID[0]
	}
	if d.AZStandby == "" && c.AZCount == 2 {
		d.AZStandby = d.AZPrimary
		if len(src.AzID) > 1 && slices.Contains(c.AZs, src.AzID[1]) {
			d.AZStandby = src.AzID[1]
		}
	}
	if d.VPC == "" && slices.ContainsFunc(c.VPCs, func(v postgres.TeamVPC) bool { return v.VpcID == src.VpcID }) {
		d.VPC = src.VpcID
		if d.Subnet == "" {
			d.Subnet = src.SubnetID
		}
	}
	if d.StorageType == "" && c.Applies(jdcloud.FieldStorageType) {
		d.StorageType = jdcloud.StorageTypes[0]
	}
	if d.Port == "" && c.Applies(jdcloud.FieldPort) {
		d.Port = strconv.Itoa(jdcloud.DefaultPort(c.Engine))
	}
	if d.ChargeMode == "" {
		d.ChargeMode = jdcloud.ChargePostpaidByDuration
	}
	if d.VPC != "" && slices.ContainsFunc(c.VPCs, func(v postgres.TeamVPC) bool { return v.VpcID == d.VPC }) {
		if c.Subnets, err = p.cloud.AllSubnets(ctx, d.Region, jdcloud.DescribeSubnetsQuery{VpcID: d.VPC}); err != nil {
			return err
		}
		for i := range c.Subnets {
			if c.Subnets[i].SubnetID == d.Subnet {
				c.Subnet = &c.Subnets[i]
			}
		}
	}
	return nil
}

// loadWindow reads what bounds a point-in-time restore of the chosen source:
// its backup policy and, for SQL Server, its latest restorable moment.
func (p *Planner) loadWindow(ctx context.Context, d *Draft, c *Choices) error {
	if !slices.Contains(jdcloud.PointInTimeEngines, c.Engine) {
		c.PointInTimeRefusal = fmt.Sprintf("%s instances cannot be restored to a point in time here (only %s); restore one of its backups instead.",
			c.Engine, strings.Join(jdcloud.PointInTimeEngines, ", "))
		return nil
	}
	policy, err := p.cloud.DescribeBackupPolicy(ctx, d.Region, d.Source)
	if err != nil {
		return err
	}
	var latest time.Time
	if c.Engine == jdcloud.EngineSQLServer {
		if latest, err = p.cloud.DescribeLatestRestoreTime(ctx, d.Region, d.Source); err != nil {
			return err
		}
	}
	created, _ := jdcloud.ParseTime(c.Source.CreateTime)
	c.Window = jdcloud.RestoreWindowFor(created, &policy, latest, time.Now())
	return nil
}

// apiToForm maps the rule table's API field paths to the form's fields.
var apiToForm = map[string]string{
	jdcloud.FieldBackupID:         "backup",
	jdcloud.FieldEngine:           "source",
	jdcloud.FieldInstanceName:     "name",
	jdcloud.FieldInstanceClass:    "class",
	jdcloud.FieldStorageGB:        "storage",
	jdcloud.FieldAzID:             "az_primary",
	jdcloud.FieldVpcID:            "vpc",
	jdcloud.FieldSubnetID:         "subnet",
	jdcloud.FieldChargeMode:       "charge_mode",
	jdcloud.FieldChargeUnit:       "period_unit",
	jdcloud.FieldChargeDuration:   "period",
	jdcloud.FieldParameterGroup:   "param_group",
	jdcloud.FieldStorageType:      "storage_type",
	jdcloud.FieldStorageEncrypted: "encrypted",
	jdcloud.FieldPort:             "port",
	jdcloud.FieldInstanceType:     "arch",
	jdcloud.FieldRestoreTime:      "restore_at",
	jdcloud.FieldSourceInstance:   "source",
}

// NewRequest is a request form that passed every rule, ready to be filed
// with Lifecycle.Submit.
type NewRequest struct {
	SubmissionKey      string
	TeamID             int64
	Region             string
	SourceInstanceID   string
	SourceInstanceName string
	Kind               request.Kind
	Backup             jdcloud.Backup // the backup restored (FromBackup)
	RestoreTime        time.Time      // the moment restored (ToPointInTime)
	Engine             string
	Spec               jdcloud.RestoredInstanceSpec // the create's parameters, without the tag
	Reason             string
	KeepDays           int // how long the copy is kept, in days from Ready
}

// Validate checks d against c with every rule of the request form and returns the
// request to file, or problems keyed by form field (nil when there are none).
func (p *Planner) Validate(u *policy.User, d Draft, c Choices) (NewRequest, map[string]string) {
	problems := map[string]string{}
	put := func(field, msg string) {
		if _, ok := problems[field]; !ok {
			problems[field] = msg
		}
	}
	switch {
	case d.Team == "":
		put("team", "Choose a team.")
	case c.TeamID == 0 || !policy.CanCreateRequest(u, c.TeamID):
		put("team", "Choose one of your teams.")
	case c.OnlyLead:
		put("team", c.NoApprover)
	}
	if !slices.ContainsFunc(c.Regions, func(r jdcloud.Region) bool { return r.ID == d.Region }) {
		put("region", "Choose a region where the team owns instances.")
	}
	if !slices.ContainsFunc(c.Sources, func(t postgres.TeamInstance) bool { return t.InstanceID == d.Source }) {
		put("source", "Choose one of the team's instances in this region.")
	} else if c.LookupErr != "" {
		put("source", c.LookupErr)
	}
	var restoreAt time.Time
	if c.Kind == request.ToPointInTime {
		var ok bool
		switch restoreAt, ok = ParseFormTime(d.RestoreAt, c.Zone); {
		case strings.TrimSpace(d.RestoreAt) == "":
			put("restore_at", "Choose the date and time to restore to.")
		case !ok:
			put("restore_at", "Enter the date and time as YYYY-MM-DD HH:MM, such as 2026-12-01 14:30.")
		}
		if c.PointInTimeRefusal != "" {
			put("source", c.PointInTimeRefusal)
		}
	} else if d.Backup == "" {
		put("backup", "Choose a backup.")
	} else if c.Source != nil && c.Backup == nil {
		put("backup", "Choose one of this instance's completed full backups.")
	}
	if d.VPC == "" {
		put("vpc", "Choose a VPC.")
	} else if !slices.ContainsFunc(c.VPCs, func(v postgres.TeamVPC) bool { return v.VpcID == d.VPC }) {
		put("vpc", "Choose one of the VPCs the team may use in this region.")
	}
	reason := strings.TrimSpace(d.Reason)
	if reason == "" {
		put("reason", "Say why the data is needed; the lead reads it before deciding.")
	} else if utf8.RuneCountInString(reason) < MinReasonLength {
		put("reason", fmt.Sprintf("Say a little more: at least %d characters, so the lead can judge the need.", MinReasonLength))
	} else if utf8.RuneCountInString(reason) > MaxReasonLength {
		put("reason", fmt.Sprintf("Keep the reason under %d characters.", MaxReasonLength))
	}

	spec := jdcloud.RestoredInstanceSpec{
		InstanceName:  strings.TrimSpace(d.Name),
		InstanceClass: d.Class,
		VpcID:         d.VPC,
		SubnetID:      d.Subnet,
		ChargeSpec:    jdcloud.ChargeSpec{ChargeMode: d.ChargeMode},
	}
	if gb, err := strconv.Atoi(strings.TrimSpace(d.Storage)); err == nil {
		spec.InstanceStorageGB = gb
	} else {
		put("storage", "Enter the storage as a whole number of GB.")
	}
	spec.AzID = []string{d.AZPrimary}
	if c.AZCount == 2 {
		spec.AzID = append(spec.AzID, d.AZStandby)
		if d.AZStandby == "" {
			put("az_standby", "Choose a standby zone (it may be the primary zone).")
		} else if !slices.Contains(c.AZs, d.AZStandby) {
			put("az_standby", "Choose one of the region's zones.")
		}
	}
	if d.AZPrimary == "" {
		put("az_primary", "Choose a primary zone.")
	}
	keep, keepProblem := c.keepDays(d.KeepDays)
	if keepProblem != "" {
		put("keep_days", keepProblem)
	}
	if d.ChargeMode == jdcloud.ChargePrepaidByDuration && c.TeamID != 0 && !c.Policy.PrepaidAllowed {
		put("charge_mode", "This team does not allow prepaid copies: a prepaid instance cannot be deleted before its period ends. Choose pay-as-you-go.")
	}
	if d.ChargeMode == jdcloud.ChargePrepaidByDuration {
		spec.ChargeSpec.ChargeUnit = d.PeriodUnit
		if n, err := strconv.Atoi(strings.TrimSpace(d.Period)); err == nil {
			spec.ChargeSpec.ChargeDuration = n
		} else {
			put("period", "Enter the period as a whole number.")
		}
	} else {
		if strings.TrimSpace(d.Period) != "" && d.Period != "0" {
			put("period", "A period applies only to prepaid billing.")
		}
		if d.PeriodUnit != "" {
			put("period_unit", "A period applies only to prepaid billing.")
		}
	}
	// Engine-specific fields go into the spec as submitted, so the rule
	// table refuses them for engines they do not apply to.
	spec.ParameterGroup = strings.TrimSpace(d.ParamGroup)
	spec.InstanceStorageType = d.StorageType
	if d.Encrypted {
		spec.StorageEncrypted = ptr(true)
	}
	if port := strings.TrimSpace(d.Port); port != "" {
		if _, err := strconv.Atoi(port); err != nil {
			put("port", "Enter the port as a whole number.")
		}
		spec.InstancePort = port
	}
	spec.InstanceType = d.Arch

	req := jdcloud.CreateInstanceFromBackupRequest{BackupID: d.Backup, Engine: c.Engine, InstanceSpec: spec}
	facts := jdcloud.Facts{Backup: c.Backup, SourceEngine: c.Engine, AZs: c.AZs, Subnet: c.Subnet}
	// The form lists only the chosen VPC's subnets: one of another VPC is
	// "not found" among them, which would read as if it did not exist.
	if d.Subnet != "" && c.Subnet == nil && c.Subnets != nil {
		put("subnet", "Choose one of the subnets of VPC "+d.VPC+".")
	}
	var broken jdcloud.Problems
	switch {
	case c.Source == nil:
	case c.Kind == request.ToPointInTime:
		facts.Backup, facts.Source, facts.RestoreAt, facts.Window = nil, c.Source, restoreAt, c.Window
		broken = jdcloud.ValidateCreateByTime(jdcloud.CreateInstanceByTimeRequest{
			RestoreTime: jdcloud.FormatRestoreTime(restoreAt), InstanceSpec: spec}, facts)
	default:
		broken = jdcloud.ValidateCreate(req, facts)
	}
	for _, pr := range broken {
		field, ok := apiToForm[pr.Field]
		if !ok {
			field = "source"
		}
		msg := upperFirst(pr.Message)
		if pr.Field == jdcloud.FieldRestoreTime && !restoreAt.IsZero() {
			// The rule speaks JD Cloud's (Beijing) time; the form speaks the viewer's.
			msg = fmt.Sprintf("Choose a moment from %s to %s (%s): %s is outside it.", FormTime(c.Window.From, c.Zone),
				FormTime(c.Window.To, c.Zone), c.Window.FromReason, FormTime(restoreAt, c.Zone))
		}
		put(field, msg)
	}
	if len(problems) > 0 {
		return NewRequest{}, problems
	}
	n := NewRequest{
		SubmissionKey: d.Key, TeamID: c.TeamID, Region: d.Region, SourceInstanceID: d.Source, Kind: c.Kind,
		SourceInstanceName: c.Source.InstanceName, Engine: c.Engine, Spec: spec, Reason: reason, KeepDays: keep,
	}
	if c.Kind == request.ToPointInTime {
		n.RestoreTime = restoreAt.UTC()
	} else {
		n.Backup = *c.Backup
	}
	return n, nil
}

// keepDays reads "Keep for": whole days from 1 to the team's limit; empty
// means DefaultKeepDays (or the limit, when lower). It returns the problem
// in words, "" when there is none.
func (c Choices) keepDays(v string) (int, string) {
	limit := max(c.Policy.MaxKeepDays, MinKeepDays)
	v = strings.TrimSpace(v)
	if v == "" {
		return min(DefaultKeepDays, limit), ""
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, "Enter the number of days as a whole number, such as 3."
	case n < MinKeepDays:
		return 0, "Keep the copy for at least 1 day."
	case n > limit:
		return 0, fmt.Sprintf("Keep it at most %d days: the team's limit. Ask an admin if you need longer.", limit)
	}
	return n, ""
}

// KeepHint says the team's limit and, for a valid "Keep for", the day the
// copy would be deleted if it were ready at now, in the viewer's zone.
func KeepHint(v string, c Choices, now time.Time) string {
	limit := max(c.Policy.MaxKeepDays, MinKeepDays)
	hint := fmt.Sprintf("Days from Ready, 1–%d (the team's limit); then the copy is deleted.", limit)
	if n, problem := c.keepDays(v); problem == "" {
		hint += fmt.Sprintf(" Ready today, it would be deleted on %s.", now.AddDate(0, 0, n).In(c.Zone).Format("Mon 2 Jan 2006"))
	}
	return hint
}

// FormTime renders t in zone the way the form shows times: "2026-12-01 14:30".
func FormTime(t time.Time, zone *time.Location) string { return t.In(zone).Format("2006-01-02 15:04") }

// DraftFrom returns a draft pre-filled from an earlier request, for
// "Request again": same source, backup and parameters, a new reason.
func DraftFrom(r request.Request) Draft {
	var spec jdcloud.RestoredInstanceSpec
	json.Unmarshal(r.Spec, &spec)
	d := Draft{
		Team: strconv.FormatInt(r.TeamID, 10), Region: r.Region, Source: r.SourceInstanceID, Backup: r.BackupID,
		Kind:  string(r.Kind),
		Class: spec.InstanceClass, Storage: strconv.Itoa(spec.InstanceStorageGB), VPC: spec.VpcID, Subnet: spec.SubnetID,
		ParamGroup: spec.ParameterGroup, StorageType: spec.InstanceStorageType, Port: spec.InstancePort,
		Arch: spec.InstanceType, ChargeMode: spec.ChargeSpec.ChargeMode, PeriodUnit: spec.ChargeSpec.ChargeUnit,
		Name: spec.InstanceName, Reason: r.Reason,
	}
	if spec.StorageEncrypted != nil {
		d.Encrypted = *spec.StorageEncrypted
	}
	if r.KeepDays != nil {
		d.KeepDays = strconv.Itoa(*r.KeepDays)
	}
	if r.RestoreTime != nil {
		d.RestoreAt = r.RestoreTime.In(DefaultZone).Format("2006-01-02T15:04")
	}
	if spec.ChargeSpec.ChargeDuration > 0 {
		d.Period = strconv.Itoa(spec.ChargeSpec.ChargeDuration)
	}
	if len(spec.AzID) > 0 {
		d.AZPrimary = spec.AzID[0]
	}
	if len(spec.AzID) > 1 {
		d.AZStandby = spec.AzID[1]
	}
	return d
}

// upperFirst starts a rule's message with a capital, unless it starts with
// a value such as a class code ("db.pg.s1.medium is not…"), which must be
// shown as typed.
func upperFirst(s string) string {
	word, _, _ := strings.Cut(s, " ")
	if s == "" || strings.ContainsFunc(word, func(r rune) bool { return !unicode.IsLetter(r) }) {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}
