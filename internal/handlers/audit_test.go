package handlers_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	"restoredesk/internal/audit"
	"restoredesk/internal/testkit"
)

// auditWorld is a server with an auditor, an admin, a lead and an engineer of
// team alpha, a lead of team beta, each signed in, and request events of both
// teams recorded after the sign-ins.
type auditWorld struct {
	s                                       *testkit.Server
	alpha, beta                             int64
	auditor, admin, leadA, engineerA, leadB *testkit.Client
	anonymous                               *testkit.Client
}

func newAuditWorld(t *testing.T) *auditWorld {
	t.Helper()
	s := testkit.Start(t, testkit.Options{})
	w := &auditWorld{s: s}
	s.CreateUser(t, testkit.User{Username: "ada", Auditor: true})
	s.CreateUser(t, testkit.User{Username: "root", Admin: true})
	s.CreateUser(t, testkit.User{Username: "bob", Teams: map[string]bool{"alpha": true}})
	alice := s.CreateUser(t, testkit.User{Username: "alice", Teams: map[string]bool{"alpha": false}})
	s.CreateUser(t, testkit.User{Username: "dan", Teams: map[string]bool{"beta": true}})
	w.alpha, w.beta = s.Team(t, "alpha"), s.Team(t, "beta")
	w.auditor, w.admin = s.SignInAs(t, "ada"), s.SignInAs(t, "root")
	w.leadA, w.engineerA, w.leadB = s.SignInAs(t, "bob"), s.SignInAs(t, "alice"), s.SignInAs(t, "dan")
	w.anonymous = s.NewClient(t)
	aliceActor := audit.Actor{UserID: alice, Name: "alice", ClientAddr: "203.0.113.7", UserAgent: "Firefox/128"}
	for _, ev := range []audit.Event{
		{Actor: aliceActor, Action: audit.RequestCreated, TargetType: audit.TargetRequest, TargetID: "100", TeamID: w.alpha,
			Details: map[string]any{"reason": "dropped table", "backup_id": "bk-1"}},
		{Actor: audit.Actor{Name: "carol", UserID: 999, ClientAddr: "198.51.100.3", UserAgent: "Safari"},
			Action: audit.RequestCreated, TargetType: audit.TargetRequest, TargetID: "200", TeamID: w.beta},
		{Actor: audit.System, Action: audit.JDCloudCall, TargetType: audit.TargetRequest, TargetID: "100", TeamID: w.alpha,
			Details: map[string]any{"operation": "createInstanceFromBackup", "http_status": 200}},
	} {
		err := pgx.BeginFunc(t.Context(), s.Pool, func(tx pgx.Tx) error {
			_, err := audit.Record(t.Context(), tx, ev)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// seqsWhere lists, newest first, the events a condition selects, straight from
// the table.
func (w *auditWorld) seqsWhere(t *testing.T, cond string, args ...any) []string {
	t.Helper()
	rows, _ := w.s.Pool.Query(t.Context(), `SELECT seq::text FROM audit_events WHERE `+cond+` ORDER BY audit_events.seq DESC`, args...)
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

// TestAuditPageVisibility: each role sees exactly its share of the audit
// page and of the export (docs/architecture.md, The audit trail).
func TestAuditPageVisibility(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	if n := len(w.seqsWhere(t, `true`)); n > 40 {
		t.Fatalf("%d events: the test assumes one page", n)
	}
	// Each role's share, as SQL straight on the table, read when the subtest
	// runs (earlier subtests' exports add events).
	everything := func(t *testing.T) []string { return w.seqsWhere(t, `true`) }
	teamsRequests := func(team int64) func(t *testing.T) []string {
		return func(t *testing.T) []string {
			return w.seqsWhere(t, `target_type = 'request' AND team_id = $1`, team)
		}
	}
	none := func(*testing.T) []string { return nil }
	for _, tc := range []struct {
		name     string
		c        *testkit.Client
		status   int
		share    func(t *testing.T) []string
		personal bool
		export   bool
	}{
		{"auditor", w.auditor, http.StatusOK, everything, true, true},
		{"admin", w.admin, http.StatusOK, everything, true, true},
		{"lead of alpha", w.leadA, http.StatusOK, teamsRequests(w.alpha), true, false},
		{"lead of beta", w.leadB, http.StatusOK, teamsRequests(w.beta), true, false},
		{"engineer of alpha", w.engineerA, http.StatusForbidden, none, false, false},
		{"anonymous", w.anonymous, http.StatusSeeOther, none, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.share(t)
			resp, body := tc.c.Get(t, "/audit")
			if resp.StatusCode != tc.status {
				t.Fatalf("GET /audit = %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusSeeOther {
				if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/signin") {
					t.Errorf("redirected to %q, want the sign-in page", loc)
				}
			}
			if tc.status == http.StatusOK {
				d := testkit.Doc(t, body)
				var got []string
				d.Find(`[data-testid="audit-event"]`).Each(func(_ int, s *goquery.Selection) {
					got = append(got, s.AttrOr("data-seq", ""))
				})
				if !slices.Equal(got, want) {
					t.Errorf("sees events %v, want %v", got, want)
				}
				if has := d.Find(`[data-testid="client-addr"]`).Length() > 0; has != tc.personal {
					t.Errorf("address column shown: %v, want %v", has, tc.personal)
				}
				if aliceRequest := w.seqsWhere(t, `target_id = '100' AND action = 'request.created'`)[0]; tc.personal &&
					slices.Contains(want, aliceRequest) && !strings.Contains(body, "203.0.113.7") {
					t.Error("alice's address missing")
				}
				if has := d.Find(`[data-testid="export-csv"]`).Length() > 0; has != tc.export {
					t.Errorf("export links shown: %v, want %v", has, tc.export)
				}
				if tc.name == "lead of alpha" && (strings.Contains(body, "198.51.100.3") || strings.Contains(body, "carol")) {
					t.Error("the lead of alpha sees beta's request")
				}
			}
			// The export: only auditors and admins, and exactly their share.
			resp, body = tc.c.Get(t, "/audit/export?format=jsonl")
			switch {
			case tc.export:
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("export = %d", resp.StatusCode)
				}
				var seqs []string
				sc := bufio.NewScanner(strings.NewReader(body))
				for sc.Scan() {
					var l audit.Line
					if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
						t.Fatal(err)
					}
					seqs = append([]string{strconv.FormatInt(l.Seq, 10)}, seqs...)
				}
				// Everything shown before, plus exports recorded since (its own
				// last), and nothing recorded after it.
				exports := w.seqsWhere(t, `action = 'audit.exported' AND seq <= $1`, seqs[0])
				want := append(exports, want...)
				slices.SortFunc(want, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return y - x })
				want = slices.Compact(want)
				if !slices.Equal(seqs, want) {
					t.Errorf("export holds %v, want %v", seqs, want)
				}
			case tc.status == http.StatusSeeOther:
				if resp.StatusCode != http.StatusSeeOther {
					t.Errorf("anonymous export = %d, want a redirect to sign in", resp.StatusCode)
				}
			default:
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("export = %d, want 403", resp.StatusCode)
				}
			}
		})
	}
}

// TestAuditPageFiltersAndLinks: filters narrow the list, keep their values
// in the form and in the pager and export links; bad input is shown next to
// its field with 422; targets link to their pages.
func TestAuditPageFiltersAndLinks(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	resp, body := w.auditor.Get(t, "/audit?action=request.created&team=alpha")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	d := testkit.Doc(t, body)
	rows := d.Find(`[data-testid="audit-event"]`)
	if rows.Length() != 1 || rows.AttrOr("data-action", "") != audit.RequestCreated {
		t.Fatalf("%d rows for action=request.created&team=alpha, want alice's request", rows.Length())
	}
	if href := rows.Find(`[data-testid="audit-target"]`).AttrOr("href", ""); href != "/requests/100" {
		t.Errorf("target link %q", href)
	}
	if !strings.Contains(rows.Text(), "alpha") || !strings.Contains(rows.Text(), "dropped table") {
		t.Errorf("row shows %q: want the team name and the details", rows.Text())
	}
	if v := d.Find(`#action option[selected]`).AttrOr("value", ""); v != audit.RequestCreated {
		t.Errorf("selected action %q", v)
	}
	if href := d.Find(`[data-testid="export-csv"]`).AttrOr("href", ""); !strings.Contains(href, "action=request.created") ||
		!strings.Contains(href, "team=alpha") || !strings.Contains(href, "format=csv") {
		t.Errorf("export link %q does not keep the filters", href)
	}

	// A user target links to the user's admin page.
	_, body = w.admin.Get(t, "/audit?action=admin.user_created&actor=system")
	href := testkit.Doc(t, body).Find(`[data-testid="audit-target"]`).First().AttrOr("href", "")
	if !strings.HasPrefix(href, "/admin/users/") {
		t.Errorf("user target link %q", href)
	}

	resp, body = w.auditor.Get(t, "/audit?from=yesterday&team=nosuchteam&action=request.exploded&target_id=5&actor=alice")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad filters: status %d, want 422", resp.StatusCode)
	}
	d = testkit.Doc(t, body)
	for _, field := range []string{"from", "team", "action", "target_id"} {
		if d.Find(`[data-testid="error-`+field+`"]`).Length() != 1 {
			t.Errorf("no error shown next to %s", field)
		}
	}
	if v := d.Find(`#actor`).AttrOr("value", ""); v != "alice" {
		t.Errorf("actor input lost: %q", v)
	}

	// Times typed without an offset are the viewer's (here the default,
	// Beijing time), as the page shows its times; the export link carries
	// the same moments in UTC.
	_, body = w.auditor.Get(t, "/audit?from=2026-03-01T10:00&to=2026-03-02T08:00:00")
	d = testkit.Doc(t, body)
	if hint := d.Find("#from-hint").Text(); !strings.Contains(hint, "Asia/Shanghai") {
		t.Errorf("the From hint %q does not name the viewer's zone", hint)
	}
	if href := d.Find(`[data-testid="export-csv"]`).AttrOr("href", ""); !strings.Contains(href, "from=2026-03-01T02%3A00%3A00Z") ||
		!strings.Contains(href, "to=2026-03-02T00%3A00%3A00Z") {
		t.Errorf("export link %q: want from and to in UTC", href)
	}

	// Pages of 50, newest first, with working links both ways.
	for i := range 60 {
		err := pgx.BeginFunc(t.Context(), w.s.Pool, func(tx pgx.Tx) error {
			_, err := audit.Record(t.Context(), tx, audit.Event{Actor: audit.System, Action: audit.JDCloudCall,
				TargetType: audit.TargetRequest, TargetID: fmt.Sprint(i), TeamID: w.alpha})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, body = w.leadA.Get(t, "/audit?action=jdcloud.call")
	d = testkit.Doc(t, body)
	older := d.Find(`[data-testid="pager"] a[rel="next"]`).AttrOr("href", "")
	if d.Find(`[data-testid="audit-event"]`).Length() != 50 || older == "" {
		t.Fatalf("first page: %d events, older link %q", d.Find(`[data-testid="audit-event"]`).Length(), older)
	}
	_, body = w.leadA.Get(t, older)
	d = testkit.Doc(t, body)
	if n := d.Find(`[data-testid="audit-event"]`).Length(); n != 11 { // 60 + the seeded call
		t.Errorf("second page: %d events, want 11", n)
	}
	newer := d.Find(`[data-testid="pager"] a[rel="prev"]`).AttrOr("href", "")
	if u, _ := url.Parse(newer); u == nil || u.Query().Get("action") != audit.JDCloudCall || u.Query().Get("after") == "" {
		t.Errorf("newer link %q", newer)
	}
}

// TestAuditExportHTTP: the CSV download is an attachment with the documented
// columns and only the filtered events, and the export is on record first.
func TestAuditExportHTTP(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	resp, body := w.auditor.Get(t, "/audit/export?format=csv&action=request.created")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="restoredesk-audit-`) || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(records[0], audit.CSVColumns) || len(records) != 3 {
		t.Fatalf("header %v and %d rows, want the columns and alice's and carol's requests", records[0], len(records)-1)
	}
	for _, r := range records[1:] {
		if r[6] != audit.RequestCreated {
			t.Errorf("row with action %q in an export of request.created", r[6])
		}
	}
	var details string
	err = w.s.Pool.QueryRow(t.Context(), `SELECT details::text FROM audit_events WHERE action = 'audit.exported' AND actor_name = 'ada'`).Scan(&details)
	if err != nil || !strings.Contains(details, `"format": "csv"`) || !strings.Contains(details, `"action": "request.created"`) {
		t.Errorf("export event details %s (%v)", details, err)
	}
	// Another site sending the auditor's browser to the export gets a
	// refusal, and no export is recorded in the auditor's name.
	before := countEvents(t, w.s.Pool, "audit.exported")
	for _, site := range []string{"cross-site", "same-site"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, w.s.URL+"/audit/export?format=csv", nil)
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		if resp, _ := w.auditor.Do(t, req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("export navigated to from a %s page = %d, want 403", site, resp.StatusCode)
		}
	}
	for _, site := range []string{"same-origin", "none"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, w.s.URL+"/audit/export?format=csv", nil)
		req.Header.Set("Sec-Fetch-Site", site)
		if resp, _ := w.auditor.Do(t, req); resp.StatusCode != http.StatusOK {
			t.Errorf("export with Sec-Fetch-Site %s = %d, want 200", site, resp.StatusCode)
		}
	}
	if got := countEvents(t, w.s.Pool, "audit.exported") - before; got != 2 {
		t.Errorf("%d exports recorded, want the 2 allowed ones", got)
	}
	for _, bad := range []string{"/audit/export", "/audit/export?format=xml", "/audit/export?format=csv&from=soon"} {
		if resp, _ := w.auditor.Get(t, bad); resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("GET %s = %d, want a 4xx", bad, resp.StatusCode)
		}
	}
}
