package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/identity"
	"restoredesk/internal/testkit"
)

// countEvents returns how many audit events with action exist.
func countEvents(t *testing.T, pool *pgxpool.Pool, action string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func countSessions(t *testing.T, pool *pgxpool.Pool, user int64) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM sessions WHERE user_id = $1`, user).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantSignedOut asserts c is treated as anonymous: pages send it to sign in.
func wantSignedOut(t *testing.T, c *testkit.Client) {
	t.Helper()
	resp, _ := c.Get(t, "/account")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Faccount" {
		t.Errorf("GET /account = %d → %q, want 303 → /signin?next=%%2Faccount", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func wantSignedIn(t *testing.T, c *testkit.Client, name string) {
	t.Helper()
	resp, body := c.Get(t, "/account")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /account = %d, want 200", resp.StatusCode)
	}
	if got := testkit.Doc(t, body).Find("[data-testid=account-username]").Text(); got != name {
		t.Errorf("signed in as %q, want %q", got, name)
	}
}

func TestSignInStartsANewSession(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	alice := s.CreateUser(t, testkit.User{Username: "alice", Teams: map[string]bool{"payments": false}})

	c := s.NewClient(t)
	c.Get(t, "/signin") // an anonymous cookie may exist before sign-in
	resp, body := c.PostForm(t, "/signin", url.Values{"username": {"alice"}, "password": {testkit.Password}, "next": {"/account"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Fatalf("sign in = %d → %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	first := sessionCookies(c)
	wantSignedIn(t, c, "alice")

	// Signing in again, with the first session's cookie, gets a new session id.
	resp, _ = c.PostForm(t, "/signin", url.Values{"username": {"alice"}, "password": {testkit.Password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign in = %d", resp.StatusCode)
	}
	second := sessionCookies(c)
	if len(first) != 1 || len(second) != 1 || first[0].Value == second[0].Value {
		t.Fatalf("cookie not replaced at sign-in: %v then %v", first, second)
	}
	// The session it replaced is over: a copy of the first cookie is refused.
	var live int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM sessions WHERE user_id = $1`, alice).Scan(&live)
	if live != 1 {
		t.Errorf("sessions of alice = %d, want 1 (the replaced one ended)", live)
	}
	old := s.NewClient(t)
	old.SetCookies(first)
	if resp, _ := old.Get(t, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the replaced session's cookie still works: %d", resp.StatusCode)
	}
	if n := countEvents(t, s.Pool, "auth.sign_in"); n != 2 {
		t.Errorf("auth.sign_in events = %d, want 2", n)
	}
	// The session table keeps only a hash of the id: the cookie's id is not in it.
	var plain int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM sessions WHERE encode(id_hash, 'escape') LIKE '%' || $1 || '%'`, second[0].Value[:16]).Scan(&plain)
	if plain != 0 {
		t.Error("session id stored in the clear")
	}
}

func TestSignOutEndsThatSessionOnly(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "alice"})
	laptop, phone := s.SignInAs(t, "alice"), s.SignInAs(t, "alice")
	stolen := laptop.Cookies()

	resp, _ := laptop.PostForm(t, "/signout", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Fatalf("sign out = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := laptop.Get(t, "/signin")
	if !strings.Contains(testkit.Doc(t, body).Find("[data-testid=flash]").Text(), "signed out") {
		t.Error("no 'signed out' message after sign-out")
	}
	wantSignedOut(t, laptop)

	// The cookie as it was before sign-out never works again.
	replay := s.NewClient(t)
	replay.SetCookies(stolen)
	wantSignedOut(t, replay)
	resp, _ = replay.PostForm(t, "/account/sessions/revoke", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST with a signed-out cookie = %d, want 401", resp.StatusCode)
	}

	wantSignedIn(t, phone, "alice") // the other session stays
	if n := countEvents(t, s.Pool, "auth.sign_out"); n != 1 {
		t.Errorf("auth.sign_out events = %d, want 1", n)
	}
}

func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	alice := s.CreateUser(t, testkit.User{Username: "alice"})
	s.CreateUser(t, testkit.User{Username: "bob"})
	s.CreateUser(t, testkit.User{Username: "erin", Admin: true})
	a1, a2, bob := s.SignInAs(t, "alice"), s.SignInAs(t, "alice"), s.SignInAs(t, "bob")

	_, body := a1.Get(t, "/account")
	if got := testkit.Doc(t, body).Find("[data-testid=session-count]").Text(); !strings.Contains(got, "in 2 places") {
		t.Errorf("account page says %q, want 2 places", got)
	}
	resp, _ := a1.PostForm(t, "/account/sessions/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Fatalf("sign out everywhere = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	wantSignedOut(t, a1)
	wantSignedOut(t, a2)
	wantSignedIn(t, bob, "bob")

	// An admin does the same for someone else.
	a3 := s.SignInAs(t, "alice")
	admin := s.SignInAs(t, "erin")
	resp, _ = admin.PostForm(t, "/admin/users/"+strconv.FormatInt(alice, 10)+"/sessions/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin revoke = %d", resp.StatusCode)
	}
	wantSignedOut(t, a3)
	wantSignedIn(t, admin, "erin")

	var details []string
	rows, _ := s.Pool.Query(t.Context(), `SELECT details->>'by' FROM audit_events WHERE action = 'auth.sessions_revoked' ORDER BY seq`)
	for rows.Next() {
		var d string
		rows.Scan(&d)
		details = append(details, d)
	}
	if strings.Join(details, ",") != "self,admin" {
		t.Errorf("auth.sessions_revoked by = %v, want [self admin]", details)
	}
}

// TestAccessChangesTakeEffectOnTheNextRequest changes a signed-in user's
// roles and memberships behind their back; each change shows on their next
// request, with no new sign-in.
func TestAccessChangesTakeEffectOnTheNextRequest(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	bob := s.CreateUser(t, testkit.User{Username: "bob", Auditor: true, Teams: map[string]bool{"payments": true}})
	payments := s.Team(t, "payments")
	s.CreateUser(t, testkit.User{Username: "erin", Admin: true})
	s.CreateUser(t, testkit.User{Username: "fay", Admin: true})
	admin, second := s.SignInAs(t, "erin"), s.SignInAs(t, "fay")
	c := s.SignInAs(t, "bob")
	nav := func() string {
		t.Helper()
		resp, body := c.Get(t, "/")
		if resp.StatusCode != http.StatusOK {
			return "status " + strconv.Itoa(resp.StatusCode)
		}
		var keys []string
		testkit.Doc(t, body).Find("[data-testid=nav] a").Each(func(_ int, a *goquery.Selection) {
			k, _ := a.Attr("data-testid")
			keys = append(keys, strings.TrimPrefix(k, "nav-"))
		})
		return strings.Join(keys, " ")
	}
	post := func(path string, form url.Values) {
		t.Helper()
		if resp, body := admin.PostForm(t, path, form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s = %d: %s", path, resp.StatusCode, body)
		}
	}
	team := "/admin/teams/" + strconv.FormatInt(payments, 10) + "/members/" + strconv.FormatInt(bob, 10)
	user := "/admin/users/" + strconv.FormatInt(bob, 10)
	steps := []struct {
		name    string
		change  func()
		wantNav string
	}{
		{"before", func() {}, "dashboard new approvals requests copies audit"},
		{"lead made member", func() { post(team+"/role", url.Values{"lead": {"false"}}) }, "dashboard new requests copies audit"},
		{"auditor role revoked", func() { post(user+"/roles", nil) }, "dashboard new requests copies"},
		{"membership removed", func() { post(team+"/remove", nil) }, "dashboard requests copies"},
		{"admin role asked for", func() { post(user+"/roles", url.Values{"admin": {"on"}}) }, "dashboard requests copies"},
		{"admin role confirmed by a second admin", func() {
			if resp, body := second.PostForm(t, user+"/admin/confirm", nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("confirm = %d: %s", resp.StatusCode, body)
			}
		}, "dashboard requests copies audit admin"},
		{"account disabled", func() { post(user+"/disable", nil) }, "status 303"},
	}
	for _, st := range steps {
		st.change()
		if got := nav(); got != st.wantNav {
			t.Errorf("%s: navigation = %q, want %q", st.name, got, st.wantNav)
		}
	}
	if countSessions(t, s.Pool, bob) != 0 {
		t.Error("disabling bob left sessions behind")
	}
	// A disabled account cannot sign in, with the same answer as a wrong password.
	resp, body := s.NewClient(t).PostForm(t, "/signin", url.Values{"username": {"bob"}, "password": {testkit.Password}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "The username or password is not right.") {
		t.Errorf("disabled sign-in = %d", resp.StatusCode)
	}
}

func TestSignInThrottling(t *testing.T) {
	t.Parallel()
	cfg := testkit.IdentityConfig()
	// Delays long enough that a slow machine (the race detector, a loaded
	// CI) still sends the fifth attempt inside the block.
	cfg.Throttle = identity.Throttle{AccountFree: 3, AddrFree: 6, Base: 3 * time.Second, Max: 6 * time.Second, Forget: time.Hour}
	s := testkit.Start(t, testkit.Options{Identity: cfg, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	s.CreateUser(t, testkit.User{Username: "alice"})

	attempt := func(from, username, password string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/signin",
			strings.NewReader(url.Values{"username": {username}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		resp, body := s.NewClient(t).Do(t, req)
		return resp.StatusCode, testkit.Doc(t, body).Find("[data-testid=error-username]").Text()
	}
	// The same sequence for a real account and an unknown one: three free
	// failures, the fourth blocks, then even the right password is held back.
	for _, username := range []string{"alice", "nobody"} {
		from := map[string]string{"alice": "203.0.113.1", "nobody": "203.0.113.2"}[username]
		var got []int
		for range 4 {
			code, msg := attempt(from, username, "wrong password!")
			if msg != "The username or password is not right." {
				t.Errorf("%s: failure message %q", username, msg)
			}
			got = append(got, code)
		}
		code, msg := attempt(from, username, testkit.Password)
		got = append(got, code)
		if want := []int{422, 422, 422, 422, 429}; !equalInts(got, want) {
			t.Errorf("%s: statuses %v, want %v", username, got, want)
		}
		if !strings.Contains(msg, "Too many failed sign-ins") {
			t.Errorf("%s: throttled message %q", username, msg)
		}
	}
	// Another address is not held back by these failures.
	if code, _ := attempt("203.0.113.3", "alice", testkit.Password); code != http.StatusSeeOther {
		t.Errorf("alice from another address = %d, want 303", code)
	}
	// No lockout: once the delay has passed, the right password works.
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _ := attempt("203.0.113.1", "alice", testkit.Password)
		if code == http.StatusSeeOther {
			break
		}
		if code != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("after the delay, sign-in = %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Each attempt that was checked and failed was recorded; throttled ones
	// are not recorded one by one: a block is recorded when it starts.
	if n := countEvents(t, s.Pool, "auth.sign_in_failed"); n != 8 {
		t.Errorf("auth.sign_in_failed events = %d, want 8 (the 422s)", n)
	}
	if n := countEvents(t, s.Pool, "auth.sign_in_blocked"); n < 2 {
		t.Errorf("auth.sign_in_blocked events = %d, want one per blocked key", n)
	}

	// Per address: many accounts from one address are throttled too.
	var last int
	for i := range 8 {
		last, _ = attempt("198.51.100.7", "user"+strconv.Itoa(i), "wrong password!")
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("eighth failure from one address across accounts = %d, want 429", last)
	}
}

// sessionCookies returns the client's session cookie (without the
// known-device cookie), as a one-element list.
func sessionCookies(c *testkit.Client) []*http.Cookie {
	var out []*http.Cookie
	for _, k := range c.Cookies() {
		if k.Name == "restoredesk" {
			out = append(out, k)
		}
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNoUserEnumeration: an unknown user and a wrong password get the same
// page, status and cookies. (That both spend a full password hash is shown
// by identity's tests.)
func TestNoUserEnumeration(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "alice"})
	try := func(username string) (int, string) {
		resp, body := s.NewClient(t).PostForm(t, "/signin", url.Values{"username": {username}, "password": {"not the password"}})
		d := testkit.Doc(t, body)
		d.Find("input[name=username]").RemoveAttr("value")
		html, _ := d.Find("main").Html()
		return resp.StatusCode, html
	}
	codeKnown, known := try("alice")
	codeUnknown, unknown := try("mallory")
	if codeKnown != http.StatusUnprocessableEntity || codeKnown != codeUnknown {
		t.Errorf("statuses: known %d, unknown %d; want both 422", codeKnown, codeUnknown)
	}
	if known != unknown {
		t.Errorf("pages differ:\nknown:   %s\nunknown: %s", known, unknown)
	}
	var reasons string
	s.Pool.QueryRow(t.Context(), `SELECT string_agg(details->>'reason', ',' ORDER BY seq) FROM audit_events WHERE action = 'auth.sign_in_failed'`).Scan(&reasons)
	if reasons != "wrong_password,unknown_user" {
		t.Errorf("audit reasons = %q (only the audit trail may tell them apart)", reasons)
	}
}

func TestSignInKeepsInputAndNextIsLocalOnly(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "alice"})
	resp, body := s.NewClient(t).PostForm(t, "/signin", url.Values{"username": {"alice"}, "password": {"nope"}, "next": {"/account"}})
	d := testkit.Doc(t, body)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("status = %d", resp.StatusCode)
	}
	if v, _ := d.Find("input[name=username]").Attr("value"); v != "alice" {
		t.Errorf("username not kept: %q", v)
	}
	if v, _ := d.Find("input[name=next]").Attr("value"); v != "/account" {
		t.Errorf("next not kept: %q", v)
	}
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "evil", "/\\/evil"} {
		resp, _ := s.NewClient(t).PostForm(t, "/signin", url.Values{"username": {"alice"}, "password": {testkit.Password}, "next": {next}})
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q, want /", next, loc)
		}
	}
	resp, _ = s.NewClient(t).PostForm(t, "/signin", url.Values{"username": {"alice"}, "password": {testkit.Password}, "next": {"/admin/users?after=b"}})
	if loc := resp.Header.Get("Location"); loc != "/admin/users?after=b" {
		t.Errorf("local next redirected to %q", loc)
	}
}

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	alice := s.CreateUser(t, testkit.User{Username: "alice"})
	for _, tt := range []struct{ name, sql string }{
		{"idle", `UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE user_id = $1`},
		{"absolute", `UPDATE sessions SET created_at = now() - interval '8 days', expires_at = now() - interval '1 second' WHERE user_id = $1`},
	} {
		c := s.SignInAs(t, "alice")
		wantSignedIn(t, c, "alice")
		if _, err := s.Pool.Exec(context.Background(), tt.sql, alice); err != nil {
			t.Fatal(err)
		}
		wantSignedOut(t, c)
	}
}

// TestStatusPollsAreNotActivity: the request page's background status poll
// does not restart the idle timer; a page the person opens does.
func TestStatusPollsAreNotActivity(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	alice := s.CreateUser(t, testkit.User{Username: "alice", Teams: map[string]bool{"payments": false}})
	s.CreateUser(t, testkit.User{Username: "lead", Teams: map[string]bool{"payments": true}})
	s.GrantSeedOwnership(t, "payments")
	id := s.SubmitRequest(t, "alice", "payments", "mysql-payorders1")
	c := s.SignInAs(t, "alice")
	lastSeen := func() (age time.Duration) {
		t.Helper()
		err := s.Pool.QueryRow(context.Background(), `
			SELECT extract(epoch FROM now() - max(last_seen_at)) * interval '1 second' FROM sessions WHERE user_id = $1`, alice).Scan(&age)
		if err != nil {
			t.Fatal(err)
		}
		return age
	}
	age := func(sql string) {
		if _, err := s.Pool.Exec(context.Background(), sql, alice); err != nil {
			t.Fatal(err)
		}
	}
	age(`UPDATE sessions SET last_seen_at = now() - interval '20 minutes' WHERE user_id = $1`)
	if resp, _ := c.Get(t, fmt.Sprintf("/requests/%d/status", id)); resp.StatusCode != http.StatusOK {
		t.Fatalf("status poll = %d", resp.StatusCode)
	}
	if got := lastSeen(); got < 19*time.Minute {
		t.Errorf("a status poll restarted the idle timer (last seen %v ago)", got)
	}
	if resp, _ := c.Get(t, fmt.Sprintf("/requests/%d", id)); resp.StatusCode != http.StatusOK {
		t.Fatalf("request page = %d", resp.StatusCode)
	}
	if got := lastSeen(); got > time.Minute {
		t.Errorf("opening a page did not restart the idle timer (last seen %v ago)", got)
	}
}

// TestFormPostedIntoEndedSessionComesBack: a form sent after the session
// ended idle is not lost: the sign-in form carries it, and after signing in
// it comes back filled, to be sent with one click; sign-in then returns to
// the page the form was on.
func TestFormPostedIntoEndedSessionComesBack(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	root := s.CreateUser(t, testkit.User{Username: "root", Admin: true})
	c := s.SignInAs(t, "root")
	if _, err := s.Pool.Exec(context.Background(), `UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE user_id = $1`, root); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"username": {"carol"}, "email": {"carol@example.com"}, "name": {"Carol Kim"}, "password": {"rain on a tin roof at dawn"}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/admin/users", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.URL)
	req.Header.Set("Referer", s.URL+"/admin/users/new")
	resp, body := c.Do(t, req)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("post into an ended session = %d, want 401", resp.StatusCode)
	}
	d := testkit.Doc(t, body)
	if d.Find("[data-testid=resume-notice]").Length() != 1 {
		t.Errorf("the sign-in page does not say the form is kept: %s", body)
	}
	signIn := url.Values{"username": {"root"}, "password": {testkit.Password}}
	for _, name := range []string{"next", "resume_path", "resume_form"} {
		v, _ := d.Find("form[action='/signin'] input[name=" + name + "]").Attr("value")
		signIn.Set(name, v)
	}
	if signIn.Get("next") != "/admin/users/new" || signIn.Get("resume_path") != "/admin/users" {
		t.Errorf("sign-in form carries next %q and resume_path %q", signIn.Get("next"), signIn.Get("resume_path"))
	}
	var n int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM users WHERE username = 'carol'`).Scan(&n)
	if n != 0 {
		t.Fatal("the form was acted on without a session")
	}

	resp, body = c.PostForm(t, "/signin", signIn)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in with a form to resume = %d: %.300s", resp.StatusCode, body)
	}
	d = testkit.Doc(t, body)
	f := d.Find("[data-testid=resume-form]")
	if action, _ := f.Attr("action"); action != "/admin/users" {
		t.Errorf("resumed form posts to %q", action)
	}
	again := url.Values{}
	f.Find("input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		again.Add(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	for k := range form {
		if again.Get(k) != form.Get(k) {
			t.Errorf("resumed field %s = %q, want %q", k, again.Get(k), form.Get(k))
		}
	}
	if strings.Contains(d.Find("[data-testid=resume-fields]").Text(), "tin roof") {
		t.Error("the resumed form shows the password")
	}
	if resp, _ := c.PostForm(t, "/admin/users", again); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sending the resumed form = %d, want 303", resp.StatusCode)
	}
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM users WHERE username = 'carol'`).Scan(&n)
	if n != 1 {
		t.Error("the resumed form did not create the user")
	}
}

// TestSignInReturnsToTheAskedPage: a link to a page (as notifications send)
// opened signed out comes back to that page after sign-in, query included;
// a page elsewhere is never a destination.
func TestSignInReturnsToTheAskedPage(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "alice"})
	c := s.NewClient(t)
	resp, _ := c.Get(t, "/requests?status=pending_approval")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?next=") {
		t.Fatalf("signed-out link = %d → %q", resp.StatusCode, loc)
	}
	_, body := c.Get(t, loc)
	next, _ := testkit.Doc(t, body).Find("input[name=next]").Attr("value")
	resp, _ = c.PostForm(t, "/signin", url.Values{"username": {"alice"}, "password": {testkit.Password}, "next": {next}})
	if got := resp.Header.Get("Location"); got != "/requests?status=pending_approval" {
		t.Errorf("after sign-in → %q, want the page asked for", got)
	}
	for _, bad := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example"} {
		resp, _ = s.NewClient(t).PostForm(t, "/signin", url.Values{"username": {"alice"}, "password": {testkit.Password}, "next": {bad}})
		if got := resp.Header.Get("Location"); got != "/" {
			t.Errorf("next %q → %q, want /", bad, got)
		}
	}
}
