package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"restoredesk/internal/testkit"
)

// userZone reads the zone stored for username.
func userZone(t *testing.T, s *testkit.Server, username string) string {
	t.Helper()
	var z string
	if err := s.Pool.QueryRow(t.Context(), `SELECT time_zone FROM users WHERE username = $1`, username).Scan(&z); err != nil {
		t.Fatal(err)
	}
	return z
}

func TestAccountTimeZone(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "alice"})
	alice := s.SignInAs(t, "alice")

	cases := []struct {
		name, zone string
		status     int
		stored     string // what users.time_zone holds afterwards
		err        string // the message at the field, for a refusal
		changes    int    // admin.user_updated events recorded so far
	}{
		{name: "a common zone", zone: "Asia/Shanghai", status: http.StatusSeeOther, stored: "Asia/Shanghai", changes: 1},
		{name: "the same zone again records nothing", zone: "Asia/Shanghai", status: http.StatusSeeOther, stored: "Asia/Shanghai", changes: 1},
		{name: "a zone of the full list", zone: "America/Argentina/Salta", status: http.StatusSeeOther, stored: "America/Argentina/Salta", changes: 2},
		{name: "not a zone", zone: "Mars/Olympus_Mons", status: http.StatusUnprocessableEntity, stored: "America/Argentina/Salta",
			err: "Choose a time zone from the list", changes: 2},
		{name: "the machine's own zone is not a zone", zone: "Local", status: http.StatusUnprocessableEntity, stored: "America/Argentina/Salta",
			err: "Choose a time zone from the list", changes: 2},
		{name: "a path is not a zone", zone: "../../etc/passwd", status: http.StatusUnprocessableEntity, stored: "America/Argentina/Salta",
			err: "Choose a time zone from the list", changes: 2},
		{name: "UTC", zone: "UTC", status: http.StatusSeeOther, stored: "UTC", changes: 3},
		{name: "back to the browser's zone", zone: "", status: http.StatusSeeOther, stored: "", changes: 4},
	}
	for _, tc := range cases {
		resp, body := alice.PostForm(t, "/account/time-zone", url.Values{"time_zone": {tc.zone}})
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: POST = %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		if got := userZone(t, s, "alice"); got != tc.stored {
			t.Errorf("%s: stored %q, want %q", tc.name, got, tc.stored)
		}
		if n := countEvents(t, s.Pool, "admin.user_updated"); n != tc.changes {
			t.Errorf("%s: admin.user_updated events = %d, want %d", tc.name, n, tc.changes)
		}
		if tc.err == "" {
			continue
		}
		doc := testkit.Doc(t, body)
		if got := doc.Find("[data-testid=error-time_zone]").Text(); !strings.Contains(got, tc.err) {
			t.Errorf("%s: message at the field = %q, want %q", tc.name, got, tc.err)
		}
		if got, _ := doc.Find("#time_zone option[selected]").Attr("value"); got != tc.zone {
			t.Errorf("%s: the form shows %q, want what was typed, %q", tc.name, got, tc.zone)
		}
		if v, _ := doc.Find("#time_zone").Attr("aria-invalid"); v != "true" {
			t.Errorf("%s: the select is not marked invalid", tc.name)
		}
	}

	var by, from, to string
	if err := s.Pool.QueryRow(t.Context(), `
		SELECT details->>'by', details->'changes'->'time_zone'->>'from', details->'changes'->'time_zone'->>'to'
		FROM audit_events WHERE action = 'admin.user_updated' ORDER BY seq LIMIT 1`).Scan(&by, &from, &to); err != nil {
		t.Fatal(err)
	}
	if by != "self" || from != "" || to != "Asia/Shanghai" {
		t.Errorf("first change recorded by=%q from=%q to=%q, want self, \"\", Asia/Shanghai", by, from, to)
	}
}

// The zone rule as a page shows it: the setting wins over the browser's
// cookie, the cookie over the default (Asia/Shanghai).
func TestAccountTimeZoneDecidesThePagesZone(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "alice"})
	alice := s.SignInAs(t, "alice")
	zoneNow := func() string {
		_, body := alice.Get(t, "/account")
		return testkit.Doc(t, body).Find("[data-testid=time-zone-now]").Text()
	}
	if got := zoneNow(); !strings.Contains(got, "times in Asia/Shanghai,") {
		t.Errorf("without setting or cookie: %q, want the default, Asia/Shanghai", got)
	}
	u, _ := url.Parse(s.URL)
	cookies := append(alice.Cookies(), &http.Cookie{Name: "tz", Value: "Asia/Tokyo", Path: "/", Domain: u.Hostname()})
	alice.SetCookies(cookies)
	if got := zoneNow(); !strings.Contains(got, "times in Asia/Tokyo,") {
		t.Errorf("with the browser's cookie: %q, want Asia/Tokyo", got)
	}
	_, body := alice.Get(t, "/account")
	if got := testkit.Doc(t, body).Find(`#time_zone option[value=""]`).Text(); !strings.Contains(got, "Asia/Tokyo") {
		t.Errorf("browser option = %q, want it to name Asia/Tokyo", got)
	}
	if resp, _ := alice.PostForm(t, "/account/time-zone", url.Values{"time_zone": {"Europe/Berlin"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save = %d", resp.StatusCode)
	}
	if got := zoneNow(); !strings.Contains(got, "times in Europe/Berlin,") {
		t.Errorf("with a setting and the cookie: %q, want Europe/Berlin", got)
	}
}

func TestAccountListsSessions(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	alice := s.CreateUser(t, testkit.User{Username: "alice"})
	s.CreateUser(t, testkit.User{Username: "bob"})
	laptop := s.SignInAs(t, "alice")
	phone := s.SignInAs(t, "alice")
	bob := s.SignInAs(t, "bob")

	_, body := laptop.Get(t, "/account")
	doc := testkit.Doc(t, body)
	rows := doc.Find("[data-testid=session]")
	if rows.Length() != 2 {
		t.Fatalf("sessions listed = %d, want 2", rows.Length())
	}
	if n := doc.Find("[data-testid=session][data-current] [data-testid=this-session]").Length(); n != 1 {
		t.Errorf("sessions marked as this one = %d, want 1", n)
	}
	if got := doc.Find("[data-testid=session-count]").Text(); !strings.Contains(got, "in 2 places") {
		t.Errorf("count = %q, want 2 places", got)
	}
	if got := rows.First().Find("time").Length(); got != 2 {
		t.Errorf("times per session = %d, want started and last seen", got)
	}
	if got := rows.First().Text(); !strings.Contains(got, "127.0.0.1") {
		t.Errorf("session row %q does not show the address", got)
	}

	// The other session's sign-out ends that session only.
	other := doc.Find("[data-testid=session]:not([data-current]) form")
	action, _ := other.Attr("action")
	if !strings.HasPrefix(action, "/account/sessions/") {
		t.Fatalf("other session's sign-out posts to %q", action)
	}
	// Someone else cannot end it.
	if resp, _ := bob.PostForm(t, action, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's POST = %d, want 303 (nothing happens)", resp.StatusCode)
	}
	wantSignedIn(t, phone, "alice")
	if n := countEvents(t, s.Pool, "auth.sign_out"); n != 0 {
		t.Errorf("auth.sign_out after bob's attempt = %d, want 0", n)
	}

	resp, _ := laptop.PostForm(t, action, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Fatalf("sign out the phone = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	wantSignedOut(t, phone)
	wantSignedIn(t, laptop, "alice")
	wantSignedIn(t, bob, "bob")
	if n := countSessions(t, s.Pool, alice); n != 1 {
		t.Errorf("alice's sessions = %d, want 1", n)
	}
	var scope string
	if err := s.Pool.QueryRow(t.Context(), `SELECT details->>'scope' FROM audit_events WHERE action = 'auth.sign_out'`).Scan(&scope); err != nil {
		t.Fatal(err)
	}
	if scope != "one session" {
		t.Errorf("recorded scope %q, want one session", scope)
	}

	// Again: that session has already ended, nothing more is recorded.
	resp, _ = laptop.PostForm(t, action, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("second sign-out = %d, want 303", resp.StatusCode)
	}
	if n := countEvents(t, s.Pool, "auth.sign_out"); n != 1 {
		t.Errorf("auth.sign_out events = %d, want 1", n)
	}
	// A made-up handle is not found.
	if resp, _ := laptop.PostForm(t, "/account/sessions/zz/signout", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("garbage handle = %d, want 404", resp.StatusCode)
	}

	// This session's own sign-out is the ordinary one, behind its confirmation.
	_, body = laptop.Get(t, "/account")
	if got, _ := testkit.Doc(t, body).Find("[data-testid=session][data-current] details form").Attr("action"); got != "/signout" {
		t.Errorf("this session signs out through %q, want /signout", got)
	}
}

// TestTimeZoneScriptIsServed: every page loads the script that reports the
// browser's zone from the site's own static files (the Content-Security-Policy
// allows no inline script), and sets no zone itself.
func TestTimeZoneScriptIsServed(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	resp, body := s.Get(t, "/signin")
	src, ok := testkit.Doc(t, body).Find(`script[src^="/static/js/timezone.js"]`).Attr("src")
	if !ok {
		t.Fatal("the sign-in page does not load static/js/timezone.js")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "tz" {
			t.Errorf("the server set the zone cookie itself: %v", ck)
		}
	}
	resp, js := s.Get(t, src)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") ||
		!strings.Contains(js, "resolvedOptions().timeZone") || !strings.Contains(js, "SameSite=Lax") {
		t.Errorf("GET %s = %d %q", src, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
