package restore_test

import (
	"strings"
	"testing"
	"time"

	"restoredesk/internal/jdcloud"
)

// TestKeepForAndPrepaidAtTheForm: "Keep for" is 1 to the team's limit
// (default 3, refused at its field beyond), prepaid is refused at the
// billing field unless the team allows it, and the days are stored with the
// request and in request.created.
func TestKeepForAndPrepaidAtTheForm(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	ctx := t.Context()
	alice := f.user(t, "alice")
	d := f.draft(t, "alice", "payments", "mysql-payorders1")
	if d.KeepDays != "3" {
		t.Errorf("suggested Keep for %q, want 3", d.KeepDays)
	}
	for _, tc := range []struct {
		keep, charge, field, want string
	}{
		{"15", "", "keep_days", "at most 14 days"},
		{"0", "", "keep_days", "at least 1 day"},
		{"a week", "", "keep_days", "whole number"},
		{"3", jdcloud.ChargePrepaidByDuration, "charge_mode", "does not allow prepaid"},
	} {
		dd := d
		dd.KeepDays = tc.keep
		if tc.charge != "" {
			dd.ChargeMode, dd.Period, dd.PeriodUnit = tc.charge, "1", jdcloud.ChargeUnitMonth
		}
		ch, err := f.planner.Choices(ctx, alice, dd)
		if err != nil {
			t.Fatal(err)
		}
		_, problems := f.planner.Validate(alice, dd, ch)
		if !strings.Contains(problems[tc.field], tc.want) {
			t.Errorf("keep %q charge %q: %s says %q, want %q (all: %v)", tc.keep, tc.charge, tc.field, problems[tc.field], tc.want, problems)
		}
	}
	// A longer limit and prepaid allowed: both pass.
	if _, err := f.pool.Exec(ctx, `UPDATE teams SET max_keep_days = 30, prepaid_allowed = true WHERE id = $1`, f.teams["payments"]); err != nil {
		t.Fatal(err)
	}
	dd := d
	dd.KeepDays = "20"
	ch, err := f.planner.Choices(ctx, alice, dd)
	if err != nil {
		t.Fatal(err)
	}
	n, problems := f.planner.Validate(alice, dd, ch)
	if problems != nil {
		t.Fatalf("refused: %v", problems)
	}
	dd.ChargeMode, dd.Period, dd.PeriodUnit = jdcloud.ChargePrepaidByDuration, "1", jdcloud.ChargeUnitMonth
	if _, problems := f.planner.Validate(alice, dd, ch); problems["charge_mode"] != "" {
		t.Errorf("prepaid refused where allowed: %v", problems)
	}
	id, _, err := f.life.Submit(ctx, f.actor("alice"), n)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.request(t, id); r.KeepDays == nil || *r.KeepDays != 20 {
		t.Errorf("stored keep_days %v, want 20", r.KeepDays)
	}
	var keep int
	if err := f.pool.QueryRow(ctx, `SELECT (details->>'keep_days')::int FROM audit_events WHERE action = 'request.created' AND target_id = $1`,
		formatInt(id)).Scan(&keep); err != nil || keep != 20 {
		t.Errorf("request.created keep_days %d (%v), want 20", keep, err)
	}
}
