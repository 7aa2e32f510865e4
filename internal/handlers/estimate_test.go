package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"restoredesk/internal/testkit"
)

// TestCostEstimate: the request form and the request page show what the new
// instance costs at list price, labelled as an estimate with its date, and
// say "No estimate" where the price table has no row.
func TestCostEstimate(t *testing.T) {
	t.Parallel()
	w := newFormWorld(t)
	s := w.s
	alice := s.SignInAs(t, "alice")
	for _, tc := range []struct {
		name, source, class, storage, want string
	}{
		// db.mysql.s1.large is 736 a month and 1.816 an hour without storage;
		// LOCAL_SSD 0.8 a GB-month and 0.00112 a GB-hour.
		{"priced", "mysql-payorders1", "db.mysql.s1.large", "500", "¥2.38 per hour, ¥1136.00 per month"},
		{"no row", "pg-payledger1", "", "", "No estimate"},
	} {
		form := s.RequestForm(t, "alice", "payments", tc.source)
		if tc.class != "" {
			form.Set("class", tc.class)
			form.Set("storage", tc.storage)
			form.Set("storage_type", "LOCAL_SSD")
		}
		resp, body := alice.Get(t, "/requests/new?"+form.Encode())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: form %d", tc.name, resp.StatusCode)
		}
		got := testkit.Doc(t, body).Find("[data-testid=estimate]").Text()
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: the form shows %q, want %q", tc.name, got, tc.want)
		}
		if tc.class != "" && !strings.Contains(got, "estimate, list price, as of 2026-11-25") {
			t.Errorf("%s: the estimate is not labelled: %q", tc.name, got)
		}
		if tc.class == "" {
			continue
		}
		resp, _ = alice.PostForm(t, "/requests", form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: submit %d", tc.name, resp.StatusCode)
		}
		_, page := alice.Get(t, resp.Header.Get("Location"))
		if got := testkit.Doc(t, page).Find("[data-testid=estimate]").Text(); !strings.Contains(got, tc.want) {
			t.Errorf("%s: the request page shows %q, want %q", tc.name, got, tc.want)
		}
	}
}
