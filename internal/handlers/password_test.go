package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"restoredesk/internal/testkit"
)

// TestWeakPasswordsRefusedAtTheField: the new-user form, the admin's reset
// and the user's own change refuse weak passwords with 422, say why next to
// the field, and keep what was typed elsewhere in the form.
func TestWeakPasswordsRefusedAtTheField(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "root", Admin: true})
	bob := s.CreateUser(t, testkit.User{Username: "bob"})
	admin := s.SignInAs(t, "root")
	tests := []struct {
		name, path string
		c          *testkit.Client
		form       url.Values
		field, why string
	}{
		{"new user, repeated", "/admin/users", admin,
			url.Values{"username": {"carol"}, "email": {"carol@example.com"}, "name": {"Carol"}, "password": {"aaaaaaaaaaaa"}},
			"password", "repeating"},
		{"new user, own username", "/admin/users", admin,
			url.Values{"username": {"carol"}, "email": {"carol@example.com"}, "name": {"Carol"}, "password": {"carolcarol2026!"}},
			"password", "username"},
		{"admin reset, digits", "/admin/users/" + strconv.FormatInt(bob, 10) + "/password", admin,
			url.Values{"password": {"123456789012"}}, "password", "easy to guess"},
		{"own change, username", "/account/password", s.SignInAs(t, "bob"),
			url.Values{"current": {testkit.Password}, "new": {"bob bob bob bob"}}, "new", "username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.c.PostForm(t, tt.path, tt.form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			d := testkit.Doc(t, body)
			if msg := d.Find("#" + tt.field + "-error").Text(); !strings.Contains(msg, tt.why) {
				t.Errorf("message at %s = %q, want it to say %q; page %.300s", tt.field, msg, tt.why, body)
			}
			if u := tt.form.Get("username"); u != "" {
				if v, _ := d.Find("input[name=username]").Attr("value"); v != u {
					t.Errorf("username field = %q, want %q kept", v, u)
				}
			}
		})
	}
}
