package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"restoredesk/internal/postgres"
	"restoredesk/internal/testkit"
)

// The matrix's ownership fixtures: an instance and a VPC of the simulator's
// seed that the matrix's team does not otherwise use.
const (
	spareInstance = "mysql-crmmaindb1" // crm-main, cn-north-1
	spareVPC      = "vpc-sharedsvc1"   // shared-services, cn-north-1
)

// ownershipPath returns the path of an ownership route of the matrix's team
// with suffix and its form. kind "instance" or "vpc" picks the spare item,
// first made owned by the team or by nobody as the action needs.
func ownershipPath(suffix, kind string, owned bool) setupFunc {
	return func(t *testing.T, f *fixture, _ role) (string, url.Values) {
		t.Helper()
		ctx := t.Context()
		path := fmt.Sprintf("/admin/teams/%d/ownership%s", f.team, suffix)
		db := postgres.New(f.s.Pool)
		var (
			form url.Values
			err  error
		)
		switch kind {
		case "instance":
			form = url.Values{"region": {"cn-north-1"}, "instance_id": {spareInstance}}
			if _, err = db.RemoveTeamInstance(ctx, f.team, "cn-north-1", spareInstance); err == nil && owned {
				_, err = db.AddTeamInstance(ctx, postgres.TeamInstance{TeamID: f.team, Region: "cn-north-1", InstanceID: spareInstance, InstanceName: "crm-main"})
			}
		case "vpc":
			form = url.Values{"region": {"cn-north-1"}, "vpc_id": {spareVPC}}
			if _, err = db.RemoveTeamVPC(ctx, f.team, "cn-north-1", spareVPC); err == nil && owned {
				_, err = db.AddTeamVPC(ctx, postgres.TeamVPC{TeamID: f.team, Region: "cn-north-1", VpcID: spareVPC})
			}
		default:
			path += "?region=cn-north-1"
		}
		if err != nil {
			t.Fatal(err)
		}
		return path, form
	}
}

// ownershipEvents returns the details of the admin.ownership_changed events
// recorded by an admin (not the test's seeding), oldest first.
func ownershipEvents(t *testing.T, s *testkit.Server) []map[string]any {
	t.Helper()
	rows, err := s.Pool.Query(t.Context(), `SELECT details FROM audit_events
		WHERE action = 'admin.ownership_changed' AND actor_name = 'admin' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestAdminOwnership(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "admin", Admin: true})
	s.CreateUser(t, testkit.User{Username: "eng", Teams: map[string]bool{"payments": false}})
	s.CreateUser(t, testkit.User{Username: "lead", Teams: map[string]bool{"payments": true}})
	payments := s.GrantSeedOwnership(t, "payments")
	s.GrantSeedOwnership(t, "search")
	db := postgres.New(s.Pool)
	admin := s.SignInAs(t, "admin")
	base := fmt.Sprintf("/admin/teams/%d/ownership", payments)

	// The team's admin page links to its ownership page.
	d := getPage(t, admin, fmt.Sprintf("/admin/teams/%d", payments), http.StatusOK)
	if href := d.Find(`[data-testid="ownership-link"]`).AttrOr("href", ""); href != base {
		t.Errorf("ownership link %q, want %q", href, base)
	}

	// The page lists what the team owns in the region and offers JD Cloud's
	// other instances, with their owners.
	d = getPage(t, admin, base+"?region=cn-north-1", http.StatusOK)
	if d.Find(`[data-testid="owned-mysql-payorders1"]`).Length() != 1 || d.Find(`[data-testid="owned-vpc-payprod001"]`).Length() != 1 {
		t.Error("the team's instance or VPC is not listed")
	}
	if name := d.Find(`[data-testid="owned-vpc-payprod001"] td`).First().Text(); !strings.Contains(name, "payments-prod") {
		t.Errorf("VPC shown as %q, want its name from JD Cloud", name)
	}
	if st := d.Find(`[data-testid="owned-mysql-payorders1"] td`).Eq(2).Text(); st != "RUNNING" {
		t.Errorf("live status %q, want RUNNING", st)
	}
	opt := d.Find(`#instance_id option[value="mysql-srchindex1"]`).Text()
	if !strings.Contains(opt, "search-index-meta") || !strings.Contains(opt, "owned by search") || !strings.Contains(opt, "mysql") {
		t.Errorf("another team's instance offered as %q", opt)
	}
	if d.Find(`#instance_id option[value="mysql-payorders1"]`).Length() != 0 {
		t.Error("an instance the team owns is offered again")
	}
	if d.Find(`#instance_id option[value="`+spareInstance+`"]`).Length() != 1 || d.Find(`#vpc_id option[value="`+spareVPC+`"]`).Length() != 1 {
		t.Error("unowned instance or VPC not offered")
	}
	if d.Find(`#region`).Length() != 1 || d.Find(`label[for="region"]`).Length() != 1 {
		t.Error("no labelled region select")
	}
	// Another region: what the team has there.
	d = getPage(t, admin, base+"?region=cn-east-2", http.StatusOK)
	if d.Find(`[data-testid="owned-mysql-payeastdb1"]`).Length() != 1 || d.Find(`[data-testid="owned-mysql-payorders1"]`).Length() != 0 {
		t.Error("cn-east-2 does not show the team's instances there only")
	}

	post := func(path string, form url.Values, want int) string {
		t.Helper()
		resp, body := admin.PostForm(t, path, form)
		if resp.StatusCode != want {
			t.Fatalf("POST %s %v = %d, want %d\n%s", path, form, resp.StatusCode, want, body)
		}
		return body
	}
	form := func(k, v string) url.Values { return url.Values{"region": {"cn-north-1"}, k: {v}} }

	// Add an instance: owned, and recorded.
	post(base+"/instances", form("instance_id", spareInstance), http.StatusSeeOther)
	if owner, err := db.InstanceOwner(t.Context(), "cn-north-1", spareInstance); err != nil || owner.ID != payments {
		t.Fatalf("owner after add: %v %v", owner, err)
	}
	// The team's engineer is offered it on the request form at once.
	f := getPage(t, s.SignInAs(t, "eng"), fmt.Sprintf("/requests/new?team=%d&region=cn-north-1", payments), http.StatusOK)
	if f.Find(`select[name="source"] option[value="`+spareInstance+`"]`).Length() != 1 {
		t.Error("the request form does not offer the newly owned instance")
	}

	// Another team's instance is refused, naming that team, with the choice kept.
	events := len(ownershipEvents(t, s))
	body := post(base+"/instances", form("instance_id", "mysql-srchindex1"), http.StatusUnprocessableEntity)
	d = testkit.Doc(t, body)
	if msg := d.Find(`[data-testid="error-instance_id"]`).Text(); !strings.Contains(msg, "already belongs to team search") {
		t.Errorf("refusal says %q", msg)
	}
	if _, ok := d.Find(`#instance_id option[value="mysql-srchindex1"]`).Attr("selected"); !ok {
		t.Error("the refused choice is not kept")
	}
	if owner, _ := db.InstanceOwner(t.Context(), "cn-north-1", "mysql-srchindex1"); owner.Name != "search" {
		t.Errorf("refused instance now belongs to %q", owner.Name)
	}
	if n := len(ownershipEvents(t, s)); n != events {
		t.Errorf("a refused change recorded %d events", n-events)
	}
	// Other refusals, each next to its field.
	for _, tc := range []struct {
		path  string
		form  url.Values
		field string
		msg   string
	}{
		{"/instances", form("instance_id", "mysql-payorders1"), "instance_id", "already has"},
		{"/instances", form("instance_id", "mysql-nosuch01"), "instance_id", "JD Cloud has no instance"},
		{"/instances", form("instance_id", ""), "instance_id", "Choose the instance"},
		{"/vpcs", form("vpc_id", "vpc-nosuch"), "vpc_id", "JD Cloud has no VPC"},
		{"/vpcs", form("vpc_id", "vpc-payprod001"), "vpc_id", "already has"},
		{"/vpcs", url.Values{"region": {"mars-1"}, "vpc_id": {spareVPC}}, "region", "Choose a region"},
	} {
		d := testkit.Doc(t, post(base+tc.path, tc.form, http.StatusUnprocessableEntity))
		if msg := d.Find(`[data-testid="error-` + tc.field + `"]`).Text(); !strings.Contains(msg, tc.msg) {
			t.Errorf("%s %v: %s says %q, want %q", tc.path, tc.form, tc.field, msg, tc.msg)
		}
	}

	// Add and remove a VPC; remove the instance.
	post(base+"/vpcs", form("vpc_id", spareVPC), http.StatusSeeOther)
	post(base+"/vpcs/remove", form("vpc_id", spareVPC), http.StatusSeeOther)
	post(base+"/instances/remove", form("instance_id", spareInstance), http.StatusSeeOther)
	if _, err := db.InstanceOwner(t.Context(), "cn-north-1", spareInstance); err != postgres.ErrNotFound {
		t.Errorf("instance still owned after removal: %v", err)
	}
	// A repeated removal changes nothing and says so.
	resp, _ := admin.PostForm(t, base+"/instances/remove", form("instance_id", spareInstance))
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("repeated removal: %d", resp.StatusCode)
	}

	got := ownershipEvents(t, s)
	want := []map[string]any{
		{"team": "payments", "change": "added", "kind": "instance", "region": "cn-north-1", "id": spareInstance, "name": "crm-main"},
		{"team": "payments", "change": "added", "kind": "vpc", "region": "cn-north-1", "id": spareVPC, "name": "shared-services"},
		{"team": "payments", "change": "removed", "kind": "vpc", "region": "cn-north-1", "id": spareVPC, "name": "shared-services"},
		{"team": "payments", "change": "removed", "kind": "instance", "region": "cn-north-1", "id": spareInstance, "name": "crm-main"},
	}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("event %d: %s = %v, want %v", i, k, got[i][k], v)
			}
		}
	}
	var team *int64
	if err := s.Pool.QueryRow(t.Context(), `SELECT team_id FROM audit_events WHERE action = 'admin.ownership_changed' AND actor_name = 'admin' LIMIT 1`).Scan(&team); err != nil || team == nil || *team != payments {
		t.Errorf("event's team %v (%v), want %d", team, err, payments)
	}
}
