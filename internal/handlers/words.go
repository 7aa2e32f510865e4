package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/request"
	"restoredesk/internal/timezone"
	"restoredesk/internal/views"
)

// The pages speak the form's words, never JD Cloud's identifiers: these turn
// the stored values (the request's spec) back into them.

// chargeWords are the billing modes as the form offers them.
var chargeWords = map[string]string{
	jdcloud.ChargePostpaidByDuration: "Pay as you go, by duration",
	jdcloud.ChargePostpaidByUsage:    "Pay as you go, by usage",
	jdcloud.ChargePrepaidByDuration:  "Prepaid subscription",
}

// storageWords are the storage types in words.
var storageWords = map[string]string{
	jdcloud.StorageLocalSSD:  "Local SSD",
	jdcloud.StorageEBSSSD:    "Cloud disk (SSD)",
	jdcloud.StorageLocalNVMe: "Local NVMe SSD",
}

// archWords are the instance architectures in words.
var archWords = map[string]string{
	jdcloud.InstanceTypeCluster:    "Primary and standby (cluster)",
	jdcloud.InstanceTypeStandalone: "Single node (standalone)",
	jdcloud.InstanceTypeReadonly:   "Read-only",
}

// word returns the words for value in table, or value itself when it has none.
func word(table map[string]string, value string) string {
	if w, ok := table[value]; ok {
		return w
	}
	return value
}

// regionWords renders a region by its name: "North China (Beijing)".
func regionWords(id string) string {
	if r, ok := jdcloud.LookupRegion(id); ok {
		return r.Name
	}
	return id
}

// classWords renders an instance class with its size: "db.mysql.s1.small (1 CPU, 2 GB)".
func classWords(code string) string {
	if c, ok := jdcloud.LookupClass(code); ok {
		return c.Label()
	}
	return code
}

// billingWords renders a charge spec: "Prepaid subscription, 3 months".
func billingWords(c jdcloud.ChargeSpec) string {
	s := word(chargeWords, c.ChargeMode)
	if s == "" {
		s = chargeWords[jdcloud.ChargePostpaidByDuration] // JD Cloud's default
	}
	if c.ChargeDuration > 0 {
		unit := c.ChargeUnit
		if unit == "" {
			unit = jdcloud.ChargeUnitMonth
		}
		if c.ChargeDuration != 1 {
			unit += "s"
		}
		s += fmt.Sprintf(", %d %s", c.ChargeDuration, unit)
	}
	return s
}

// storageSummary renders size and type: "100 GB, Local SSD".
func storageSummary(s jdcloud.RestoredInstanceSpec) string {
	t := s.InstanceStorageType
	if t == "" {
		t = jdcloud.StorageTypes[0] // JD Cloud's default
	}
	out := fmt.Sprintf("%d GB, %s", s.InstanceStorageGB, word(storageWords, t))
	if s.StorageEncrypted != nil && *s.StorageEncrypted {
		out += ", encrypted"
	}
	return out
}

// requestSpec reads a stored request's instance spec ("" fields when unreadable).
func requestSpec(r request.Request) jdcloud.RestoredInstanceSpec {
	var s jdcloud.RestoredInstanceSpec
	_ = json.Unmarshal(r.Spec, &s)
	return s
}

// jdTime renders a JD Cloud time (backup times arrive without a zone, in
// JD Cloud's) in the viewer's zone; anything unparsable is shown as it came.
func jdTime(ctx context.Context, s string) string { return jdTimeIn(timezone.From(ctx), s) }

// jdTimeIn renders a JD Cloud time in zone (UTC when nil).
func jdTimeIn(zone *time.Location, s string) string {
	t, err := jdcloud.ParseTime(s)
	if err != nil {
		return s
	}
	if zone == nil {
		zone = time.UTC
	}
	return timezone.Format(t.Truncate(time.Minute), zone)
}

// jdTimeAndUTC is jdTime with the same moment in UTC after it, for a page
// whose text cannot carry it on hover (the request page's backup line).
func jdTimeAndUTC(ctx context.Context, s string) string {
	zone := timezone.From(ctx)
	local := jdTimeIn(zone, s)
	if zone == nil || zone.String() == "UTC" || local == s {
		return local // already UTC, or not a time
	}
	return local + " (" + jdTimeIn(time.UTC, s) + ")"
}

// vpcLabel names a VPC: "prod-vpc (vpc-123)", or the id alone.
func vpcLabel(name, id string) string {
	if name == "" || strings.EqualFold(name, id) {
		return id
	}
	return name + " (" + id + ")"
}

// instanceStatusWords renders JD Cloud's instance status: "RUNNING" → "Running",
// "BUILD_ERROR" → "Build error".
func instanceStatusWords(s string) string {
	return views.Capitalize(strings.ToLower(strings.ReplaceAll(s, "_", " ")))
}
