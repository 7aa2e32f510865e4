package views_test

import (
	"testing"

	"restoredesk/internal/views"
)

// TestListRange: exact counts up to the cap, "more than" past it.
func TestListRange(t *testing.T) {
	for _, tc := range []struct {
		before, shown, total int
		want                 string
	}{
		{0, 25, 1204, "1–25 of 1,204"},
		{1175, 25, 1204, "1,176–1,200 of 1,204"},
		{0, 3, 3, "1–3 of 3"},
		{0, 25, 10000, "1–25 of 10,000"},
		{0, 25, 10001, "1–25 of more than 10,000"},
		{9990, 25, 10001, "9,991–10,015 of more than 10,000"},
		{10001, 25, 10001, "25 of more than 10,000"},
		{0, 0, 0, ""},
	} {
		if got := views.ListRange(tc.before, tc.shown, tc.total, 10000); got != tc.want {
			t.Errorf("ListRange(%d, %d, %d) = %q, want %q", tc.before, tc.shown, tc.total, got, tc.want)
		}
	}
}
