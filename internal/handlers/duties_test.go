package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"restoredesk/internal/testkit"
)

// TestSecondAdminConfirmsAndCannotTurnOnTheFirst (finding 5): an admin who
// makes another admin needs a second, existing admin to confirm it; the new
// admin can then never change the access of the admins who created or
// confirmed them (no making the first a lead, an auditor, disabled…), and
// the audit page flags the events.
func TestSecondAdminConfirmsAndCannotTurnOnTheFirst(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	root := s.CreateUser(t, testkit.User{Username: "root", Admin: true}) // the command line's admins
	fay := s.CreateUser(t, testkit.User{Username: "fay", Admin: true})
	payments := s.Team(t, "payments")
	rootC, fayC := s.SignInAs(t, "root"), s.SignInAs(t, "fay")
	post := func(c *testkit.Client, path string, form url.Values, want int) {
		t.Helper()
		if resp, body := c.PostForm(t, path, form); resp.StatusCode != want {
			t.Errorf("POST %s = %d, want %d: %.300s", path, resp.StatusCode, want, body)
		}
	}
	userPath := func(id int64, suffix string) string { return "/admin/users/" + strconv.FormatInt(id, 10) + suffix }

	// root creates mallory as an admin: she is not one yet.
	post(rootC, "/admin/users", url.Values{"username": {"mallory"}, "email": {"m@example.com"}, "name": {"Mallory"},
		"password": {"rain on a tin roof at dawn"}, "admin": {"on"}}, http.StatusSeeOther)
	var mallory int64
	var admin, pending bool
	s.Pool.QueryRow(t.Context(), `SELECT id, admin, admin_pending FROM users WHERE username = 'mallory'`).Scan(&mallory, &admin, &pending)
	if admin || !pending {
		t.Fatalf("mallory created as admin by an admin: admin %v, pending %v; want pending only", admin, pending)
	}
	mal := s.SignIn(t, "mallory", "rain on a tin roof at dawn")
	if resp, _ := mal.Get(t, "/admin/users"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("pending admin opens the administration: %d", resp.StatusCode)
	}
	// The one who asked cannot confirm; mallory cannot confirm herself.
	post(rootC, userPath(mallory, "/admin/confirm"), nil, http.StatusForbidden)
	post(fayC, userPath(mallory, "/admin/confirm"), nil, http.StatusSeeOther)
	if resp, _ := mal.Get(t, "/admin/users"); resp.StatusCode != http.StatusOK {
		t.Fatalf("confirmed admin cannot open the administration: %d", resp.StatusCode)
	}

	// mallory cannot change the access of root (who created her) nor of
	// fay (who confirmed her), in any way.
	for _, patron := range []int64{root, fay} {
		post(mal, userPath(patron, "/roles"), url.Values{"auditor": {"on"}, "admin": {"on"}}, http.StatusForbidden)
		post(mal, userPath(patron, "/disable"), nil, http.StatusForbidden)
		post(mal, userPath(patron, "/password"), url.Values{"password": {"rain on a tin roof at dusk"}}, http.StatusForbidden)
		post(mal, "/admin/teams/"+strconv.FormatInt(payments, 10)+"/members", url.Values{"username": {map[int64]string{root: "root", fay: "fay"}[patron]}, "lead": {"on"}}, http.StatusForbidden)
		_, body := mal.Get(t, userPath(patron, ""))
		if testkit.Doc(t, body).Find("[data-testid=patron-note]").Length() != 1 || testkit.Doc(t, body).Find("[data-testid=roles-form]").Length() != 0 {
			t.Errorf("mallory's view of her patron %d offers changes", patron)
		}
	}
	var changed int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM users WHERE id IN ($1, $2) AND (auditor OR disabled OR NOT admin)`, root, fay).Scan(&changed)
	var memberships int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM memberships WHERE user_id IN ($1, $2)`, root, fay).Scan(&memberships)
	if changed != 0 || memberships != 0 {
		t.Errorf("root and fay changed by the admin they made: %d accounts, %d memberships", changed, memberships)
	}
	// She administers everyone else as any admin does.
	other := s.CreateUser(t, testkit.User{Username: "other"})
	post(mal, userPath(other, "/roles"), url.Values{"auditor": {"on"}}, http.StatusSeeOther)

	// Revoking the admin role needs no confirmation.
	post(fayC, userPath(mallory, "/roles"), nil, http.StatusSeeOther)
	if resp, _ := mal.Get(t, "/admin/users"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("revoked admin still administers: %d", resp.StatusCode)
	}

	// The audit page flags the admin who created an admin, and the
	// confirmation.
	_, body := rootC.Get(t, "/audit?target_type=user&target_id="+strconv.FormatInt(mallory, 10))
	flagged := map[string]bool{}
	testkit.Doc(t, body).Find("[data-testid=audit-event]").Each(func(_ int, ev *goquery.Selection) {
		if strings.Contains(ev.Find("[data-testid=audit-flag]").Text(), "admin created an admin") {
			flagged[ev.AttrOr("data-action", "")] = true
		}
	})
	if !flagged["admin.user_created"] || !flagged["admin.admin_confirmed"] || len(flagged) != 2 {
		t.Errorf("flagged events %v, want admin.user_created and admin.admin_confirmed", flagged)
	}
}
