package views_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"restoredesk/internal/views"
)

// TestAuditTimeline: one entry per event, oldest first, with the action in
// words, the actor and the details; addresses only when the event has them.
func TestAuditTimeline(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 2, 0, 5, 123456000, time.UTC)
	events := []views.AuditEvent{
		{Seq: 7, Time: at, Actor: "alice", Action: "request.created", TargetType: "request", TargetID: "42",
			ClientAddr: "203.0.113.7", UserAgent: "Firefox/128", Details: []views.KV{{"reason", "<dropped> table"}}},
		{Seq: 9, Time: at.Add(time.Minute), Actor: "system", Action: "jdcloud.call", TargetType: "request", TargetID: "42",
			Details: []views.KV{{"http_status", "200"}, {"operation", "createInstanceFromBackup"}}},
	}
	var buf bytes.Buffer
	if err := views.AuditTimeline(events).Render(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	items := d.Find(`[data-testid="timeline-event"]`)
	if items.Length() != 2 {
		t.Fatalf("%d entries, want 2", items.Length())
	}
	first, second := items.Eq(0).Text(), items.Eq(1).Text()
	for _, want := range []string{"Request created", "alice", "203.0.113.7", "Firefox/128", "<dropped> table", "2026-03-01 02:00:05 UTC"} {
		if !strings.Contains(first, want) {
			t.Errorf("first entry %q lacks %q", first, want)
		}
	}
	if !strings.Contains(second, "JD Cloud call") || !strings.Contains(second, "createInstanceFromBackup") || strings.Contains(second, "203.0.113.7") {
		t.Errorf("second entry %q", second)
	}
	if dt := items.Eq(0).Find("time").AttrOr("datetime", ""); dt != "2026-03-01T02:00:05.123456Z" {
		t.Errorf("datetime %q", dt)
	}
	buf.Reset()
	views.AuditTimeline(nil).Render(t.Context(), &buf)
	if !strings.Contains(buf.String(), `data-testid="timeline-empty"`) {
		t.Errorf("empty timeline renders %q", buf.String())
	}
}
