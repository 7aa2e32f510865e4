package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"restoredesk/internal/postgres"
	"restoredesk/internal/testkit"
)

// TestAdminTeamPolicy: the team's admin page shows the policy with its
// defaults; a change is stored and recorded once, with what changed; a bad
// value is refused at its field with the input kept and nothing stored.
func TestAdminTeamPolicy(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "admin", Admin: true})
	s.CreateUser(t, testkit.User{Username: "lead", Teams: map[string]bool{"payments": true}})
	db := postgres.New(s.Pool)
	team, err := db.TeamByName(t.Context(), "payments")
	if err != nil {
		t.Fatal(err)
	}
	admin := s.SignInAs(t, "admin")
	page := fmt.Sprintf("/admin/teams/%d", team.ID)

	d := getPage(t, admin, page, http.StatusOK)
	if v := d.Find(`#max_keep_days`).AttrOr("value", ""); v != "14" {
		t.Errorf("longest lifetime shown %q, want the default 14", v)
	}
	if d.Find(`input[name="prepaid_allowed"][checked]`).Length() != 0 || d.Find(`input[name="remind_only"][checked]`).Length() != 0 {
		t.Error("prepaid or remind-only checked by default")
	}
	if v := d.Find(`#second_lead_above`).AttrOr("value", "x"); v != "" {
		t.Errorf("threshold shown %q, want none", v)
	}

	for _, tc := range []struct {
		form        url.Values
		field, want string
	}{
		{url.Values{"max_keep_days": {"0"}}, "max_keep_days", "from 1 to 365"},
		{url.Values{"max_keep_days": {"two weeks"}}, "max_keep_days", "whole number"},
		{url.Values{"max_keep_days": {"7"}, "second_lead_above": {"-5"}}, "second_lead_above", "CNY per month"},
	} {
		resp, body := admin.PostForm(t, page+"/policy", tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%v: status %d, want 422", tc.form, resp.StatusCode)
		}
		d := testkit.Doc(t, body)
		if msg := d.Find(`[data-testid="error-` + tc.field + `"]`).Text(); !strings.Contains(msg, tc.want) {
			t.Errorf("%v: %s says %q, want %q", tc.form, tc.field, msg, tc.want)
		}
		if v := d.Find(`#max_keep_days`).AttrOr("value", ""); v != tc.form.Get("max_keep_days") {
			t.Errorf("%v: typed value not kept: %q", tc.form, v)
		}
	}
	if p, _ := db.TeamPolicy(t.Context(), team.ID); p.MaxKeepDays != 14 {
		t.Errorf("a refused form stored %d days", p.MaxKeepDays)
	}

	form := url.Values{"max_keep_days": {"7"}, "prepaid_allowed": {"on"}, "second_lead_above": {"500"}}
	for range 2 { // the second time changes nothing and records nothing
		if resp, body := admin.PostForm(t, page+"/policy", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", resp.StatusCode, body)
		}
	}
	p, err := db.TeamPolicy(t.Context(), team.ID)
	if err != nil || p.MaxKeepDays != 7 || !p.PrepaidAllowed || p.RemindOnly || p.SecondLeadAbove == nil || *p.SecondLeadAbove != 500 {
		t.Fatalf("stored %+v, %v", p, err)
	}
	var n int
	var details string
	if err := s.Pool.QueryRow(t.Context(), `SELECT count(*) OVER (), details::text FROM audit_events
		WHERE action = 'admin.team_policy_changed' AND actor_name = 'admin'`).Scan(&n, &details); err != nil || n != 1 {
		t.Fatalf("%d policy events (%v), want 1", n, err)
	}
	for _, want := range []string{`"max_keep_days": {"to": 7, "from": 14}`, `"prepaid_allowed": {"to": true, "from": false}`, `"second_lead_above": {"to": 500, "from": null}`} {
		if !strings.Contains(details, want) {
			t.Errorf("details %s lack %s", details, want)
		}
	}
	if strings.Contains(details, "remind_only") {
		t.Errorf("details %s name an unchanged field", details)
	}
	d = getPage(t, admin, page, http.StatusOK)
	if d.Find(`#max_keep_days`).AttrOr("value", "") != "7" || d.Find(`#second_lead_above`).AttrOr("value", "") != "500" {
		t.Error("the page does not show the stored policy")
	}
	// A lead may not change it.
	if resp, _ := s.SignInAs(t, "lead").PostForm(t, page+"/policy", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a lead's change: %d, want 403", resp.StatusCode)
	}
}
