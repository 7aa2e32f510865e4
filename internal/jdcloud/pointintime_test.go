package jdcloud_test

import (
	"strings"
	"testing"
	"time"

	"restoredesk/internal/jdcloud"
)

var pitNow = time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)

// validByTime is a point-in-time request that passes every rule, with its facts.
func validByTime() (jdcloud.CreateInstanceByTimeRequest, jdcloud.Facts) {
	backupReq, f := validCase()
	at := pitNow.Add(-20 * time.Hour)
	f.Backup = nil
	f.Source = &jdcloud.Instance{InstanceID: "mysql-src", Engine: jdcloud.EngineMySQL, InstanceStatus: jdcloud.StatusRunning,
		InstanceClass: "db.mysql.s1.small", InstanceStorageGB: 60}
	f.RestoreAt = at
	f.Window = jdcloud.RestoreWindowFor(pitNow.AddDate(0, -3, 0), &jdcloud.BackupPolicy{RetentionPeriod: 7, BinlogRetentionPeriod: 7}, time.Time{}, pitNow)
	return jdcloud.CreateInstanceByTimeRequest{RestoreTime: jdcloud.FormatRestoreTime(at), InstanceSpec: backupReq.InstanceSpec}, f
}

func TestValidateCreateByTime(t *testing.T) {
	t.Parallel()
	type mod func(*jdcloud.CreateInstanceByTimeRequest, *jdcloud.Facts)
	for _, tc := range []struct {
		name  string
		mod   mod
		field string
		text  string
	}{
		{name: "valid"},
		{name: "valid: a larger class and more storage", mod: func(r *jdcloud.CreateInstanceByTimeRequest, _ *jdcloud.Facts) {
			r.InstanceSpec.InstanceClass, r.InstanceSpec.InstanceStorageGB = "db.mysql.s1.large", 500
		}},
		{name: "no backup needed", mod: func(r *jdcloud.CreateInstanceByTimeRequest, f *jdcloud.Facts) { f.Backup = nil }},
		{name: "source unknown", mod: func(_ *jdcloud.CreateInstanceByTimeRequest, f *jdcloud.Facts) { f.Source = nil },
			field: jdcloud.FieldSourceInstance, text: "does not exist"},
		{name: "source not running", mod: func(_ *jdcloud.CreateInstanceByTimeRequest, f *jdcloud.Facts) { f.Source.InstanceStatus = "DELETING" },
			field: jdcloud.FieldSourceInstance, text: "DELETING"},
		{name: "PostgreSQL", mod: func(r *jdcloud.CreateInstanceByTimeRequest, f *jdcloud.Facts) {
			f.Source.Engine, f.Source.InstanceClass = jdcloud.EnginePostgreSQL, "db.pg.s1.small"
			r.InstanceSpec.InstanceClass = "db.pg.s1.small"
		}, field: jdcloud.FieldEngine, text: "cannot be restored to a point in time"},
		{name: "time missing", mod: func(r *jdcloud.CreateInstanceByTimeRequest, f *jdcloud.Facts) {
			r.RestoreTime, f.RestoreAt = "", time.Time{}
		},
			field: jdcloud.FieldRestoreTime, text: "required"},
		{name: "in the future", mod: func(r *jdcloud.CreateInstanceByTimeRequest, f *jdcloud.Facts) { f.RestoreAt = pitNow.Add(time.Minute) },
			field: jdcloud.FieldRestoreTime, text: "later than the latest restorable moment"},
		{name: "older than 7 days", mod: func(r *jdcloud.CreateInstanceByTimeRequest, f *jdcloud.Facts) { f.RestoreAt = pitNow.AddDate(0, 0, -8) },
			field: jdcloud.FieldRestoreTime, text: "the last 7 days"},
		{name: "before the source existed", mod: func(r *jdcloud.CreateInstanceByTimeRequest, f *jdcloud.Facts) {
			f.Window = jdcloud.RestoreWindowFor(pitNow.Add(-2*time.Hour), nil, time.Time{}, pitNow)
			f.RestoreAt = pitNow.Add(-100 * time.Minute)
		}, field: jdcloud.FieldRestoreTime, text: "30 minutes after the source instance was created"},
		{name: "smaller class", mod: func(r *jdcloud.CreateInstanceByTimeRequest, f *jdcloud.Facts) {
			f.Source.InstanceClass = "db.mysql.s1.large"
		},
			field: jdcloud.FieldInstanceClass, text: "smaller than the source's"},
		{name: "less storage", mod: func(r *jdcloud.CreateInstanceByTimeRequest, f *jdcloud.Facts) { f.Source.InstanceStorageGB = 100 },
			field: jdcloud.FieldStorageGB, text: "smaller than the source's 100 GB"},
		{name: "spec rules still apply", mod: func(r *jdcloud.CreateInstanceByTimeRequest, _ *jdcloud.Facts) { r.InstanceSpec.VpcID = "" },
			field: jdcloud.FieldVpcID, text: "required"},
	} {
		req, f := validByTime()
		if tc.mod != nil {
			tc.mod(&req, &f)
		}
		ps := jdcloud.ValidateCreateByTime(req, f)
		if tc.field == "" {
			if len(ps) != 0 {
				t.Errorf("%s: problems %v", tc.name, ps)
			}
			continue
		}
		if msg := ps.ByField()[tc.field]; !strings.Contains(msg, tc.text) {
			t.Errorf("%s: %s = %q, want %q (all: %v)", tc.name, tc.field, msg, tc.text, ps)
		}
	}
}

func TestRestoreWindowFor(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		created  time.Time
		policy   *jdcloud.BackupPolicy
		latest   time.Time
		from, to time.Time
	}{
		{"the last 7 days", pitNow.AddDate(-1, 0, 0), &jdcloud.BackupPolicy{RetentionPeriod: 30, BinlogRetentionPeriod: 7}, time.Time{},
			pitNow.Add(-7 * day), pitNow},
		{"binlogs kept 3 days", pitNow.AddDate(-1, 0, 0), &jdcloud.BackupPolicy{RetentionPeriod: 30, BinlogRetentionPeriod: 3}, time.Time{},
			pitNow.Add(-3 * day), pitNow},
		{"a young source", pitNow.Add(-2 * time.Hour), nil, time.Time{}, pitNow.Add(-90 * time.Minute), pitNow},
		{"SQL Server's latest restore time", pitNow.AddDate(-1, 0, 0), nil, pitNow.Add(-5 * time.Minute),
			pitNow.Add(-7 * day), pitNow.Add(-5 * time.Minute)},
	} {
		w := jdcloud.RestoreWindowFor(tc.created, tc.policy, tc.latest, pitNow)
		if !w.From.Equal(tc.from) || !w.To.Equal(tc.to) {
			t.Errorf("%s: %s – %s, want %s – %s", tc.name, w.From, w.To, tc.from, tc.to)
		}
	}
}

func TestFormatRestoreTime(t *testing.T) {
	t.Parallel()
	// 14:30 Beijing time is 06:30 UTC; JD Cloud takes it without a zone.
	at := time.Date(2026, 12, 1, 6, 30, 0, 0, time.UTC)
	if got := jdcloud.FormatRestoreTime(at); got != "2026-12-01 14:30:00" {
		t.Errorf("FormatRestoreTime = %q", got)
	}
}
