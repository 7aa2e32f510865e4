package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"restoredesk/internal/handlers"
	"restoredesk/internal/postgres"
	"restoredesk/internal/testkit"
)

// ssoServer runs Restore Desk with single sign-on against an OpenID Connect
// provider started for the test.
func ssoServer(t *testing.T) (*testkit.Server, *mockoidc.MockOIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	cfg := m.Config()
	s := testkit.Start(t, testkit.Options{SSO: func(base string) handlers.SSOConfig {
		return handlers.SSOConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			RedirectURL: base + "/auth/oidc/callback"}
	}})
	s.Team(t, "payments")
	s.Team(t, "search")
	return s, m
}

// ssoSignIn goes through the code flow as a browser would and returns the
// final response from Restore Desk's callback.
func ssoSignIn(t *testing.T, s *testkit.Server, c *testkit.Client, user *mockoidc.MockUser, m *mockoidc.MockOIDC) (*http.Response, string) {
	t.Helper()
	m.QueueUser(user)
	resp, _ := c.Get(t, "/auth/oidc?next=/account")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /auth/oidc = %d", resp.StatusCode)
	}
	auth, _ := url.Parse(resp.Header.Get("Location"))
	q := auth.Query()
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(p) == "" {
			t.Errorf("authorization request lacks %s: %s", p, auth)
		}
	}
	if q.Get("code_challenge_method") != "S256" {
		t.Errorf("PKCE method = %q, want S256", q.Get("code_challenge_method"))
	}
	// The provider answers with a redirect to our callback.
	idp := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ar, err := idp.Get(auth.String())
	if err != nil {
		t.Fatal(err)
	}
	ar.Body.Close()
	cb, _ := url.Parse(ar.Header.Get("Location"))
	if !strings.HasSuffix(cb.Path, "/auth/oidc/callback") {
		t.Fatalf("provider redirected to %s", cb)
	}
	return c.Get(t, cb.Path+"?"+cb.RawQuery)
}

func TestSingleSignOn(t *testing.T) {
	t.Parallel()
	s, m := ssoServer(t)
	db := postgres.New(s.Pool)

	sam := &mockoidc.MockUser{Subject: "sub-sam", Email: "sam@example.com", PreferredUsername: "sam",
		Groups: []string{"restoredesk:payments:lead", "restoredesk:auditor", "restoredesk:no-such-team", "unrelated"}}
	c := s.NewClient(t)
	resp, body := ssoSignIn(t, s, c, sam, m)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Fatalf("callback = %d → %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	wantSignedIn(t, c, "sam")
	u, err := db.UserByUsername(t.Context(), "sam")
	if err != nil || u.OIDCSubject == nil || *u.OIDCSubject != "sub-sam" || u.PasswordHash != "" {
		t.Fatalf("sam = %+v, %v; want an SSO account linked to sub-sam without a password", u, err)
	}
	roles := func() string {
		pu, err := postgres.LoadUser(t.Context(), s.Pool, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		if pu.Admin {
			parts = append(parts, "admin")
		}
		if pu.Auditor {
			parts = append(parts, "auditor")
		}
		for _, tm := range pu.Teams {
			r := tm.TeamName + ":member"
			if tm.Lead {
				r = tm.TeamName + ":lead"
			}
			parts = append(parts, r)
		}
		return strings.Join(parts, " ")
	}
	if got := roles(); got != "auditor payments:lead" {
		t.Errorf("after first sign-in: %q", got)
	}

	// The next sign-in's claims replace roles and memberships.
	sam.Groups = []string{"restoredesk:search", "restoredesk:admin"}
	if resp, _ := ssoSignIn(t, s, s.NewClient(t), sam, m); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in = %d", resp.StatusCode)
	}
	// The admin claim waits for an admin here to confirm it.
	if got := roles(); got != "search:member" {
		t.Errorf("after second sign-in: %q (the admin claim must wait for confirmation)", got)
	}
	if u, _ := db.UserByID(t.Context(), u.ID); !u.AdminPending || u.AdminRequestedBy != nil {
		t.Errorf("sam's admin claim: pending %v, requested by %v; want pending, from the identity provider", u.AdminPending, u.AdminRequestedBy)
	}
	s.CreateUser(t, testkit.User{Username: "root", Admin: true})
	if resp, body := s.SignInAs(t, "root").PostForm(t, "/admin/users/"+strconv.FormatInt(u.ID, 10)+"/admin/confirm", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm sam's admin claim = %d: %s", resp.StatusCode, body)
	}
	if got := roles(); got != "admin search:member" {
		t.Errorf("after an admin confirmed: %q", got)
	}
	// Role changes the claims drive are the identity provider's: actor "sso".
	var other int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE details->>'via' = 'sso'
		AND action IN ('admin.user_updated', 'admin.membership_changed') AND actor_name <> 'sso'`).Scan(&other)
	if other != 0 {
		t.Errorf("%d claim-driven changes not recorded with the actor sso", other)
	}
	// A claim that goes away takes the role at once.
	sam.Groups = []string{"restoredesk:search"}
	if resp, _ := ssoSignIn(t, s, s.NewClient(t), sam, m); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("third sign-in = %d", resp.StatusCode)
	}
	if got := roles(); got != "search:member" {
		t.Errorf("after the admin claim went: %q", got)
	}
	var n int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE details->>'via' = 'sso' AND action IN ('admin.user_updated', 'admin.membership_changed', 'admin.user_created')`).Scan(&n)
	if n < 4 {
		t.Errorf("SSO changes recorded: %d events, want at least 4", n)
	}
	// An SSO account has no password to sign in with.
	if resp, _ := s.NewClient(t).PostForm(t, "/signin", url.Values{"username": {"sam"}, "password": {""}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("password sign-in of an SSO account = %d", resp.StatusCode)
	}
}

func TestSingleSignOnNeverLinksByEmail(t *testing.T) {
	t.Parallel()
	s, m := ssoServer(t)
	local := s.CreateUser(t, testkit.User{Username: "kim"}) // kim@example.com
	// Another identity claiming kim's username and e-mail is refused, not linked.
	resp, body := ssoSignIn(t, s, s.NewClient(t), &mockoidc.MockUser{Subject: "sub-evil", Email: "kim@example.com", PreferredUsername: "kim"}, m)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "already exists") {
		t.Errorf("conflicting SSO sign-in = %d", resp.StatusCode)
	}
	u, _ := postgres.New(s.Pool).UserByID(t.Context(), local)
	if u.OIDCSubject != nil {
		t.Error("local account was linked to an SSO identity by e-mail")
	}
	if countSessions(t, s.Pool, local) != 0 {
		t.Error("a session was started for the local account")
	}
}

func TestSingleSignOnRefusesForgedState(t *testing.T) {
	t.Parallel()
	s, m := ssoServer(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-x", Email: "x@example.com", PreferredUsername: "x"})
	victim := s.NewClient(t)
	victim.Get(t, "/auth/oidc") // the victim's browser holds its own state
	resp, _ := victim.Get(t, "/auth/oidc/callback?code=stolen&state=attacker")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("callback with a foreign state = %d, want 403", resp.StatusCode)
	}
	wantSignedOut(t, victim)
}

// TestSingleSignOnEndsThePreviousSession: signing in with single sign-on in
// a browser that had a session (another account's, signed in by password)
// ends that session, as a password sign-in does.
func TestSingleSignOnEndsThePreviousSession(t *testing.T) {
	t.Parallel()
	s, m := ssoServer(t)
	s.CreateUser(t, testkit.User{Username: "alice"})
	c := s.SignInAs(t, "alice")
	old := sessionCookies(c)
	sam := &mockoidc.MockUser{Subject: "sub-sam", Email: "sam@example.com", PreferredUsername: "sam"}
	if resp, _ := ssoSignIn(t, s, c, sam, m); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback = %d", resp.StatusCode)
	}
	wantSignedIn(t, c, "sam")
	var alive int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM sessions JOIN users u ON u.id = user_id WHERE u.username = 'alice'`).Scan(&alive)
	if alive != 0 {
		t.Errorf("alice's session survived the single sign-on: %d left", alive)
	}
	replay := s.NewClient(t)
	replay.SetCookies(old)
	wantSignedOut(t, replay)
}
