// Package pricing estimates what a restored copy costs at list price. JD Cloud
// has no price call for RDS that Restore Desk can drive (the billing
// service's calculateTotalPrice needs order keys that are not published), so
// the estimate comes from a price table: a versioned data file shipped with
// the program (prices.json), or an operator's own (PRICE_TABLE), with its
// source and date, each row marked confirmed (read from JD Cloud's price
// page) or assumed. Where no row fits there is no estimate, and the page says
// so.
package pricing

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"restoredesk/internal/jdcloud"
)

//go:embed prices.json
var shipped []byte

// Table is a price table.
type Table struct {
	Version  string `json:"version"`
	Currency string `json:"currency"`
	AsOf     string `json:"as_of"` // the date the prices were read, YYYY-MM-DD
	Source   string `json:"source"`
	// PrepaidYearMonths is what a year prepaid costs, in months of the
	// monthly price (JD Cloud's "a year for 10 months").
	PrepaidYearMonths     float64   `json:"prepaid_year_months"`
	PrepaidYearConfidence string    `json:"prepaid_year_confidence"`
	Compute               []Compute `json:"compute"`
	Storage               []Storage `json:"storage"`
}

// Compute is the price of a class without its storage.
type Compute struct {
	Engine     string  `json:"engine"`
	Class      string  `json:"class"`
	Region     string  `json:"region,omitempty"` // empty: every region
	Monthly    float64 `json:"monthly"`
	Hourly     float64 `json:"hourly"`
	Confidence string  `json:"confidence"`
	Note       string  `json:"note,omitempty"`
}

// Storage is the price of a GB of a storage type.
type Storage struct {
	Type         string  `json:"type"`
	Region       string  `json:"region,omitempty"`
	MonthlyPerGB float64 `json:"monthly_per_gb"`
	HourlyPerGB  float64 `json:"hourly_per_gb"`
	Confidence   string  `json:"confidence"`
	Note         string  `json:"note,omitempty"`
}

// Shipped returns the table that comes with the program.
func Shipped() *Table {
	t, err := Parse(shipped)
	if err != nil {
		panic("pricing: the shipped table is invalid: " + err.Error())
	}
	return t
}

// Load reads the table at path, or the shipped one when path is empty.
func Load(path string) (*Table, error) {
	if path == "" {
		return Shipped(), nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(raw)
}

// Parse reads and checks a table: known engines, classes and storage types,
// positive prices, a date, each row confirmed or assumed. The first problem
// found is the error, naming the row.
func Parse(raw []byte) (*Table, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var t Table
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("not a price table: %w", err)
	}
	if t.Currency == "" || t.Version == "" {
		return nil, errors.New("version and currency are required")
	}
	if _, err := time.Parse(time.DateOnly, t.AsOf); err != nil {
		return nil, fmt.Errorf("as_of %q: want a date such as 2026-11-25", t.AsOf)
	}
	if t.PrepaidYearMonths <= 0 || t.PrepaidYearMonths > 12 {
		return nil, fmt.Errorf("prepaid_year_months %v: want more than 0 and at most 12", t.PrepaidYearMonths)
	}
	conf := func(c string) bool { return c == string(jdcloud.Confirmed) || c == string(jdcloud.Assumed) }
	for i, c := range t.Compute {
		class, ok := jdcloud.LookupClass(c.Class)
		switch {
		case !ok:
			return nil, fmt.Errorf("compute row %d: unknown class %q", i+1, c.Class)
		case class.Engine != c.Engine:
			return nil, fmt.Errorf("compute row %d: %s is a %s class, not %s", i+1, c.Class, class.Engine, c.Engine)
		case c.Monthly <= 0 || c.Hourly <= 0:
			return nil, fmt.Errorf("compute row %d (%s): prices must be positive", i+1, c.Class)
		case !conf(c.Confidence):
			return nil, fmt.Errorf("compute row %d (%s): confidence must be confirmed or assumed", i+1, c.Class)
		}
	}
	for i, s := range t.Storage {
		switch {
		case !contains(jdcloud.StorageTypes, s.Type):
			return nil, fmt.Errorf("storage row %d: unknown storage type %q", i+1, s.Type)
		case s.MonthlyPerGB <= 0 || s.HourlyPerGB <= 0:
			return nil, fmt.Errorf("storage row %d (%s): prices must be positive", i+1, s.Type)
		case !conf(s.Confidence):
			return nil, fmt.Errorf("storage row %d (%s): confidence must be confirmed or assumed", i+1, s.Type)
		}
	}
	return &t, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Estimate is what a new instance costs at list price.
type Estimate struct {
	Hourly, Monthly float64 // pay as you go
	Total           float64 // prepaid: the whole period
	Prepaid         bool
	Period          string // prepaid: "3 months", "1 year"
	Assumed         bool   // a row used is assumed, not read from the price page
	Currency        string
	AsOf            string
}

// Estimate prices an instance of class with gb of storageType in region
// (an empty storage type is LOCAL_SSD, JD Cloud's default) billed as charge.
// ok is false when no row of the table fits: there is no estimate.
func (t *Table) Estimate(region, class, storageType string, gb int, charge jdcloud.ChargeSpec) (Estimate, bool) {
	if storageType == "" {
		storageType = jdcloud.StorageLocalSSD
	}
	c, ok := find(t.Compute, func(r Compute) bool { return r.Class == class }, func(r Compute) string { return r.Region }, region)
	if !ok {
		return Estimate{}, false
	}
	s, ok := find(t.Storage, func(r Storage) bool { return r.Type == storageType }, func(r Storage) string { return r.Region }, region)
	if !ok {
		return Estimate{}, false
	}
	e := Estimate{
		Hourly:   round(c.Hourly + float64(gb)*s.HourlyPerGB),
		Monthly:  round(c.Monthly + float64(gb)*s.MonthlyPerGB),
		Assumed:  c.Confidence == string(jdcloud.Assumed) || s.Confidence == string(jdcloud.Assumed),
		Currency: t.Currency, AsOf: t.AsOf,
	}
	if charge.ChargeMode == jdcloud.ChargePrepaidByDuration {
		e.Prepaid = true
		n := float64(charge.ChargeDuration)
		switch charge.ChargeUnit {
		case jdcloud.ChargeUnitYear:
			e.Total = round(e.Monthly * t.PrepaidYearMonths * n)
			e.Period = plural(charge.ChargeDuration, "year")
			e.Assumed = e.Assumed || t.PrepaidYearConfidence == string(jdcloud.Assumed)
		default:
			e.Total = round(e.Monthly * n)
			e.Period = plural(charge.ChargeDuration, "month")
		}
	}
	return e, true
}

// find returns the row that matches, preferring one for region over one for
// every region.
func find[R any](rows []R, match func(R) bool, regionOf func(R) string, region string) (R, bool) {
	var any R
	found := false
	for _, r := range rows {
		if !match(r) {
			continue
		}
		if regionOf(r) == region {
			return r, true
		}
		if regionOf(r) == "" && !found {
			any, found = r, true
		}
	}
	return any, found
}

func round(v float64) float64 { return math.Round(v*100) / 100 }

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Label is the words every estimate carries.
func (e Estimate) Label() string {
	l := "estimate, list price, as of " + e.AsOf
	if e.Assumed {
		l += "; partly assumed"
	}
	return l
}

// String renders the estimate for people: "¥0.25 per hour, ¥108.00 per month"
// or "¥324.00 for 3 months".
func (e Estimate) String() string {
	sym := e.Currency + " "
	if e.Currency == "CNY" {
		sym = "¥"
	}
	if e.Prepaid {
		return fmt.Sprintf("%s%.2f for %s", sym, e.Total, e.Period)
	}
	return fmt.Sprintf("%s%.2f per hour, %s%.2f per month", sym, e.Hourly, sym, e.Monthly)
}
