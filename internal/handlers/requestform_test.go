package handlers_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/testkit"
)

// formWorld is one server with the simulator's seed: payments (alice member,
// bob lead) and search (frank member, carol its only lead) own their seed
// instances and VPCs, except that payments no longer owns anything in
// cn-south-1; crm (dave member) has no lead at all.
type formWorld struct {
	s      *testkit.Server
	search int64
	cloud  *jdcloud.Client
}

func newFormWorld(t *testing.T) *formWorld {
	t.Helper()
	s := testkit.Start(t, testkit.Options{})
	payments := s.GrantSeedOwnership(t, "payments")
	search := s.GrantSeedOwnership(t, "search")
	if _, err := s.Pool.Exec(t.Context(), `DELETE FROM team_instances WHERE team_id = $1 AND region = 'cn-south-1'`, payments); err != nil {
		t.Fatal(err)
	}
	s.CreateUser(t, testkit.User{Username: "alice", Teams: map[string]bool{"payments": false}})
	s.CreateUser(t, testkit.User{Username: "bob", Teams: map[string]bool{"payments": true}})
	s.CreateUser(t, testkit.User{Username: "frank", Teams: map[string]bool{"search": false}})
	s.CreateUser(t, testkit.User{Username: "carol", Teams: map[string]bool{"search": true}})
	s.GrantSeedOwnership(t, "crm") // an instance, no VPC, no lead
	s.CreateUser(t, testkit.User{Username: "dave", Teams: map[string]bool{"crm": false}})
	return &formWorld{s: s, search: search, cloud: s.Restore.Cloud(nil)}
}

// backup returns the id of a backup of source in cn-north-1 that match accepts.
func (w *formWorld) backup(t *testing.T, source string, match func(jdcloud.Backup) bool) string {
	t.Helper()
	bs, err := w.cloud.AllBackups(t.Context(), "cn-north-1", source)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if match(b) {
			return b.BackupID
		}
	}
	t.Fatalf("the seed has no such backup of %s", source)
	return ""
}

// subnet returns the id of a subnet of vpc in cn-north-1.
func (w *formWorld) subnet(t *testing.T, vpc string) string {
	t.Helper()
	ss, err := w.cloud.AllSubnets(t.Context(), "cn-north-1", jdcloud.DescribeSubnetsQuery{VpcID: vpc})
	if err != nil || len(ss) == 0 {
		t.Fatalf("subnets of %s: %v", vpc, err)
	}
	return ss[0].SubnetID
}

// stored counts what a submission may leave behind: requests and audit events.
func stored(t *testing.T, s *testkit.Server) (requests, events int) {
	t.Helper()
	err := s.Pool.QueryRow(t.Context(),
		`SELECT (SELECT count(*) FROM restore_requests), (SELECT count(*) FROM audit_events)`).Scan(&requests, &events)
	if err != nil {
		t.Fatal(err)
	}
	return requests, events
}

// fieldValue is the value the page shows in the form field called name:
// an input's value, a checkbox's "1" when checked, a textarea's text, a
// select's chosen option. ok is false when the page has no such field.
func fieldValue(d *goquery.Document, name string) (value string, ok bool) {
	sel := d.Find(`#request-form [name="` + name + `"]`)
	if sel.Length() == 0 {
		return "", false
	}
	switch goquery.NodeName(sel) {
	case "textarea":
		return sel.Text(), true
	case "select":
		opt := sel.Find("option[selected]")
		if opt.Length() == 0 {
			opt = sel.Find("option").First() // what a browser shows
		}
		return opt.AttrOr("value", ""), true
	}
	if sel.AttrOr("type", "") == "checkbox" {
		if _, checked := sel.Attr("checked"); checked {
			return sel.AttrOr("value", "on"), true
		}
		return "", true
	}
	return sel.AttrOr("value", ""), true
}

// offered reports whether the select called name offers value.
func offered(d *goquery.Document, name, value string) bool {
	found := false
	d.Find(`#request-form select[name="` + name + `"] option`).Each(func(_ int, o *goquery.Selection) {
		found = found || o.AttrOr("value", "") == value
	})
	return found
}

// TestRequestFormRefuses submits, for every rule of the request form (jdcloud/rules.go and restore.Validate), a valid form
// with one or two fields changed to break the rule, and expects 422 with the
// problem next to the right field, the input kept, and nothing stored.
func TestRequestFormRefuses(t *testing.T) {
	t.Parallel()
	w := newFormWorld(t)
	s := w.s
	clients := map[string]*testkit.Client{}
	for _, u := range []string{"alice", "frank", "carol", "dave"} {
		clients[u] = s.SignInAs(t, u)
	}
	building := func(b jdcloud.Backup) bool { return b.BackupStatus == jdcloud.BackupBuilding }
	failed := func(b jdcloud.Backup) bool { return b.BackupStatus == jdcloud.BackupError }
	diff := func(b jdcloud.Backup) bool {
		return b.BackupStatus == jdcloud.BackupCompleted && b.BackupType == jdcloud.BackupTypeDiff
	}
	dbLevel := func(b jdcloud.Backup) bool {
		return b.BackupStatus == jdcloud.BackupCompleted && b.BackupUnit == jdcloud.BackupUnitDatabase
	}
	restorable := jdcloud.Backup.Restorable
	searchTeam := strconv.FormatInt(w.search, 10)
	const (
		mysql     = "mysql-payorders1"
		pg        = "pg-payledger1"
		sqlserver = "sqlserver-payrecon01"
		percona   = "percona-paysessn01"
		mariadb   = "mariadb-payrefund1"
	)
	// Storage sizes: the class db.mysql.s1.medium allows sizes below the
	// newest backup's; db.mysql.s1.large has a maximum.
	mysqlForm := s.RequestForm(t, "alice", "payments", mysql)
	medium, _ := jdcloud.LookupClass("db.mysql.s1.medium")
	large, _ := jdcloud.LookupClass("db.mysql.s1.large")
	backupGB := 0
	bs, err := w.cloud.AllBackups(t.Context(), "cn-north-1", mysql)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.BackupID == mysqlForm.Get("backup") {
			backupGB = b.SizeGB()
		}
	}
	if medium.Storage.Min >= backupGB || large.Storage.Max < backupGB {
		t.Fatalf("the seed's backup (%d GB) does not suit the storage cases (%s, %s)", backupGB, medium.Storage, large.Storage)
	}

	cases := []struct {
		name   string
		user   string // default alice
		team   string // default payments
		source string // default the MySQL instance
		set    url.Values
		field  string // where the problem must show
		msg    string // part of the message
		// kept is false when the submitted value cannot be shown again because
		// the form must not offer it (another team's instance, say): the test
		// then checks that it is not offered.
		notOffered bool
	}{
		{name: "team not yours", set: url.Values{"team": {searchTeam}}, field: "team", msg: "one of your teams", notOffered: true},
		{name: "team that does not exist", set: url.Values{"team": {"999999"}}, field: "team", msg: "one of your teams", notOffered: true},
		{name: "region without owned instances", set: url.Values{"region": {"cn-south-1"}}, field: "region", msg: "region where the team owns instances", notOffered: true},
		{name: "region unknown", set: url.Values{"region": {"mars-1"}}, field: "region", msg: "region where the team owns instances", notOffered: true},
		{name: "source of another team", user: "frank", team: "search", source: "mysql-srchindex1",
			set: url.Values{"source": {mysql}}, field: "source", msg: "one of the team's instances", notOffered: true},
		{name: "source of own team in another region", set: url.Values{"source": {"mysql-payeastdb1"}}, field: "source", msg: "one of the team's instances", notOffered: true},
		{name: "backup missing", set: url.Values{"backup": {""}}, field: "backup", msg: "Choose a backup"},
		{name: "backup not in the list", set: url.Values{"backup": {"00000000-0000-4000-8000-000000000000"}}, field: "backup", msg: "completed full backups", notOffered: true},
		{name: "backup of another instance", set: url.Values{"backup": {w.backup(t, percona, restorable)}}, field: "backup", msg: "completed full backups", notOffered: true},
		{name: "backup still running", set: url.Values{"backup": {w.backup(t, mysql, building)}}, field: "backup", msg: "completed full backups", notOffered: true},
		{name: "backup failed", source: pg, set: url.Values{"backup": {w.backup(t, pg, failed)}}, field: "backup", msg: "completed full backups", notOffered: true},
		{name: "backup differential", source: sqlserver, set: url.Values{"backup": {w.backup(t, sqlserver, diff)}}, field: "backup", msg: "completed full backups", notOffered: true},
		{name: "backup database-level", source: sqlserver, set: url.Values{"backup": {w.backup(t, sqlserver, dbLevel)}}, field: "backup", msg: "completed full backups", notOffered: true},
		{name: "team missing", set: url.Values{"team": {""}}, field: "team", msg: "Choose a team"},
		{name: "storage missing", set: url.Values{"storage": {""}}, field: "storage", msg: "whole number of GB"},
		{name: "class missing", set: url.Values{"class": {""}}, field: "class", msg: "required"},
		{name: "class of another engine", set: url.Values{"class": {"db.pg.s1.medium"}}, field: "class", msg: "db.pg.s1.medium is not a MySQL class", notOffered: true},
		{name: "storage not an integer", set: url.Values{"storage": {"abc"}}, field: "storage", msg: "whole number of GB"},
		{name: "storage not whole", set: url.Values{"storage": {"250.5"}}, field: "storage", msg: "whole number of GB"},
		{name: "storage below the backup", set: url.Values{"class": {medium.Code}, "storage": {strconv.Itoa(medium.Storage.Min)}},
			field: "storage", msg: "smaller than the backup"},
		{name: "storage above the class", set: url.Values{"class": {large.Code}, "storage": {strconv.Itoa(large.Storage.Max + 10)}},
			field: "storage", msg: "is not a size of " + large.Code},
		{name: "storage off the class's steps", set: url.Values{"class": {large.Code}, "storage": {strconv.Itoa(large.Storage.Max - 5)}},
			field: "storage", msg: "is not a size of " + large.Code},
		{name: "primary zone missing", set: url.Values{"az_primary": {""}}, field: "az_primary", msg: "Choose a primary zone"},
		{name: "primary zone unknown", set: url.Values{"az_primary": {"cn-north-1z"}}, field: "az_primary", msg: "cn-north-1z is not available", notOffered: true},
		{name: "standby zone missing (MySQL)", set: url.Values{"az_standby": {""}}, field: "az_standby", msg: "standby zone"},
		{name: "standby zone missing (PostgreSQL)", source: pg, set: url.Values{"az_standby": {""}}, field: "az_standby", msg: "standby zone"},
		{name: "standby zone missing (SQL Server cluster)", source: sqlserver, set: url.Values{"az_standby": {""}}, field: "az_standby", msg: "standby zone"},
		{name: "standby zone unknown", source: mariadb, set: url.Values{"az_standby": {"cn-north-1z"}}, field: "az_standby", msg: "region's zones", notOffered: true},
		{name: "VPC missing", set: url.Values{"vpc": {""}}, field: "vpc", msg: "Choose a VPC"},
		{name: "VPC of another team", set: url.Values{"vpc": {"vpc-srchprod01"}}, field: "vpc", msg: "VPCs the team may use", notOffered: true},
		{name: "VPC of nobody", set: url.Values{"vpc": {"vpc-sharedsvc1"}}, field: "vpc", msg: "VPCs the team may use", notOffered: true},
		{name: "subnet missing", set: url.Values{"subnet": {""}}, field: "subnet", msg: "required"},
		{name: "subnet of another VPC", set: url.Values{"subnet": {w.subnet(t, "vpc-payrestore")}}, field: "subnet", msg: "subnets of VPC vpc-payprod001", notOffered: true},
		{name: "subnet unknown", set: url.Values{"subnet": {"subnet-nowhere"}}, field: "subnet", msg: "subnets of VPC vpc-payprod001", notOffered: true},
		{name: "parameter group for PostgreSQL", source: pg, set: url.Values{"param_group": {"pg-params-1"}}, field: "param_group", msg: "Not available for PostgreSQL"},
		{name: "parameter group for Percona", source: percona, set: url.Values{"param_group": {"pg-params-1"}}, field: "param_group", msg: "Not available for Percona"},
		{name: "storage type for SQL Server", source: sqlserver, set: url.Values{"storage_type": {jdcloud.StorageEBSSSD}}, field: "storage_type", msg: "Not available for SQL Server"},
		{name: "storage type for MariaDB", source: mariadb, set: url.Values{"storage_type": {jdcloud.StorageLocalSSD}}, field: "storage_type", msg: "Not available for MariaDB"},
		{name: "storage type unknown", set: url.Values{"storage_type": {"FLOPPY"}}, field: "storage_type", msg: "not one of", notOffered: true},
		{name: "encryption for PostgreSQL", source: pg, set: url.Values{"encrypted": {"1"}}, field: "encrypted", msg: "Not available for PostgreSQL"},
		{name: "encryption without EBS_SSD", set: url.Values{"encrypted": {"1"}, "storage_type": {jdcloud.StorageLocalSSD}}, field: "encrypted", msg: "EBS_SSD"},
		{name: "encryption with LOCAL_NVME", set: url.Values{"encrypted": {"1"}, "storage_type": {jdcloud.StorageLocalNVMe}}, field: "encrypted", msg: "EBS_SSD"},
		{name: "port for PostgreSQL", source: pg, set: url.Values{"port": {"5432"}}, field: "port", msg: "Not available for PostgreSQL"},
		{name: "port for SQL Server", source: sqlserver, set: url.Values{"port": {"1433"}}, field: "port", msg: "Not available for SQL Server"},
		{name: "port below 1150", set: url.Values{"port": {"1149"}}, field: "port", msg: "between 1150 and 5999"},
		{name: "port above 5999", source: percona, set: url.Values{"port": {"6000"}}, field: "port", msg: "between 1150 and 5999"},
		{name: "port not an integer", source: mariadb, set: url.Values{"port": {"33o6"}}, field: "port", msg: "whole number"},
		{name: "architecture for MySQL", set: url.Values{"arch": {jdcloud.InstanceTypeStandalone}}, field: "arch", msg: "Not available for MySQL"},
		{name: "architecture for PostgreSQL", source: pg, set: url.Values{"arch": {jdcloud.InstanceTypeCluster}}, field: "arch", msg: "Not available for PostgreSQL"},
		{name: "architecture unknown", source: sqlserver, set: url.Values{"arch": {"multi-replica"}}, field: "arch", msg: "not one of", notOffered: true},
		{name: "billing unknown", set: url.Values{"charge_mode": {"free"}}, field: "charge_mode", msg: "not one of", notOffered: true},
		{name: "prepaid without period", set: url.Values{"charge_mode": {jdcloud.ChargePrepaidByDuration}, "period_unit": {"month"}}, field: "period", msg: "whole number"},
		{name: "prepaid without unit", set: url.Values{"charge_mode": {jdcloud.ChargePrepaidByDuration}, "period": {"3"}}, field: "period_unit", msg: "month or year"},
		{name: "prepaid month 0", set: url.Values{"charge_mode": {jdcloud.ChargePrepaidByDuration}, "period": {"0"}, "period_unit": {"month"}}, field: "period", msg: "1–9 months"},
		{name: "prepaid month 10", set: url.Values{"charge_mode": {jdcloud.ChargePrepaidByDuration}, "period": {"10"}, "period_unit": {"month"}}, field: "period", msg: "1–9 months"},
		{name: "prepaid year 4", source: pg, set: url.Values{"charge_mode": {jdcloud.ChargePrepaidByDuration}, "period": {"4"}, "period_unit": {"year"}}, field: "period", msg: "1–3 years"},
		// The period fields show only with prepaid billing, so their problems
		// belong next to the billing choice.
		{name: "period with postpaid", set: url.Values{"period": {"3"}}, field: "charge_mode", msg: "only to prepaid billing"},
		{name: "period unit with postpaid by usage", set: url.Values{"charge_mode": {jdcloud.ChargePostpaidByUsage}, "period_unit": {"month"}}, field: "charge_mode", msg: "only to prepaid billing"},
		{name: "name too short", set: url.Values{"name": {"x"}}, field: "name", msg: "2–32 characters"},
		{name: "name too long", set: url.Values{"name": {strings.Repeat("n", 33)}}, field: "name", msg: "2–32 characters"},
		{name: "name too long in Chinese", set: url.Values{"name": {strings.Repeat("恢", 33)}}, field: "name", msg: "2–32 characters"},
		{name: "name with a space", set: url.Values{"name": {"orders copy"}}, field: "name", msg: "' ' is not allowed"},
		{name: "name with a dot", set: url.Values{"name": {"orders.copy"}}, field: "name", msg: "'.' is not allowed"},
		{name: "name with an accented letter", set: url.Values{"name": {"café"}}, field: "name", msg: "'é' is not allowed"},
		{name: "reason missing", set: url.Values{"reason": {""}}, field: "reason", msg: "Say why"},
		{name: "reason blank", set: url.Values{"reason": {"  \n "}}, field: "reason", msg: "Say why"},
		{name: "reason one letter", set: url.Values{"reason": {"x"}}, field: "reason", msg: "at least 10 characters"},
		{name: "reason too long", set: url.Values{"reason": {strings.Repeat("r", 2001)}}, field: "reason", msg: "under 2000 characters"},
		{name: "only lead", user: "carol", team: "search", source: "mysql-srchindex1", field: "team", msg: "You are this team's only lead"},
		{name: "team without a lead", user: "dave", team: "crm", source: "mysql-crmmaindb1", field: "team", msg: "This team has no lead"},
	}
	forms := map[string]url.Values{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user, team, source := cmpOr(tc.user, "alice"), cmpOr(tc.team, "payments"), cmpOr(tc.source, mysql)
			k := user + "/" + team + "/" + source
			if forms[k] == nil {
				forms[k] = s.RequestForm(t, user, team, source)
			}
			form := url.Values{}
			for f, v := range forms[k] {
				form[f] = v
			}
			form.Set("key", rand.Text())
			for f, v := range tc.set {
				form[f] = v
			}
			reqs, events := stored(t, s)
			resp, body := clients[user].PostForm(t, "/requests", form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d (Location %q), want 422", resp.StatusCode, resp.Header.Get("Location"))
			}
			d := testkit.Doc(t, body)
			got := strings.TrimSpace(d.Find("[data-testid=error-" + tc.field + "]").Text())
			if !strings.Contains(got, tc.msg) {
				t.Errorf("message next to %s = %q, want it to contain %q\nall: %s", tc.field, got, tc.msg,
					d.Find("[data-testid^=error-]").Text())
			}
			// Each submitted field comes back as typed, or, for values the
			// form must not offer, not at all.
			for f, v := range tc.set {
				shown, ok := fieldValue(d, f)
				if tc.notOffered {
					if offered(d, f, v[0]) {
						t.Errorf("the form offers %s=%q", f, v[0])
					}
					continue
				}
				if f == "period" || f == "period_unit" {
					if form.Get("charge_mode") != jdcloud.ChargePrepaidByDuration {
						continue // not shown with postpaid billing; dropped on the next submit
					}
				}
				if want := strings.TrimSpace(v[0]); !ok || shown != want && !(f == "reason" && shown == v[0]) {
					t.Errorf("field %s shows %q (present %v), want %q kept", f, shown, ok, want)
				}
			}
			if r, ok := fieldValue(d, "reason"); tc.set["reason"] == nil && (!ok || r != form.Get("reason")) {
				t.Errorf("reason shows %q, want %q kept", r, form.Get("reason"))
			}
			if r2, e2 := stored(t, s); r2 != reqs || e2 != events {
				t.Errorf("stored %d requests and %d events, want none", r2-reqs, e2-events)
			}
		})
	}
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// TestRequestFormOnlyLead: the form tells the team's only lead before they
// submit that nobody could approve; a member of the same team is not told.
func TestRequestFormOnlyLead(t *testing.T) {
	t.Parallel()
	w := newFormWorld(t)
	search := strconv.FormatInt(w.search, 10)
	for user, want := range map[string]bool{"carol": true, "frank": false, "alice": false} {
		c := w.s.SignInAs(t, user)
		path := "/requests/new"
		if user != "alice" {
			path += "?team=" + search
		}
		resp, body := c.Get(t, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET %s: %d", user, path, resp.StatusCode)
		}
		d := testkit.Doc(t, body)
		if got := d.Find("[data-testid=only-lead]").Length() > 0; got != want {
			t.Errorf("%s: only-lead notice shown %v, want %v", user, got, want)
		}
		// The form does not pretend: Submit is off while nobody could decide.
		if _, off := d.Find("[data-testid=submit-request]").Attr("disabled"); off != want {
			t.Errorf("%s: Submit disabled %v, want %v", user, off, want)
		}
	}
}

// submit posts form as c and returns the request it redirects to.
func submit(t *testing.T, c *testkit.Client, form url.Values) int64 {
	t.Helper()
	resp, body := c.PostForm(t, "/requests", form)
	loc := resp.Header.Get("Location")
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/requests/"), 10, 64)
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("submit: %d %q\n%s", resp.StatusCode, loc, body)
	}
	return id
}

// TestRequestFormAccepts: valid forms for every engine redirect to their
// request, stored as typed; replaying a submission lands on the same request
// without storing another; "Request again" pre-fills a fresh form.
func TestRequestFormAccepts(t *testing.T) {
	t.Parallel()
	w := newFormWorld(t)
	s := w.s
	alice := s.SignInAs(t, "alice")
	countCreated := func() int { return countEvents(t, s.Pool, "request.created") }

	t.Run("every engine", func(t *testing.T) {
		for _, src := range []string{"mysql-payorders1", "pg-payledger1", "sqlserver-payrecon01", "percona-paysessn01", "mariadb-payrefund1"} {
			before := countCreated()
			id := submit(t, alice, s.RequestForm(t, "alice", "payments", src))
			if got := countCreated() - before; got != 1 {
				t.Errorf("%s: %d request.created events, want 1", src, got)
			}
			var source, status string
			if err := s.Pool.QueryRow(t.Context(), `SELECT source_instance_id, status FROM restore_requests WHERE id = $1`, id).
				Scan(&source, &status); err != nil || source != src || status != "pending_approval" {
				t.Errorf("request %d: source %q status %q (%v)", id, source, status, err)
			}
		}
	})

	t.Run("MySQL with every option", func(t *testing.T) {
		form := s.RequestForm(t, "alice", "payments", "mysql-payorders1")
		form.Set("name", "恢复-订单_01")
		form.Set("storage_type", jdcloud.StorageEBSSSD)
		form.Set("encrypted", "1")
		form.Set("param_group", "mysql-pg-custom01")
		form.Set("port", "1150")
		// Prepaid copies need the team's leave (by default they have none).
		if _, err := s.Pool.Exec(t.Context(), `UPDATE teams SET prepaid_allowed = true WHERE name = 'payments'`); err != nil {
			t.Fatal(err)
		}
		form.Set("charge_mode", jdcloud.ChargePrepaidByDuration)
		form.Set("period", "9")
		form.Set("period_unit", "month")
		spec := storedSpec(t, s, submit(t, alice, form))
		want := jdcloud.RestoredInstanceSpec{InstanceName: "恢复-订单_01", InstanceStorageType: jdcloud.StorageEBSSSD,
			ParameterGroup: "mysql-pg-custom01", InstancePort: "1150",
			ChargeSpec: jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePrepaidByDuration, ChargeUnit: "month", ChargeDuration: 9}}
		if spec.InstanceName != want.InstanceName || spec.InstanceStorageType != want.InstanceStorageType ||
			spec.ParameterGroup != want.ParameterGroup || spec.InstancePort != want.InstancePort ||
			spec.ChargeSpec != want.ChargeSpec || spec.StorageEncrypted == nil || !*spec.StorageEncrypted {
			t.Errorf("stored spec %+v, want %+v with encryption", spec, want)
		}
	})

	// SQL Server standalone takes one zone. The standby select is not shown
	// for it, but a form switched from cluster without a reload still sends
	// one: it is ignored (never sent to JD Cloud), not refused.
	t.Run("SQL Server standalone ignores the standby zone", func(t *testing.T) {
		form := s.RequestForm(t, "alice", "payments", "sqlserver-payrecon01")
		form.Set("arch", jdcloud.InstanceTypeStandalone)
		form.Set("az_standby", form.Get("az_primary"))
		spec := storedSpec(t, s, submit(t, alice, form))
		if len(spec.AzID) != 1 || spec.AzID[0] != form.Get("az_primary") || spec.InstanceType != jdcloud.InstanceTypeStandalone {
			t.Errorf("stored zones %v, type %q; want [%s] standalone", spec.AzID, spec.InstanceType, form.Get("az_primary"))
		}
		// The form for it shows no standby zone.
		q := url.Values{"source": {"sqlserver-payrecon01"}, "arch": {jdcloud.InstanceTypeStandalone}}
		_, body := alice.Get(t, "/requests/new?"+q.Encode())
		if _, ok := fieldValue(testkit.Doc(t, body), "az_standby"); ok {
			t.Error("the standalone form asks for a standby zone")
		}
	})

	t.Run("a replayed submission stores nothing more", func(t *testing.T) {
		form := s.RequestForm(t, "alice", "payments", "percona-paysessn01")
		first := submit(t, alice, form)
		reqs, _ := stored(t, s)
		created := countCreated()
		// A double click, a reload of the POST, and the same form sent from
		// another session of the same user.
		for _, c := range []*testkit.Client{alice, alice, s.SignInAs(t, "alice")} {
			if again := submit(t, c, form); again != first {
				t.Errorf("replay redirected to request %d, want %d", again, first)
			}
		}
		if r2, _ := stored(t, s); r2 != reqs {
			t.Errorf("replays stored %d more requests", r2-reqs)
		}
		if got := countCreated(); got != created {
			t.Errorf("replays recorded %d more request.created events", got-created)
		}
	})

	t.Run("request again pre-fills the form", func(t *testing.T) {
		form := s.RequestForm(t, "alice", "payments", "mariadb-payrefund1")
		form.Set("name", "refunds-copy")
		form.Set("port", "4406")
		form.Set("reason", "Refund dispute #77")
		id := submit(t, alice, form)
		reqs, _ := stored(t, s)
		resp, body := alice.Get(t, "/requests/new?from="+strconv.FormatInt(id, 10))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request again: %d", resp.StatusCode)
		}
		d := testkit.Doc(t, body)
		for _, f := range []string{"team", "region", "source", "backup", "class", "storage", "az_primary", "az_standby",
			"vpc", "subnet", "port", "charge_mode", "name", "reason"} {
			if got, ok := fieldValue(d, f); !ok || got != form.Get(f) {
				t.Errorf("%s pre-filled %q (present %v), want %q", f, got, ok, form.Get(f))
			}
		}
		key, _ := fieldValue(d, "key")
		if key == "" || key == form.Get("key") {
			t.Errorf("request again reuses submission key %q: its submit would land on the old request", key)
		}
		if r2, _ := stored(t, s); r2 != reqs {
			t.Error("showing the pre-filled form stored a request")
		}
		// Another team's member may not copy it.
		resp, _ = w.s.SignInAs(t, "frank").Get(t, "/requests/new?from="+strconv.FormatInt(id, 10))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("frank's request again of a payments request: %d, want 404", resp.StatusCode)
		}
	})
}

// storedSpec returns the parameters stored with request id.
func storedSpec(t *testing.T, s *testkit.Server, id int64) jdcloud.RestoredInstanceSpec {
	t.Helper()
	var raw []byte
	if err := s.Pool.QueryRow(t.Context(), `SELECT spec FROM restore_requests WHERE id = $1`, id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var spec jdcloud.RestoredInstanceSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestRequestFormWithoutJavaScript: the dependent choices reload through a
// plain GET of the form with what was typed so far (the "Update choices"
// button), keeping every value: picking a source offers its backups, newest
// first, and the engine-specific fields of its engine.
func TestRequestFormWithoutJavaScript(t *testing.T) {
	t.Parallel()
	w := newFormWorld(t)
	c := w.s.SignInAs(t, "alice")
	team := strconv.FormatInt(w.s.Team(t, "payments"), 10)
	for _, tt := range []struct {
		source    string
		engine    string
		fields    []string // engine-specific fields that must be offered
		notFields []string
	}{
		{"mysql-payorders1", "MySQL", []string{"port", "storage_type", "encrypted", "param_group", "az_standby"}, []string{"arch"}},
		{"sqlserver-payrecon01", "SQL Server", []string{"arch", "az_standby"}, []string{"port", "storage_type", "param_group"}},
		{"pg-payledger1", "PostgreSQL", []string{"az_standby"}, []string{"port", "storage_type", "param_group", "arch"}},
	} {
		q := url.Values{"key": {"kept-key-0123456789"}, "team": {team}, "region": {"cn-north-1"}, "source": {tt.source},
			"reason": {"typed before the reload"}, "name": {"restore-测试"}}
		resp, body := c.Get(t, "/requests/new?"+q.Encode())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET = %d", resp.StatusCode)
		}
		d := testkit.Doc(t, body)
		if got := d.Find("[data-testid=engine]").Text(); !strings.HasPrefix(got, tt.engine) {
			t.Errorf("%s: engine shown %q", tt.source, got)
		}
		if n := d.Find("#backup option[value!='']").Length(); n == 0 {
			t.Errorf("%s: no backups offered", tt.source)
		}
		var times []string
		d.Find("#backup option[value!='']").Each(func(_ int, o *goquery.Selection) { times = append(times, o.Text()[:20]) })
		if !slices.IsSortedFunc(times, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("%s: backups not newest first: %v", tt.source, times)
		}
		for _, f := range tt.fields {
			if d.Find("#"+f).Length() != 1 {
				t.Errorf("%s: field %s not offered", tt.source, f)
			}
		}
		for _, f := range tt.notFields {
			if d.Find("#"+f).Length() != 0 {
				t.Errorf("%s: field %s offered for %s", tt.source, f, tt.engine)
			}
		}
		if v, _ := d.Find("input[name=key]").Attr("value"); v != "kept-key-0123456789" {
			t.Errorf("submission key not kept: %q", v)
		}
		if got := d.Find("#reason").Text(); got != "typed before the reload" {
			t.Errorf("reason not kept: %q", got)
		}
		if v, _ := d.Find("#name").Attr("value"); v != "restore-测试" {
			t.Errorf("name not kept: %q", v)
		}
		if d.Find("[data-testid=refresh]").Length() != 1 {
			t.Error("no Update choices button")
		}
		d.Find("button[formaction='/requests/new']").Each(func(_ int, b *goquery.Selection) {
			if m, _ := b.Attr("formmethod"); m != "post" {
				t.Errorf("the reload %q goes by %q: the reason would land in the address", b.Text(), m)
			}
		})
	}
}
