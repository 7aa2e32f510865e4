package views

// Option is one choice of a select box.
type Option struct {
	Value, Label string
}

// RequestForm is the new-request form: the values as typed, the choices the
// server offers, which engine-specific fields apply, and the problems found.
type RequestForm struct {
	Values         RequestValues
	Errors         map[string]string
	Teams          []Option
	Regions        []Option
	Sources        []Option
	Engine         string // shown, not typed
	EngineNote     string // e.g. "MySQL 8.0, from the source instance"
	Backups        []Option
	Classes        []Option
	StorageHint    string
	AZs            []Option
	StandbyZone    bool // primary/standby architecture: ask for a standby zone
	VPCs           []Option
	Subnets        []Option
	ChargeModes    []Option
	PeriodUnits    []Option
	StorageTypes   []Option
	Archs          []Option
	ShowParamGroup bool
	ShowStorage    bool // storage type and encryption (MySQL)
	ShowPort       bool
	ShowArch       bool
	NoApprover     string // why nobody could decide this team's requests, "" when someone could
	LookupErr      string
	FromRequest    int64 // "Request again" source, 0 for a new form
	// A point in time instead of a backup: the choice, the zone the time is
	// typed in, the window it may be chosen from, and the moment typed in UTC
	// and Beijing time.
	Kinds                  []Option
	PointInTime            bool
	ZoneName               string
	RestoreHint            string
	RestoreMin, RestoreMax string // datetime-local bounds
	RestoreEcho            string
	// Estimate is what the instance costs at list price, and the words it
	// carries ("estimate, list price, as of …"), or "No estimate" and why.
	Estimate, EstimateLabel string
	// KeepMax is the team's longest lifetime; KeepHint says it and the
	// date the copy would be deleted if it were ready now.
	KeepMax  int
	KeepHint string
}

// RequestValues are the form's fields as typed.
type RequestValues struct {
	Key, Team, Region, Source, Backup, Class, Storage, AZPrimary, AZStandby, VPC, Subnet string
	ParamGroup, StorageType, Port, Arch, ChargeMode, Period, PeriodUnit, Name, Reason    string
	Kind, RestoreAt, KeepDays                                                            string
	Encrypted                                                                            bool
}

func (f RequestForm) err(field string) string { return f.Errors[field] }

// optionLabel is the label of the chosen value among options, or "".
func optionLabel(options []Option, value string) string {
	for _, o := range options {
		if o.Value == value && value != "" {
			return o.Label
		}
	}
	return ""
}

// Summary is what the request, as filled so far, will create: the panel
// beside the form. A choice not made yet reads "not chosen yet".
func (f RequestForm) Summary() []Param {
	v := f.Values
	or := func(s string) string {
		if s == "" {
			return "not chosen yet"
		}
		return s
	}
	from := optionLabel(f.Backups, v.Backup)
	if f.PointInTime {
		from = v.RestoreAt
		if f.RestoreEcho != "" {
			from = f.RestoreEcho
		}
	}
	storage := ""
	if v.Storage != "" {
		storage = v.Storage + " GB"
		if t := optionLabel(f.StorageTypes, v.StorageType); t != "" {
			storage += ", " + t
		}
	}
	zones := optionLabel(f.AZs, v.AZPrimary)
	if s := optionLabel(f.AZs, v.AZStandby); f.StandbyZone && s != "" {
		zones += ", standby " + s
	}
	billing := optionLabel(f.ChargeModes, v.ChargeMode)
	if v.ChargeMode == "prepaid_by_duration" && v.Period != "" {
		billing += ", " + v.Period + " " + optionLabel(f.PeriodUnits, v.PeriodUnit)
	}
	name := v.Name
	if name == "" {
		name = "restore-<request number>"
	}
	out := []Param{
		{"Team", or(optionLabel(f.Teams, v.Team))},
		{"Source", or(optionLabel(f.Sources, v.Source))},
		{"Restore from", or(from)},
	}
	if f.Engine != "" {
		out = append(out, Param{"Engine", f.Engine})
	}
	out = append(out,
		Param{"Class", or(optionLabel(f.Classes, v.Class))},
		Param{"Storage", or(storage)},
		Param{"Zone", or(zones)},
		Param{"VPC", or(optionLabel(f.VPCs, v.VPC))},
		Param{"Subnet", or(optionLabel(f.Subnets, v.Subnet))},
		Param{"Name", name},
		Param{"Billing", or(billing)},
	)
	if f.Estimate != "" {
		out = append(out, Param{"Cost", f.Estimate + " (" + f.EstimateLabel + ")"})
	}
	return out
}

// storageHint is the storage field's hint with the unit spelt out, the one
// unit of every size on the form (the backups' too).
func storageHint(f RequestForm) string {
	unit := "GB here are 1024³ bytes, as JD Cloud counts storage."
	if f.StorageHint == "" {
		return unit
	}
	return f.StorageHint + " " + unit
}
