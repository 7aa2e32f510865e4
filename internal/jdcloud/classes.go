package jdcloud

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// RDS has no instance-class API (docs/jdcloud.md, "describeAzs, instance classes"), so the
// classes the portal offers, with their storage sizes, are this static table from the
// documentation's spec tables.
// Entries the docs do not give are marked Assumed with a note; they are educated guesses
// shaped like the documented MySQL s1 family. The docs' tables are old, and the sellable set
// may differ (unconfirmed).

// StorageSizes is the set of storage sizes (GB) a class allows: an explicit list when Options
// is set, otherwise Min–Max in steps of Step.
type StorageSizes struct {
	Min, Max, Step int
	Options        []int
}

// Allows reports whether gb is one of the sizes.
func (s StorageSizes) Allows(gb int) bool {
	if len(s.Options) > 0 {
		return slices.Contains(s.Options, gb)
	}
	step := max(s.Step, 1)
	return gb >= s.Min && gb <= s.Max && (gb-s.Min)%step == 0
}

// Smallest returns the smallest allowed size of at least gb, and false when there is none.
func (s StorageSizes) Smallest(gb int) (int, bool) {
	if len(s.Options) > 0 {
		for _, o := range s.Options { // sorted ascending in the table
			if o >= gb {
				return o, true
			}
		}
		return 0, false
	}
	if gb <= s.Min {
		return s.Min, true
	}
	step := max(s.Step, 1)
	v := s.Min + (gb-s.Min+step-1)/step*step
	if v > s.Max {
		return 0, false
	}
	return v, true
}

// String renders the sizes for people: "20, 40, 60, 80 or 100" or "60–150 in steps of 10".
func (s StorageSizes) String() string {
	if len(s.Options) > 0 {
		parts := make([]string, len(s.Options))
		for i, o := range s.Options {
			parts[i] = strconv.Itoa(o)
		}
		if len(parts) == 1 {
			return parts[0]
		}
		return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
	}
	return fmt.Sprintf("%d–%d in steps of %d", s.Min, s.Max, max(s.Step, 1))
}

// InstanceClass is an RDS instance class: its code, engine, size and allowed storage.
type InstanceClass struct {
	Code     string // instanceClass, e.g. "db.mysql.s1.micro"
	Engine   string
	CPU      int
	MemoryGB int
	Storage  StorageSizes
	// Confidence is Confirmed for classes (and sizes) in the documented tables, Assumed for
	// guesses; Note says what was guessed.
	Confidence Confidence
	Note       string
}

// Label renders the class for a select box: "db.mysql.s1.small (1 CPU, 2 GB)".
func (c InstanceClass) Label() string {
	cpu := "CPUs"
	if c.CPU == 1 {
		cpu = "CPU"
	}
	return fmt.Sprintf("%s (%d %s, %d GB)", c.Code, c.CPU, cpu, c.MemoryGB)
}

// storageStep is the step of storage ranges. The docs give ranges ("60–150") but no step;
// 10 GB is assumed.
const storageStep = 10

// rng is a storage range in storageStep steps.
func rng(lo, hi int) StorageSizes { return StorageSizes{Min: lo, Max: hi, Step: storageStep} }

// opts is an explicit list of storage sizes.
func opts(sizes ...int) StorageSizes { return StorageSizes{Options: sizes} }

// s1Family is the documented MySQL s1 shape (docs/jdcloud.md): size suffix, CPU, memory, storage.
var s1Family = []struct {
	size     string
	cpu, mem int
	storage  StorageSizes
}{
	{"micro", 1, 1, opts(20, 40, 60, 80, 100)},
	{"small", 1, 2, rng(60, 150)},
	{"medium", 1, 4, rng(100, 300)},
	{"large", 2, 8, rng(200, 500)},
	{"xlarge", 4, 16, rng(400, 1000)},
	{"2xlarge", 8, 32, rng(600, 1600)},
	{"4xlarge", 16, 64, rng(1000, 2000)},
}

// s1Classes builds an engine's s1 family from the MySQL s1 shape. sizes limits it to the named
// sizes (all when empty).
func s1Classes(engine, prefix string, conf Confidence, note string, sizes ...string) []InstanceClass {
	var out []InstanceClass
	for _, f := range s1Family {
		if len(sizes) > 0 && !slices.Contains(sizes, f.size) {
			continue
		}
		out = append(out, InstanceClass{
			Code: prefix + f.size, Engine: engine, CPU: f.cpu, MemoryGB: f.mem,
			Storage: f.storage, Confidence: conf, Note: note,
		})
	}
	return out
}

// classes is the table, in the order the portal offers them (per engine, smallest first).
var classes = slices.Concat(
	s1Classes(EngineMySQL, "db.mysql.s1.", Confirmed, ""),
	[]InstanceClass{
		{Code: "db.mysql.m1.xlarge", Engine: EngineMySQL, CPU: 2, MemoryGB: 16, Storage: opts(200), Confidence: Confirmed},
		{Code: "db.mysql.m1.2xlarge", Engine: EngineMySQL, CPU: 4, MemoryGB: 32, Storage: opts(400), Confidence: Confirmed},
		{Code: "db.mysql.m1.4xlarge", Engine: EngineMySQL, CPU: 8, MemoryGB: 64, Storage: rng(600, 800), Confidence: Confirmed},
		{Code: "db.mysql.m1.8xlarge", Engine: EngineMySQL, CPU: 16, MemoryGB: 128, Storage: rng(1000, 2000), Confidence: Confirmed},
	},
	s1Classes(EnginePercona, "db.percona.s1.", Assumed,
		"Percona's spec page was not read: codes and sizes assumed to follow MySQL s1"),
	s1Classes(EngineMariaDB, "db.mariadb.s1.", Assumed,
		"MariaDB's spec page was not read: codes and sizes assumed to follow MySQL s1"),
	s1Classes(EngineSQLServer, "db.sqlsvr.s1.", Assumed,
		"codes, CPU and memory documented; storage sizes assumed to follow MySQL s1",
		"large", "xlarge", "2xlarge", "4xlarge"),
	s1Classes(EnginePostgreSQL, "db.pg.s1.", Confirmed, "documented as the same shape as MySQL s1"),
)

// Classes returns the classes of an engine, smallest first; nil for an unknown engine.
func Classes(engine string) []InstanceClass {
	var out []InstanceClass
	for _, c := range classes {
		if c.Engine == engine {
			out = append(out, c)
		}
	}
	return out
}

// LookupClass returns the class with the given code.
func LookupClass(code string) (InstanceClass, bool) {
	for _, c := range classes {
		if c.Code == code {
			return c, true
		}
	}
	return InstanceClass{}, false
}
