package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"restoredesk/internal/testkit"
)

// TestCrossOriginFormsRefused posts every form of the product (each POST
// route of the permission matrix, with the form an admin would send) from
// another site: each is refused with 403 and nothing in the database changes.
func TestCrossOriginFormsRefused(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	f := &fixture{s: s, ids: map[role]int64{}}
	f.ids[admin] = s.CreateUser(t, testkit.User{Username: "admin", Admin: true})
	f.ids[adminSelf] = f.ids[admin]
	s.CreateUser(t, testkit.User{Username: "eng", Teams: map[string]bool{"payments": false}})
	// The request routes' setups file requests as a lead of the team, which
	// needs another lead to be decidable and instances the team owns.
	s.CreateUser(t, testkit.User{Username: "req-lead", Teams: map[string]bool{"payments": true}})
	s.CreateUser(t, testkit.User{Username: "lead", Teams: map[string]bool{"payments": true}})
	f.team = s.GrantSeedOwnership(t, "payments")

	state := func() string {
		t.Helper()
		var sum string
		err := s.Pool.QueryRow(t.Context(), `SELECT md5(concat_ws('|',
			(SELECT string_agg(concat_ws(',', id, username, email, display_name, password_hash, disabled, admin, auditor), ';' ORDER BY id) FROM users),
			(SELECT string_agg(concat_ws(',', id, name), ';' ORDER BY id) FROM teams),
			(SELECT string_agg(concat_ws(',', user_id, team_id, lead), ';' ORDER BY user_id, team_id) FROM memberships),
			(SELECT string_agg(encode(id_hash, 'hex'), ';' ORDER BY id_hash) FROM sessions),
			(SELECT string_agg(concat_ws(',', key, failures), ';' ORDER BY key) FROM sign_in_failures),
			(SELECT string_agg(concat_ws(',', id, status), ';' ORDER BY id) FROM restore_requests),
			(SELECT count(*) FROM audit_events)))`).Scan(&sum)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	var checked int
	for _, a := range permissions {
		if a.method != http.MethodPost {
			continue
		}
		for _, site := range []map[string]string{
			{"Sec-Fetch-Site": "cross-site"},
			{"Origin": "https://evil.example"},
		} {
			c := s.SignInAs(t, "admin")
			path := a.route
			var form url.Values
			if a.setup != nil {
				path, form = a.setup(t, f, admin)
			}
			before := state()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range site {
				req.Header.Set(k, v)
			}
			resp, _ := c.Do(t, req)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("cross-origin POST %s (%v) = %d, want 403", path, site, resp.StatusCode)
			}
			if state() != before {
				t.Errorf("cross-origin POST %s (%v) changed the database", path, site)
			}
			checked++
		}
	}
	if checked < 2*12 {
		t.Errorf("only %d cross-origin posts checked; the matrix lost its POST routes?", checked)
	}
}
