package timezone_test

import (
	"testing"
	"time"

	"restoredesk/internal/timezone"
)

func TestEveryOfferedZoneLoads(t *testing.T) {
	for _, list := range [][]string{timezone.Names, timezone.All} {
		for _, n := range list {
			if _, err := timezone.Load(n); err != nil {
				t.Errorf("%s: %v", n, err)
			}
		}
	}
}

func TestResolve(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	cases := []struct {
		name, setting, browser string
		def                    *time.Location
		want                   string
	}{
		{"the setting wins", "Europe/Berlin", "Asia/Tokyo", shanghai, "Europe/Berlin"},
		{"else the browser's", "", "Asia/Tokyo", shanghai, "Asia/Tokyo"},
		{"a broken setting falls through", "Mars/Base", "Asia/Tokyo", shanghai, "Asia/Tokyo"},
		{"else the default", "", "", shanghai, "Asia/Shanghai"},
		{"a broken cookie falls through", "", "../etc", shanghai, "Asia/Shanghai"},
		{"the machine's zone is never used", "Local", "Local", nil, "UTC"},
	}
	for _, tc := range cases {
		if got := timezone.Resolve(tc.setting, tc.browser, tc.def).String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	if got := timezone.Format(at, shanghai); got != "2026-03-01 18:00:05 +08:00" {
		t.Errorf("Shanghai: %q", got)
	}
	if got := timezone.Format(at, time.UTC); got != "2026-03-01 10:00:05 UTC" {
		t.Errorf("UTC: %q", got)
	}
}
