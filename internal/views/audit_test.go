package views_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"restoredesk/internal/views"
)

// TestAuditTimeline: one entry per event, oldest first, with its sentence and,
// one click away, the details; addresses only when the event has them;
// folded routine calls in one entry.
func TestAuditTimeline(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 2, 0, 5, 123456000, time.UTC)
	events := []views.AuditEvent{
		{Seq: 7, Time: at, Actor: "alice", Action: "request.created", TargetType: "request", TargetID: "42", Sentence: "alice filed the request",
			ClientAddr: "203.0.113.7", UserAgent: "Firefox/128", Details: []views.KV{{"reason", "<dropped> table"}}},
		{Seq: 9, Time: at.Add(time.Minute), Actor: "system", Action: "jdcloud.call", TargetType: "request", TargetID: "42", Sentence: "JD Cloud accepted the create",
			Details: []views.KV{{"http_status", "200"}, {"operation", "createInstanceFromBackup"}}},
	}
	var buf bytes.Buffer
	routine := views.AuditEvent{Seq: 10, Time: at.Add(2 * time.Minute), Actor: "system", Action: "jdcloud.call", Sentence: "JD Cloud answered a status check"}
	timeline := []views.TimelineItem{{Event: events[0]}, {Event: events[1]}, {Folded: []views.AuditEvent{routine, routine}}}
	if err := views.AuditTimeline(timeline).Render(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Find(`[data-testid="timeline"] > li`).Length(); n != 3 {
		t.Fatalf("%d entries, want 3", n)
	}
	if f := d.Find(`[data-testid="timeline-folded"] summary`).Text(); !strings.Contains(f, "2 routine JD Cloud calls") {
		t.Errorf("folded entry says %q", f)
	}
	items := d.Find(`[data-testid="timeline"] > [data-testid="timeline-event"]`)
	first, second := items.Eq(0).Text(), items.Eq(1).Text()
	for _, want := range []string{"alice filed the request", "request.created", "203.0.113.7", "Firefox/128", "<dropped> table", "2026-03-01 02:00:05 UTC"} {
		if !strings.Contains(first, want) {
			t.Errorf("first entry %q lacks %q", first, want)
		}
	}
	if !strings.Contains(second, "JD Cloud accepted the create") || !strings.Contains(second, "createInstanceFromBackup") || strings.Contains(second, "203.0.113.7") {
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
