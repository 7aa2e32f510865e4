package notify

import (
	"testing"
	"time"

	"restoredesk/internal/request"
)

// TestMessageSaysWhatIsRestored: a message names the backup with its time
// in UTC (JD Cloud sends it without a zone, in Beijing time), or the point
// in time in UTC and Beijing time.
func TestMessageSaysWhatIsRestored(t *testing.T) {
	at := time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		r     request.Request
		label string
		want  string
	}{
		{"a backup", request.Request{ID: 7, Kind: request.FromBackup, BackupID: "bk-1", BackupName: "auto_20260301020000",
			BackupTime: "2026-03-01T02:00:00"}, "Backup", "auto_20260301020000 (bk-1), taken 2026-02-28 18:00 UTC"},
		{"a point in time", request.Request{ID: 8, Kind: request.ToPointInTime, RestoreTime: &at}, "Point in time",
			"2026-03-01 06:30 UTC (2026-03-01 14:30 Beijing time)"},
	} {
		m := render("d1", event{Type: "request.created", Request: tc.r, Now: at})
		var got string
		for _, f := range m.Fields {
			if f.Name == tc.label {
				got = f.Value
			}
		}
		if got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.name, tc.label, got, tc.want)
		}
		for _, f := range m.Fields {
			if f.Name == "Backup" && tc.r.Kind == request.ToPointInTime {
				t.Errorf("%s: a Backup field %q", tc.name, f.Value)
			}
		}
	}
}
