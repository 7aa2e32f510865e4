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
