package pricing_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/pricing"
)

// TestShippedPrices: the shipped table reproduces JD Cloud's published MySQL
// list prices.
func TestShippedPrices(t *testing.T) {
	t.Parallel()
	p := pricing.Shipped()
	payg := jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePostpaidByDuration}
	for _, tc := range []struct {
		name            string
		class, storage  string
		gb              int
		charge          jdcloud.ChargeSpec
		hourly, monthly float64
		total           float64
		assumed         bool
	}{
		{"1 core / 1 GB, 20 GB LOCAL_SSD", "db.mysql.s1.micro", jdcloud.StorageLocalSSD, 20, payg, 0.25, 108, 0, false},
		{"2 cores / 8 GB, 200 GB LOCAL_SSD", "db.mysql.s1.large", "", 200, payg, 2.04, 896, 0, false},
		{"storage LOCAL_NVME per GB and month", "db.mysql.s1.large", jdcloud.StorageLocalNVMe, 200, payg, 2.15, 976, 0, false},
		{"storage EBS_SSD per GB, month and hour", "db.mysql.s1.large", jdcloud.StorageEBSSSD, 200, payg, 2.26, 1056, 0, false},
		{"3 months prepaid", "db.mysql.s1.micro", "", 20,
			jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePrepaidByDuration, ChargeUnit: jdcloud.ChargeUnitMonth, ChargeDuration: 3},
			0.25, 108, 324, false},
		{"a year prepaid is 10 months", "db.mysql.s1.micro", "", 20,
			jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePrepaidByDuration, ChargeUnit: jdcloud.ChargeUnitYear, ChargeDuration: 1},
			0.25, 108, 1080, true},
		{"an assumed row: 4 cores / 16 GB", "db.mysql.s1.xlarge", "", 400, payg, 4.08, 1792, 0, true},
	} {
		e, ok := p.Estimate("cn-north-1", tc.class, tc.storage, tc.gb, tc.charge)
		if !ok {
			t.Errorf("%s: no estimate", tc.name)
			continue
		}
		if e.Hourly != tc.hourly || e.Monthly != tc.monthly || e.Total != tc.total || e.Assumed != tc.assumed {
			t.Errorf("%s: %+v, want hourly %v monthly %v total %v assumed %v", tc.name, e, tc.hourly, tc.monthly, tc.total, tc.assumed)
		}
	}
	if _, ok := p.Estimate("cn-north-1", "db.pg.s1.small", "", 60, payg); ok {
		t.Error("an estimate for a class the table does not price")
	}
	e, _ := p.Estimate("cn-north-1", "db.mysql.s1.micro", "", 20, payg)
	if got := e.String() + " (" + e.Label() + ")"; got != "¥0.25 per hour, ¥108.00 per month (estimate, list price, as of 2026-11-25)" {
		t.Errorf("rendered %q", got)
	}
}

// TestParseRefuses: an operator's table is checked row by row at start-up.
func TestParseRefuses(t *testing.T) {
	t.Parallel()
	base := `{"version":"1","currency":"CNY","as_of":"2026-11-25","source":"ours","prepaid_year_months":10,
		"prepaid_year_confidence":"assumed","compute":[%s],"storage":[%s]}`
	row := `{"engine":"MySQL","class":"db.mysql.s1.micro","monthly":80,"hourly":0.2,"confidence":"confirmed"}`
	disk := `{"type":"LOCAL_SSD","monthly_per_gb":0.7,"hourly_per_gb":0.001,"confidence":"confirmed"}`
	fill := func(c, s string) string { return strings.Replace(strings.Replace(base, "%s", c, 1), "%s", s, 1) }
	for _, tc := range []struct{ name, doc, want string }{
		{"valid", fill(row, disk), ""},
		{"unknown class", fill(strings.Replace(row, "s1.micro", "s9.huge", 1), disk), "unknown class"},
		{"class of another engine", fill(strings.Replace(row, `"MySQL"`, `"PostgreSQL"`, 1), disk), "is a MySQL class"},
		{"negative price", fill(strings.Replace(row, "80", "-1", 1), disk), "must be positive"},
		{"no confidence", fill(strings.Replace(row, `"confirmed"`, `"guess"`, 1), disk), "confirmed or assumed"},
		{"unknown storage", fill(row, strings.Replace(disk, "LOCAL_SSD", "FLOPPY", 1)), "unknown storage type"},
		{"no date", strings.Replace(fill(row, disk), "2026-11-25", "last week", 1), "as_of"},
		{"unknown key", strings.Replace(fill(row, disk), `"source"`, `"sauce"`, 1), "unknown field"},
	} {
		_, err := pricing.Parse([]byte(tc.doc))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "prices.json")
	if err := os.WriteFile(path, []byte(fill(row, disk)), 0o600); err != nil {
		t.Fatal(err)
	}
	own, err := pricing.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := own.Estimate("cn-north-1", "db.mysql.s1.micro", "", 20, jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePostpaidByDuration}); !ok || e.Monthly != 94 {
		t.Errorf("the operator's table gives %+v (%v), want 94 per month", e, ok)
	}
}
