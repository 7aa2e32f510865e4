package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/notify/notifytest"
	"restoredesk/internal/testkit"
)

// The permission matrix: every route of the product against every kind of
// person. TestPermissionMatrix reads the routes from the echo instance, so a
// new route without an entry here fails the test. To add a route, add one
// entry to permissions: its method and path as registered, what each role
// gets (expect, everyone), and, when the path has parameters or the action
// needs a form, a setup hook that returns the concrete path and form for the
// role (creating fixtures as needed).

// role is a kind of person making a request.
type role string

const (
	anonymous     role = "anonymous"
	engineer      role = "engineer of the team"
	otherEngineer role = "engineer of another team"
	lead          role = "lead of the team"
	otherLead     role = "lead of another team"
	requesterLead role = "requester who is also a lead"
	auditor       role = "auditor"
	admin         role = "admin"
	adminSelf     role = "admin acting on themselves"
	disabledUser  role = "disabled user"
)

var roles = []role{anonymous, engineer, otherEngineer, lead, otherLead, requesterLead, auditor, admin, adminSelf, disabledUser}

// signedIn are the roles with a working session.
var signedIn = []role{engineer, otherEngineer, lead, otherLead, requesterLead, auditor, admin, adminSelf}

// Fixture usernames: "the team" is payments, "another team" is search.
var roleUser = map[role]string{
	engineer: "eng", otherEngineer: "other-eng", lead: "lead", otherLead: "other-lead",
	requesterLead: "req-lead", auditor: "auditor", admin: "admin", adminSelf: "admin", disabledUser: "disabled",
}

// fixture is the world the matrix runs in.
type fixture struct {
	s       *testkit.Server
	ids     map[role]int64 // user id of each role
	team    int64          // payments
	counter atomic.Int64
}

// fresh returns a name no other case uses.
func (f *fixture) fresh(prefix string) string {
	return prefix + strconv.FormatInt(f.counter.Add(1), 10)
}

// target returns the user an admin action is aimed at: a fresh member of the
// team, or the admin themselves for adminSelf.
func (f *fixture) target(t *testing.T, r role) (id int64, username string) {
	if r == adminSelf {
		return f.ids[adminSelf], "admin"
	}
	name := f.fresh("target")
	return f.s.CreateUser(t, testkit.User{Username: name, Teams: map[string]bool{"payments": false}}), name
}

// setupFunc returns the concrete path (and form) of a route for role r.
type setupFunc func(t *testing.T, f *fixture, r role) (path string, form url.Values)

// access is one entry of the matrix.
type access struct {
	method, route string
	setup         setupFunc
	want          map[role]int // status per role
}

// expect: roles listed get ok; other signed-in roles are refused (403);
// anonymous and disabled users are sent to sign in (GET) or refused with 401.
func expect(method string, ok int, allowed ...role) map[role]int {
	w := map[role]int{}
	for _, r := range signedIn {
		w[r] = http.StatusForbidden
	}
	for _, r := range allowed {
		w[r] = ok
	}
	w[anonymous], w[disabledUser] = http.StatusSeeOther, http.StatusSeeOther
	if method != http.MethodGet {
		w[anonymous], w[disabledUser] = http.StatusUnauthorized, http.StatusUnauthorized
	}
	return w
}

// everyone gives every role status, then applies overrides.
func everyone(status int, overrides map[role]int) map[role]int {
	w := map[role]int{}
	for _, r := range roles {
		w[r] = status
	}
	for r, s := range overrides {
		w[r] = s
	}
	return w
}

func userPath(suffix string) setupFunc {
	return func(t *testing.T, f *fixture, r role) (string, url.Values) {
		id, _ := f.target(t, r)
		return "/admin/users/" + strconv.FormatInt(id, 10) + suffix, nil
	}
}

// inQuery sends a setup's form in the address, for a GET.
func inQuery(setup setupFunc) setupFunc {
	return func(t *testing.T, f *fixture, r role) (string, url.Values) {
		path, form := setup(t, f, r)
		return path + "?" + form.Encode(), nil
	}
}

func memberPath(suffix string, form url.Values) setupFunc {
	return func(t *testing.T, f *fixture, r role) (string, url.Values) {
		id, _ := f.target(t, r)
		return fmt.Sprintf("/admin/teams/%d/members/%d/%s", f.team, id, suffix), form
	}
}

// requestPath files a fresh pending request by the requester who is also a
// lead, and returns its path with suffix.
func requestPath(suffix string) setupFunc {
	return func(t *testing.T, f *fixture, _ role) (string, url.Values) {
		id := f.s.SubmitRequest(t, "req-lead", "payments", "mysql-payorders1")
		return "/requests/" + strconv.FormatInt(id, 10) + suffix, nil
	}
}

// copyPath files a request by the requester who is also a lead, makes it
// ready with a running copy (as the worker and the copies' check would),
// and returns the copy's path with suffix and form.
func copyPath(suffix string, form func(instance string) url.Values) setupFunc {
	return func(t *testing.T, f *fixture, _ role) (string, url.Values) {
		id := f.s.SubmitRequest(t, "req-lead", "payments", "mysql-payorders1")
		instance := f.fresh("mysql-perm")
		var copyID int64
		err := f.s.Pool.QueryRow(t.Context(), `WITH r AS (
				UPDATE restore_requests SET status = 'ready', instance_id = $2, finished_at = now() WHERE id = $1 RETURNING id, region, finished_at)
			INSERT INTO copies (request_id, region, instance_id, delete_at) SELECT id, region, $2, finished_at + interval '3 days' FROM r
			RETURNING id`, id, instance).Scan(&copyID)
		if err != nil {
			t.Fatal(err)
		}
		var v url.Values
		if form != nil {
			v = form(instance)
		}
		return fmt.Sprintf("/requests/%d/copies/%d/%s", id, copyID, suffix), v
	}
}

// with applies overrides to want.
func with(want, overrides map[role]int) map[role]int {
	for r, s := range overrides {
		want[r] = s
	}
	return want
}

// outsiders are the members of the other team: a request of the team is
// not theirs to see, so it does not exist for them.
func outsiders(status int) map[role]int {
	return map[role]int{otherEngineer: status, otherLead: status}
}

var (
	teamMembers    = []role{engineer, otherEngineer, lead, otherLead, requesterLead}
	requestViewers = []role{engineer, lead, requesterLead, auditor, admin, adminSelf}
	allSignedIn    = signedIn
	admins         = []role{admin, adminSelf}
	auditLog       = []role{lead, otherLead, requesterLead, auditor, admin, adminSelf}
)

var permissions = []access{
	{method: "GET", route: "/healthz", want: everyone(200, nil)},
	{method: "GET", route: "/readyz", want: everyone(200, nil)},
	{method: "GET", route: "/static/*", want: everyone(200, nil), setup: func(*testing.T, *fixture, role) (string, url.Values) {
		return "/static/css/app.css", nil
	}},
	{method: "GET", route: "/", want: expect("GET", 200, allSignedIn...)},
	{method: "GET", route: "/signin", want: everyone(303, map[role]int{anonymous: 200, disabledUser: 200})},
	{method: "POST", route: "/signin", want: everyone(303, map[role]int{disabledUser: 422}),
		setup: func(_ *testing.T, f *fixture, r role) (string, url.Values) {
			u := roleUser[r]
			if r == anonymous {
				u = "eng"
			}
			return "/signin", url.Values{"username": {u}, "password": {testkit.Password}}
		}},
	{method: "POST", route: "/signout", want: everyone(303, nil)},
	{method: "GET", route: "/auth/oidc", want: everyone(404, nil)},          // single sign-on is off here;
	{method: "GET", route: "/auth/oidc/callback", want: everyone(404, nil)}, // oidc_test.go covers it on
	{method: "GET", route: "/account", want: expect("GET", 200, allSignedIn...)},
	{method: "POST", route: "/account/password", want: expect("POST", 303, allSignedIn...),
		setup: func(*testing.T, *fixture, role) (string, url.Values) {
			return "/account/password", url.Values{"current": {testkit.Password}, "new": {testkit.Password}}
		}},
	{method: "POST", route: "/account/sessions/revoke", want: expect("POST", 303, allSignedIn...)},
	{method: "POST", route: "/account/sessions/:session/signout", want: expect("POST", 303, allSignedIn...), // a session nobody has
		setup: func(*testing.T, *fixture, role) (string, url.Values) {
			return "/account/sessions/" + strings.Repeat("ab", 32) + "/signout", nil
		}},
	{method: "POST", route: "/account/time-zone", want: expect("POST", 303, allSignedIn...),
		setup: func(*testing.T, *fixture, role) (string, url.Values) {
			return "/account/time-zone", url.Values{"time_zone": {"Asia/Shanghai"}}
		}},

	{method: "GET", route: "/audit", want: expect("GET", 200, auditLog...)},
	{method: "GET", route: "/audit/export", want: expect("GET", 200, auditor, admin, adminSelf),
		setup: func(*testing.T, *fixture, role) (string, url.Values) { return "/audit/export?format=csv", nil }},

	{method: "GET", route: "/admin", want: expect("GET", 303, admins...)},
	{method: "GET", route: "/admin/users", want: expect("GET", 200, admins...)},
	{method: "GET", route: "/admin/users/new", want: expect("GET", 200, admins...)},
	{method: "POST", route: "/admin/users", want: expect("POST", 303, admins...),
		setup: func(_ *testing.T, f *fixture, _ role) (string, url.Values) {
			u := f.fresh("new")
			return "/admin/users", url.Values{"username": {u}, "email": {u + "@example.com"}, "name": {"New"}, "password": {testkit.Password}}
		}},
	{method: "GET", route: "/admin/users/:id", setup: userPath(""), want: expect("GET", 200, admins...)},
	{method: "POST", route: "/admin/users/:id/roles", setup: userPath("/roles"), want: expect("POST", 303, admin)},
	{method: "POST", route: "/admin/users/:id/admin/confirm", want: expect("POST", 303, admin),
		setup: func(t *testing.T, f *fixture, r role) (string, url.Values) {
			// An admin role the identity provider asked for, waiting for any admin.
			id, _ := f.target(t, r)
			if _, err := f.s.Pool.Exec(t.Context(), `UPDATE users SET admin_pending = true WHERE id = $1 AND NOT admin`, id); err != nil {
				t.Fatal(err)
			}
			return "/admin/users/" + strconv.FormatInt(id, 10) + "/admin/confirm", nil
		}},
	{method: "GET", route: "/admin/users/:id/disable", setup: userPath("/disable"), want: expect("GET", 200, admin)}, // the confirmation
	{method: "POST", route: "/admin/users/:id/disable", setup: userPath("/disable"), want: expect("POST", 303, admin)},
	{method: "POST", route: "/admin/users/:id/enable", setup: userPath("/enable"), want: expect("POST", 303, admin)},
	{method: "POST", route: "/admin/users/:id/password", want: expect("POST", 303, admin),
		setup: func(t *testing.T, f *fixture, r role) (string, url.Values) {
			id, _ := f.target(t, r)
			return "/admin/users/" + strconv.FormatInt(id, 10) + "/password", url.Values{"password": {"another long password"}}
		}},
	{method: "GET", route: "/admin/users/:id/sessions/revoke", setup: userPath("/sessions/revoke"), want: expect("GET", 200, admins...)},
	{method: "POST", route: "/admin/users/:id/sessions/revoke", setup: userPath("/sessions/revoke"), want: expect("POST", 303, admins...)},
	{method: "GET", route: "/admin/teams", want: expect("GET", 200, admins...)},
	{method: "POST", route: "/admin/teams", want: expect("POST", 303, admins...),
		setup: func(_ *testing.T, f *fixture, _ role) (string, url.Values) {
			return "/admin/teams", url.Values{"name": {f.fresh("team-")}}
		}},
	{method: "GET", route: "/admin/teams/:id", want: expect("GET", 200, admins...),
		setup: func(_ *testing.T, f *fixture, _ role) (string, url.Values) {
			return "/admin/teams/" + strconv.FormatInt(f.team, 10), nil
		}},
	{method: "POST", route: "/admin/teams/:id/members", want: expect("POST", 303, admin),
		setup: func(t *testing.T, f *fixture, r role) (string, url.Values) {
			username := "admin"
			if r != adminSelf {
				username = f.fresh("joiner")
				f.s.CreateUser(t, testkit.User{Username: username})
			}
			return "/admin/teams/" + strconv.FormatInt(f.team, 10) + "/members", url.Values{"username": {username}, "lead": {"on"}}
		}},
	{method: "GET", route: "/requests/new", want: expect("GET", 200, teamMembers...)},
	{method: "POST", route: "/requests/new", want: expect("POST", 200, teamMembers...)}, // the no-JavaScript reload
	{method: "POST", route: "/requests", want: with(expect("POST", 303, engineer, lead, requesterLead), outsiders(422)),
		setup: func(t *testing.T, f *fixture, r role) (string, url.Values) {
			// A valid form for the team, as its engineer would send it.
			return "/requests", f.s.RequestForm(t, "eng", "payments", "mysql-payorders1")
		}},
	{method: "GET", route: "/requests/:id", setup: requestPath(""), want: with(expect("GET", 200, requestViewers...), outsiders(404))},
	{method: "GET", route: "/requests/:id/status", setup: requestPath("/status"), want: with(expect("GET", 200, requestViewers...), outsiders(404))},
	{method: "POST", route: "/requests/:id/approve", setup: requestPath("/approve"), want: with(expect("POST", 303, lead), outsiders(404))},
	{method: "POST", route: "/requests/:id/reject", want: with(expect("POST", 303, lead), outsiders(404)),
		setup: func(t *testing.T, f *fixture, r role) (string, url.Values) {
			path, _ := requestPath("/reject")(t, f, r)
			return path, url.Values{"comment": {"not needed"}}
		}},
	{method: "POST", route: "/requests/:id/cancel", setup: requestPath("/cancel"), want: with(expect("POST", 303, requesterLead), outsiders(404))},
	{method: "GET", route: "/requests", want: expect("GET", 200, allSignedIn...)},
	{method: "POST", route: "/requests/:id/copies/:copy/extend", want: with(expect("POST", 303, lead, requesterLead), outsiders(404)),
		setup: copyPath("extend", func(string) url.Values { return url.Values{"keep_days": {"5"}} })},
	{method: "GET", route: "/requests/:id/copies/:copy/delete", setup: copyPath("delete", nil),
		want: with(expect("GET", 200, lead, requesterLead), outsiders(404))},
	{method: "POST", route: "/requests/:id/copies/:copy/delete", want: with(expect("POST", 303, lead, requesterLead), outsiders(404)),
		setup: copyPath("delete", func(instance string) url.Values { return url.Values{"confirm": {instance}} })},
	{method: "GET", route: "/copies", want: expect("GET", 200, allSignedIn...)},
	{method: "GET", route: "/approvals", want: expect("GET", 200, lead, otherLead, requesterLead)},
	{method: "POST", route: "/admin/teams/:id/policy", want: expect("POST", 303, admins...),
		setup: func(t *testing.T, f *fixture, _ role) (string, url.Values) {
			return "/admin/teams/" + strconv.FormatInt(f.team, 10) + "/policy", url.Values{"max_keep_days": {strconv.FormatInt(10+f.counter.Add(1)%300, 10)}}
		}},
	{method: "GET", route: "/admin/teams/:id/ownership", setup: ownershipPath("", "", false), want: expect("GET", 200, admins...)},
	{method: "POST", route: "/admin/teams/:id/ownership/instances", setup: ownershipPath("/instances", "instance", false), want: expect("POST", 303, admins...)},
	{method: "GET", route: "/admin/teams/:id/ownership/instances/remove", setup: inQuery(ownershipPath("/instances/remove", "instance", true)), want: expect("GET", 200, admins...)},
	{method: "POST", route: "/admin/teams/:id/ownership/instances/remove", setup: ownershipPath("/instances/remove", "instance", true), want: expect("POST", 303, admins...)},
	{method: "POST", route: "/admin/teams/:id/ownership/vpcs", setup: ownershipPath("/vpcs", "vpc", false), want: expect("POST", 303, admins...)},
	{method: "GET", route: "/admin/teams/:id/ownership/vpcs/remove", setup: inQuery(ownershipPath("/vpcs/remove", "vpc", true)), want: expect("GET", 200, admins...)},
	{method: "POST", route: "/admin/teams/:id/ownership/vpcs/remove", setup: ownershipPath("/vpcs/remove", "vpc", true), want: expect("POST", 303, admins...)},
	{method: "POST", route: "/admin/teams/:id/members/:user/role", setup: memberPath("role", url.Values{"lead": {"true"}}), want: expect("POST", 303, admin)},
	{method: "GET", route: "/admin/teams/:id/members/:user/remove", setup: memberPath("remove", nil), want: expect("GET", 200, admin)},
	{method: "POST", route: "/admin/teams/:id/members/:user/remove", setup: memberPath("remove", nil), want: expect("POST", 303, admin)},
	{method: "GET", route: "/admin/channels", want: expect("GET", 200, admins...)},
	{method: "POST", route: "/admin/channels", want: expect("POST", 303, admins...),
		setup: func(_ *testing.T, f *fixture, _ role) (string, url.Values) {
			return "/admin/channels", url.Values{"kind": {"email"}, "name": {f.fresh("list")}, "address": {"team@example.com"}}
		}},
	{method: "GET", route: "/admin/channels/mail", want: expect("GET", 200, admins...)},
	{method: "GET", route: "/admin/channels/:id", setup: channelPath("", nil), want: expect("GET", 200, admins...)},
	{method: "POST", route: "/admin/channels/:id", setup: channelPath("", url.Values{"name": {"renamed"}, "address": {"x@example.com"}}), want: expect("POST", 303, admins...)},
	{method: "POST", route: "/admin/channels/:id/test", setup: channelPath("/test", nil), want: expect("POST", 200, admins...)},
	{method: "POST", route: "/admin/channels/:id/delete", setup: channelPath("/delete", nil), want: expect("POST", 303, admins...)},
	{method: "POST", route: "/admin/deliveries/:id/resend", setup: failedDelivery, want: expect("POST", 303, admins...)},
	{method: "GET", route: "/admin/jobs", want: expect("GET", 200, admins...)},
	{method: "POST", route: "/admin/jobs/:id/retry", setup: failedDeliveryJob, want: expect("POST", 303, admins...)},
	{method: "GET", route: "/outbox", want: expect("GET", 404, allSignedIn...)}, // demo mode only
	{method: "POST", route: "/account/notifications", want: expect("POST", 303, allSignedIn...)},
}

// newFixture starts a server with one user per role and returns the world
// with the cookies of the disabled user's session (signed in before being
// disabled).
func newFixture(t *testing.T) (*fixture, []*http.Cookie) {
	s := testkit.Start(t, testkit.Options{Notify: notifyService(t, nil, notifytest.Cert{}, false)})
	f := &fixture{s: s, ids: map[role]int64{}}
	for _, r := range []role{engineer, otherEngineer, lead, otherLead, requesterLead, auditor, admin, disabledUser} {
		u := testkit.User{Username: roleUser[r]}
		switch r {
		case engineer, disabledUser:
			u.Teams = map[string]bool{"payments": false}
		case otherEngineer:
			u.Teams = map[string]bool{"search": false}
		case lead, requesterLead:
			u.Teams = map[string]bool{"payments": true}
		case otherLead:
			u.Teams = map[string]bool{"search": true}
		case auditor:
			u.Auditor = true
		case admin:
			u.Admin = true
		}
		f.ids[r] = s.CreateUser(t, u)
	}
	f.ids[adminSelf] = f.ids[admin]
	f.team = s.GrantSeedOwnership(t, "payments")
	// The disabled user signed in before being disabled: their cookie is
	// still signed, but the session must no longer count.
	disabledCookies := s.SignInAs(t, "disabled").Cookies()
	if _, err := s.Pool.Exec(t.Context(), `UPDATE users SET disabled = true WHERE id = $1`, f.ids[disabledUser]); err != nil {
		t.Fatal(err)
	}
	return f, disabledCookies
}

func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	f, disabledCookies := newFixture(t)
	s := f.s

	entries, routes := matrixEntries(t, s)
	for _, k := range routes {
		a, ok := entries[k]
		if !ok {
			continue
		}
		t.Run(k, func(t *testing.T) {
			for _, r := range roles {
				want, ok := a.want[r]
				if !ok {
					t.Errorf("%s: no expectation for %s", k, r)
					continue
				}
				path, form := a.route, url.Values(nil)
				if a.setup != nil {
					path, form = a.setup(t, f, r)
				}
				// A fresh session per case: some actions end the session.
				var c *testkit.Client
				switch r {
				case anonymous:
					c = s.NewClient(t)
				case disabledUser:
					c = s.NewClient(t)
					c.SetCookies(disabledCookies)
				default:
					c = s.SignInAs(t, roleUser[r])
				}
				var resp *http.Response
				if a.method == http.MethodGet {
					resp, _ = c.Get(t, path)
				} else {
					resp, _ = c.PostForm(t, path, form)
				}
				if resp.StatusCode != want {
					t.Errorf("%s as %s: %s %s = %d, want %d", k, r, a.method, path, resp.StatusCode, want)
				}
				loc := resp.Header.Get("Location")
				if (r == anonymous || r == disabledUser) && want == http.StatusSeeOther && a.method == http.MethodGet &&
					!strings.HasPrefix(loc, "/signin") && a.route != "/signin" {
					t.Errorf("%s as %s: redirected to %q, want the sign-in page", k, r, loc)
				}
			}
		})
	}
}

// matrixEntries returns the matrix by "METHOD route" and the server's routes,
// sorted; a route without an entry, or an entry without a route, fails t.
func matrixEntries(t *testing.T, s *testkit.Server) (map[string]access, []string) {
	// Every route has an entry, and every entry a route.
	entries := map[string]access{}
	for _, a := range permissions {
		entries[a.method+" "+a.route] = a
	}
	var routes []string
	for _, rt := range s.Echo.Routes() {
		if rt.Method == echo.RouteNotFound {
			continue // the catch-all that echo groups add
		}
		routes = append(routes, rt.Method+" "+rt.Path)
	}
	sort.Strings(routes)
	seen := map[string]bool{}
	for _, k := range routes {
		seen[k] = true
		if _, ok := entries[k]; !ok {
			t.Errorf("route %s has no entry in the permission matrix (internal/handlers/permissions_test.go)", k)
		}
	}
	for k := range entries {
		if !seen[k] {
			t.Errorf("permission matrix entry %s matches no route", k)
		}
	}

	return entries, routes
}
