package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"restoredesk/internal/testkit"
)

// listWorld is two teams with their people and a few requests:
// payments (eng, lead, lead2) and search (seng, slead), an auditor, an admin
// and someone in no team.
type listWorld struct {
	s        *testkit.Server
	payments int64
	search   int64
}

func newListWorld(t *testing.T) *listWorld {
	t.Helper()
	s := testkit.Start(t, testkit.Options{})
	for _, u := range []testkit.User{
		{Username: "eng", Teams: map[string]bool{"payments": false}},
		{Username: "lead", Teams: map[string]bool{"payments": true}},
		{Username: "lead2", Teams: map[string]bool{"payments": true}},
		{Username: "seng", Teams: map[string]bool{"search": false}},
		{Username: "slead", Teams: map[string]bool{"search": true}},
		{Username: "auditor", Auditor: true},
		{Username: "admin", Admin: true},
		{Username: "nobody"},
	} {
		s.CreateUser(t, u)
	}
	return &listWorld{s: s, payments: s.GrantSeedOwnership(t, "payments"), search: s.GrantSeedOwnership(t, "search")}
}

// submitMany files n requests as username through one signed-in client and
// returns their ids in the order filed.
func (w *listWorld) submitMany(t *testing.T, username, team, source string, n int) []int64 {
	t.Helper()
	c := w.s.SignInAs(t, username)
	var ids []int64
	for range n {
		resp, body := c.PostForm(t, "/requests", w.s.RequestForm(t, username, team, source))
		loc := resp.Header.Get("Location")
		id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/requests/"), 10, 64)
		if resp.StatusCode != http.StatusSeeOther || err != nil {
			t.Fatalf("submit as %s: %d %s\n%s\n%s", username, resp.StatusCode, loc, body, w.s.Logs)
		}
		ids = append(ids, id)
		c.Get(t, loc) // as a browser does; shows (and so clears) the flash the cookie carries
	}
	return ids
}

// listedIDs returns the request ids of the rows under sel, in page order.
func listedIDs(t *testing.T, d *goquery.Document, sel string) []int64 {
	t.Helper()
	var ids []int64
	d.Find(sel + ` [data-testid="request-row"]`).Each(func(_ int, r *goquery.Selection) {
		id, err := strconv.ParseInt(r.AttrOr("data-id", ""), 10, 64)
		if err != nil {
			t.Fatalf("row without id: %v", err)
		}
		ids = append(ids, id)
	})
	return ids
}

// getPage fetches path as c and wants status.
func getPage(t *testing.T, c *testkit.Client, path string, status int) *goquery.Document {
	t.Helper()
	resp, body := c.Get(t, path)
	if resp.StatusCode != status {
		t.Fatalf("GET %s = %d, want %d\n%s", path, resp.StatusCode, status, body)
	}
	return testkit.Doc(t, body)
}

func sorted(ids []int64, desc bool) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	if desc {
		slices.Reverse(out)
	}
	return out
}

func TestRequestHistoryVisibility(t *testing.T) {
	t.Parallel()
	w := newListWorld(t)
	pay := w.submitMany(t, "eng", "payments", "mysql-payorders1", 2)
	srch := w.submitMany(t, "seng", "search", "mysql-srchindex1", 1)
	all := append(slices.Clone(pay), srch...)
	for _, tc := range []struct {
		user string
		want []int64
	}{
		{"eng", pay},
		{"lead", pay},
		{"seng", srch},
		{"slead", srch},
		{"auditor", all},
		{"admin", all},
		{"nobody", nil},
	} {
		t.Run(tc.user, func(t *testing.T) {
			d := getPage(t, w.s.SignInAs(t, tc.user), "/requests", http.StatusOK)
			got := listedIDs(t, d, `[data-testid="request-table"]`)
			if want := sorted(tc.want, true); !slices.Equal(got, want) {
				t.Errorf("%s sees %v, want %v (newest first)", tc.user, got, want)
			}
			if len(tc.want) == 0 && d.Find(`[data-testid="empty"]`).Length() != 1 {
				t.Errorf("%s: no empty state", tc.user)
			}
			if len(tc.want) > 0 {
				if b := d.Find(`[data-testid="request-row"] [data-testid="badge"]`).First().Text(); b != "Pending approval" {
					t.Errorf("status shown as %q, want the words", b)
				}
			}
			// Every filter has a visible label.
			d.Find(`[data-testid="request-filters"] select, [data-testid="request-filters"] input`).Each(func(_ int, in *goquery.Selection) {
				id := in.AttrOr("id", "")
				if id == "" || d.Find(`label[for="`+id+`"]`).Length() != 1 {
					t.Errorf("filter %q has no label", in.AttrOr("name", ""))
				}
			})
		})
	}
	// Another team's team filter is refused rather than silently ignored.
	resp, body := w.s.SignInAs(t, "eng").Get(t, "/requests?team="+strconv.FormatInt(w.search, 10))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose one of the teams") {
		t.Errorf("team filter for another team: %d", resp.StatusCode)
	}
}

func TestRequestHistoryFiltersAndPaging(t *testing.T) {
	t.Parallel()
	w := newListWorld(t)
	ids := w.submitMany(t, "eng", "payments", "mysql-payorders1", 27)
	byLead := w.submitMany(t, "lead", "payments", "pg-payledger1", 1)
	cancelled := ids[3]
	eng := w.s.SignInAs(t, "eng")
	if resp, _ := eng.PostForm(t, "/requests/"+strconv.FormatInt(cancelled, 10)+"/cancel", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}

	t.Run("paging", func(t *testing.T) {
		aud := w.s.SignInAs(t, "auditor")
		var seen []int64
		path := "/requests?requester=eng"
		pages := 0
		for path != "" {
			d := getPage(t, aud, path, http.StatusOK)
			seen = append(seen, listedIDs(t, d, "")...)
			path = d.Find(`[data-testid="pager"] a[rel="next"]`).AttrOr("href", "")
			// The filter names eng by id, as its select does.
			if path != "" && !strings.Contains(path, "requester="+d.Find(`#requester option[selected]`).AttrOr("value", "none")) {
				t.Errorf("next link %q drops the filter", path)
			}
			pages++
		}
		if want := sorted(ids, true); !slices.Equal(seen, want) {
			t.Errorf("pages show %v, want %v", seen, want)
		}
		if pages != 2 {
			t.Errorf("%d pages, want 2 (25 a page)", pages)
		}
		// Back from the second page is the first page again.
		first := getPage(t, aud, "/requests?requester=eng", http.StatusOK)
		second := getPage(t, aud, first.Find(`a[rel="next"]`).AttrOr("href", ""), http.StatusOK)
		back := getPage(t, aud, second.Find(`a[rel="prev"]`).AttrOr("href", ""), http.StatusOK)
		if got, want := listedIDs(t, back, ""), listedIDs(t, first, ""); !slices.Equal(got, want) {
			t.Errorf("previous page %v, want the first page %v", got, want)
		}
		if back.Find(`a[rel="prev"]`).Length() != 0 {
			t.Error("the first page links to a previous page")
		}
		// Each page says where it is in the list.
		n := strconv.Itoa(len(ids))
		if r := first.Find(`[data-testid="list-range"]`).Text(); r != "1–25 of "+n {
			t.Errorf("first page says %q", r)
		}
		if r := second.Find(`[data-testid="list-range"]`).Text(); r != "26–"+n+" of "+n {
			t.Errorf("second page says %q", r)
		}
	})

	// Days are the viewer's: here the default zone, Beijing time.
	now := time.Now().In(beijing)
	today := now.Format(time.DateOnly)
	yesterday := now.AddDate(0, 0, -1).Format(time.DateOnly)
	for _, tc := range []struct {
		name, query string
		want        []int64
	}{
		{"status", "status=cancelled", []int64{cancelled}},
		{"requester", "requester=lead", byLead},
		{"requester any case", "requester=LEAD", byLead},
		{"team", "team=" + strconv.FormatInt(w.payments, 10) + "&requester=lead", byLead},
		{"region without requests", "region=cn-east-2", nil},
		{"created today", "from=" + today + "&to=" + today + "&requester=lead", byLead},
		{"created before today", "to=" + yesterday, nil},
		{"created from tomorrow", "from=" + now.AddDate(0, 0, 1).Format(time.DateOnly), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := getPage(t, w.s.SignInAs(t, "lead2"), "/requests?"+tc.query, http.StatusOK)
			got := listedIDs(t, d, "")
			if len(tc.want) > 0 || len(got) > 0 {
				if !slices.Equal(got, sorted(tc.want, true)) {
					t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
				}
			}
			if len(tc.want) == 0 && !strings.Contains(d.Find(`[data-testid="empty"]`).Text(), "matches these filters") {
				t.Errorf("%s: no filtered empty state", tc.query)
			}
			// The form keeps what was typed.
			q, _ := url.ParseQuery(tc.query)
			for k := range q {
				if v := d.Find(`[name="`+k+`"]`).AttrOr("value", ""); k != "status" && k != "team" && k != "region" && k != "requester" && v != q.Get(k) {
					t.Errorf("%s: field %s shows %q", tc.query, k, v)
				}
				// The requester is a choice of people by name.
				if sel := d.Find(`#requester option[selected]`).Text(); k == "requester" && !strings.Contains(strings.ToLower(sel), q.Get(k)) && !strings.Contains(sel, "("+strings.ToLower(q.Get(k))+")") {
					t.Errorf("%s: requester shows %q", tc.query, sel)
				}
			}
		})
	}

	for _, tc := range []struct{ query, field, msg string }{
		{"status=bogus", "status", "Choose a status"},
		{"region=mars-1", "region", "Choose a region"},
		{"from=yesterday", "from", "Enter a date"},
		{"from=" + today + "&to=" + yesterday, "to", "on or after"},
	} {
		d := getPage(t, w.s.SignInAs(t, "eng"), "/requests?"+tc.query, http.StatusUnprocessableEntity)
		if got := d.Find(`[data-testid="error-` + tc.field + `"]`).Text(); !strings.Contains(got, tc.msg) {
			t.Errorf("%s: error next to %s is %q, want %q", tc.query, tc.field, got, tc.msg)
		}
		if d.Find(`[data-testid="filters-invalid"]`).Length() != 1 || d.Find(`[data-testid="empty"]`).Length() != 0 {
			t.Errorf("%s: a refused filter should say so, not that nothing matches", tc.query)
		}
	}
}

var beijing, _ = time.LoadLocation("Asia/Shanghai")

// TestRequestHistoryDaysAreTheViewers: a request created at 17:00 UTC is
// created the next day in Beijing; the date filters and the listed time
// follow the viewer's zone, with UTC on hover.
func TestRequestHistoryDaysAreTheViewers(t *testing.T) {
	t.Parallel()
	w := newListWorld(t)
	id := w.submitMany(t, "eng", "payments", "mysql-payorders1", 1)[0]
	if _, err := w.s.Pool.Exec(t.Context(), `UPDATE restore_requests SET created_at = '2026-03-01 17:00:00+00' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	w.s.CreateUser(t, testkit.User{Username: "utclead", Teams: map[string]bool{"payments": true}})
	utc := w.s.SignInAs(t, "utclead")
	if resp, _ := utc.PostForm(t, "/account/time-zone", url.Values{"time_zone": {"UTC"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set UTC = %d", resp.StatusCode)
	}
	for _, tc := range []struct {
		viewer   *testkit.Client
		zone     string
		day      string // the day the request was created on, in the viewer's zone
		otherDay string
		shown    string
	}{
		{w.s.SignInAs(t, "lead2"), "Asia/Shanghai", "2026-03-02", "2026-03-01", "2026-03-02 01:00:00 +08:00"},
		{utc, "UTC", "2026-03-01", "2026-03-02", "2026-03-01 17:00:00 UTC"},
	} {
		d := getPage(t, tc.viewer, "/requests?from="+tc.day+"&to="+tc.day, http.StatusOK)
		if got := listedIDs(t, d, ""); !slices.Equal(got, []int64{id}) {
			t.Errorf("%s, created on %s: listed %v, want [%d]", tc.zone, tc.day, got, id)
		}
		if got := d.Find("#from-hint").Text(); !strings.Contains(got, tc.zone) {
			t.Errorf("%s: the date's hint %q does not name the zone", tc.zone, got)
		}
		cell := d.Find(`[data-testid=request-row] time`).First()
		if cell.Text() != tc.shown || cell.AttrOr("title", "") != "2026-03-01 17:00:00 UTC" {
			t.Errorf("%s: created shown as %q (hover %q), want %q with UTC on hover", tc.zone, cell.Text(), cell.AttrOr("title", ""), tc.shown)
		}
		d = getPage(t, tc.viewer, "/requests?from="+tc.otherDay+"&to="+tc.otherDay, http.StatusOK)
		if got := listedIDs(t, d, ""); len(got) != 0 {
			t.Errorf("%s, created on %s: listed %v, want none", tc.zone, tc.otherDay, got)
		}
	}
}

func TestApprovalsQueue(t *testing.T) {
	t.Parallel()
	w := newListWorld(t)
	engs := w.submitMany(t, "eng", "payments", "mysql-payorders1", 27)
	own := w.submitMany(t, "lead", "payments", "pg-payledger1", 1)
	srch := w.submitMany(t, "seng", "search", "mysql-srchindex1", 1)

	queue := func(t *testing.T, user string) (decide, mine []int64) {
		t.Helper()
		c := w.s.SignInAs(t, user)
		path := "/approvals"
		for path != "" {
			d := getPage(t, c, path, http.StatusOK)
			decide = append(decide, listedIDs(t, d, `[data-testid="approvals-decide"]`)...)
			if mine == nil {
				mine = listedIDs(t, d, `[data-testid="approvals-own"]`)
			}
			path = d.Find(`[data-testid="approvals-decide"] a[rel="next"]`).AttrOr("href", "")
		}
		return decide, mine
	}

	// lead decides the others' requests, oldest first, over two pages; their
	// own waits apart for another lead.
	decide, mine := queue(t, "lead")
	if want := sorted(engs, false); !slices.Equal(decide, want) {
		t.Errorf("lead's queue %v, want %v", decide, want)
	}
	if !slices.Equal(mine, own) {
		t.Errorf("lead's own waiting requests %v, want %v", mine, own)
	}
	// lead2 may decide all of payments'.
	decide, mine = queue(t, "lead2")
	if want := sorted(append(slices.Clone(engs), own...), false); !slices.Equal(decide, want) || len(mine) != 0 {
		t.Errorf("lead2's queue %v (own %v), want %v", decide, mine, want)
	}
	// The search lead sees search's only.
	if decide, _ = queue(t, "slead"); !slices.Equal(decide, srch) {
		t.Errorf("slead's queue %v, want %v", decide, srch)
	}
	// A decided request leaves the queue; the rows link to the request page.
	first := engs[0]
	d := getPage(t, w.s.SignInAs(t, "lead2"), "/approvals", http.StatusOK)
	if href := d.Find(`[data-testid="request-row"] a`).First().AttrOr("href", ""); href != "/requests/"+strconv.FormatInt(first, 10) {
		t.Errorf("first row links to %q", href)
	}
	if d.Find(`[data-testid="time-left"]`).First().Text() == "" {
		t.Error("no time left shown")
	}
	if resp, _ := w.s.SignInAs(t, "lead2").PostForm(t, "/requests/"+strconv.FormatInt(first, 10)+"/approve", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	if decide, _ = queue(t, "lead"); slices.Contains(decide, first) || len(decide) != len(engs)-1 {
		t.Errorf("after approval lead's queue has %d requests (approved one there: %v)", len(decide), slices.Contains(decide, first))
	}
	// Not a lead: no queue.
	for _, u := range []string{"eng", "auditor", "admin"} {
		getPage(t, w.s.SignInAs(t, u), "/approvals", http.StatusForbidden)
	}
}

func TestDashboardRequestSections(t *testing.T) {
	t.Parallel()
	w := newListWorld(t)
	engReq := w.submitMany(t, "eng", "payments", "mysql-payorders1", 1)
	w.submitMany(t, "seng", "search", "mysql-srchindex1", 1)

	// The engineer: their request with its status, no decision section, the
	// team's activity.
	d := getPage(t, w.s.SignInAs(t, "eng"), "/", http.StatusOK)
	if got := listedIDs(t, d, `[data-testid="dash-mine"]`); !slices.Equal(got, engReq) {
		t.Errorf("eng's requests on the dashboard: %v, want %v", got, engReq)
	}
	if b := d.Find(`[data-testid="dash-mine"] [data-testid="badge"]`).Text(); b != "Pending approval" {
		t.Errorf("status %q", b)
	}
	if d.Find(`[data-testid="dash-waiting"]`).Length() != 0 {
		t.Error("an engineer sees a decision section")
	}
	activity := func(d *goquery.Document) (actions []string, targets []string) {
		d.Find(`[data-testid="activity-event"]`).Each(func(_ int, e *goquery.Selection) {
			actions = append(actions, e.AttrOr("data-action", ""))
			targets = append(targets, e.Find("a").AttrOr("href", ""))
		})
		return actions, targets
	}
	acts, targets := activity(d)
	if !slices.Equal(acts, []string{"request.created"}) || targets[0] != "/requests/"+strconv.FormatInt(engReq[0], 10) {
		t.Errorf("eng's activity: %v %v, want their team's request.created only", acts, targets)
	}

	// The lead: one request waits for their decision.
	d = getPage(t, w.s.SignInAs(t, "lead"), "/", http.StatusOK)
	if n := d.Find(`[data-testid="waiting-count"]`).Text(); n != "1" {
		t.Errorf("waiting count %q, want 1", n)
	}
	if got := listedIDs(t, d, `[data-testid="dash-waiting"]`); !slices.Equal(got, engReq) {
		t.Errorf("waiting: %v", got)
	}
	if d.Find(`[data-testid="dash-waiting"] a[href="/approvals"]`).Length() != 1 {
		t.Error("no link to the approvals queue")
	}
	if d.Find(`[data-testid="dash-mine"] [data-testid="empty"]`).Length() != 1 {
		t.Error("lead has no requests of their own: want the empty state")
	}

	// The requester who leads: their own request does not wait for them.
	w.submitMany(t, "lead", "payments", "pg-payledger1", 1)
	d = getPage(t, w.s.SignInAs(t, "lead"), "/", http.StatusOK)
	if n := d.Find(`[data-testid="waiting-count"]`).Text(); n != "1" {
		t.Errorf("after filing their own, lead's waiting count is %q, want 1", n)
	}

	// The admin's activity is what happened to requests, not the
	// administration around them (the users created, the sign-ins), and it
	// names people instead of linking to pages.
	d = getPage(t, w.s.SignInAs(t, "admin"), "/", http.StatusOK)
	acts, targets = activity(d)
	if len(acts) != 3 || slices.ContainsFunc(acts, func(a string) bool { return !strings.HasPrefix(a, "request.") }) {
		t.Errorf("admin's activity: %v, want the 3 requests' creation only", acts)
	}
	for _, href := range targets {
		if !strings.HasPrefix(href, "/requests/") {
			t.Errorf("activity links to %q", href)
		}
	}
	if s := d.Find(`[data-testid="activity-event"]`).First().Text(); !strings.Contains(s, "filed the request") {
		t.Errorf("activity reads %q", s)
	}
	if d.Find(`[data-testid="dash-activity"] a[href="/audit"]`).Length() != 1 {
		t.Error("no link to the audit log for the admin")
	}
	// Someone in no team sees nothing of anyone's requests.
	d = getPage(t, w.s.SignInAs(t, "nobody"), "/", http.StatusOK)
	if acts, _ = activity(d); len(acts) != 0 {
		t.Errorf("nobody's activity: %v", acts)
	}
}
