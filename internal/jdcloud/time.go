package jdcloud

import (
	"fmt"
	"time"
)

// TimeZone is the zone of JD Cloud times sent without one (createTime "2019-12-31T14:18:52",
// backupStartTime "2020-01-07T15:14:07"). Assumed to be Beijing time, as the console shows;
// the docs do not say (unconfirmed). Charge times carry their own zone.
var TimeZone = time.FixedZone("UTC+8", 8*60*60)

// LocalTimeLayout is the layout of JD Cloud's zone-less times.
const LocalTimeLayout = "2006-01-02T15:04:05"

// timeLayouts are the forms JD Cloud times arrive in: ISO 8601 with a zone, the zone-less
// form of the doc examples, and the "YYYY-MM-DD HH:mm:ss" the field docs describe.
var timeLayouts = []string{time.RFC3339Nano, LocalTimeLayout, "2006-01-02 15:04:05"}

// ParseTime parses a time as JD Cloud sends it; zone-less times are in TimeZone.
func ParseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, TimeZone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("jdcloud: unrecognised time %q", s)
}

// FormatLocalTime formats t the zone-less way JD Cloud sends createTime and backup times.
func FormatLocalTime(t time.Time) string { return t.In(TimeZone).Format(LocalTimeLayout) }

// RestoreTimeLayout is the layout of createInstanceByTime's restoreTime, in TimeZone: every
// example in JD Cloud's SDKs and docs is "2019-05-06 02:00:37" without a zone, and
// describeLatestRestoreTime answers in the same form. The layout and the zone are assumed
// (unconfirmed); they are kept here, in one place.
const RestoreTimeLayout = "2006-01-02 15:04:05"

// FormatRestoreTime formats t as createInstanceByTime's restoreTime.
func FormatRestoreTime(t time.Time) string { return t.In(TimeZone).Format(RestoreTimeLayout) }
