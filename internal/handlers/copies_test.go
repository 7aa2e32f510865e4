package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"restoredesk/internal/postgres"
	"restoredesk/internal/testkit"
)

// TestCopyLifeThroughThePages: alice asks to keep the copy 1 day, which the
// lead sees in the queue; once ready the page shows the copy's deletion time
// (viewer's zone and UTC) and cost so far; alice extends it once, is refused
// beyond the team's limit at the field, then deletes it after a
// confirmation naming the instance; the worker deletes it in JD Cloud and
// the Live copies total drops to nothing. Someone of the team who is
// neither the requester nor a lead sees the copy without the actions.
func TestCopyLifeThroughThePages(t *testing.T) {
	t.Parallel()
	w := newFormWorld(t)
	s := w.s
	s.CreateUser(t, testkit.User{Username: "erin", Teams: map[string]bool{"payments": false}})
	s.RunWorker(t, testkit.FastWorker())
	alice, bob, erin, frank := s.SignInAs(t, "alice"), s.SignInAs(t, "bob"), s.SignInAs(t, "erin"), s.SignInAs(t, "frank")

	// Beyond the team's limit: refused at the field, the input kept.
	form := s.RequestForm(t, "alice", "payments", "mysql-payorders1")
	form.Set("keep_days", "15")
	resp, body := alice.PostForm(t, "/requests", form)
	d := testkit.Doc(t, body)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(d.Find(`[data-testid="error-keep_days"]`).Text(), "at most 14 days") {
		t.Fatalf("Keep for 15: %d, %q", resp.StatusCode, d.Find(`[data-testid="error-keep_days"]`).Text())
	}
	if v := d.Find(`#keep_days`).AttrOr("value", ""); v != "15" {
		t.Errorf("typed Keep for not kept: %q", v)
	}
	form.Set("keep_days", "1")
	id := submit(t, alice, form)
	q := getPage(t, bob, "/approvals", http.StatusOK)
	if k := q.Find(`[data-testid="queue-keep-for"]`).Text(); k != "1 day from Ready" {
		t.Errorf("the queue shows Keep for %q", k)
	}
	page := fmt.Sprintf("/requests/%d", id)
	if resp, body := bob.PostForm(t, page+"/approve", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}

	// Ready, and its copy recorded.
	var instance string
	var copyID int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.Pool.QueryRow(t.Context(), `SELECT id, instance_id FROM copies WHERE request_id = $1`, id).Scan(&copyID, &instance)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no copy of request %d: %v", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d = getPage(t, alice, page, http.StatusOK)
	sec := d.Find(`[data-testid="copy-` + instance + `"]`)
	if sec.Length() != 1 {
		t.Fatalf("no copy section for %s", instance)
	}
	at := sec.Find(`[data-testid="copy-delete-at"]`).Text()
	if !strings.Contains(at, "UTC") || sec.Find(`[data-testid="copy-delete-at"] time`).Length() != 1 {
		t.Errorf("deletion time shown as %q, want the viewer's zone and UTC", at)
	}
	if so := sec.Find(`[data-testid="copy-so-far"]`).Text(); !strings.Contains(so, "¥") || !strings.Contains(so, "per month") {
		t.Errorf("cost so far %q", so)
	}
	if k := d.Find(`[data-testid="keep-for"]`).Text(); !strings.HasPrefix(k, "1 day from Ready: deleted at") {
		t.Errorf("Keep for on the page: %q", k)
	}
	if e := getPage(t, erin, page, http.StatusOK); e.Find(`[data-testid="extend"]`).Length() != 0 || e.Find(`[data-testid="delete-now"]`).Length() != 0 {
		t.Error("a member who is neither requester nor lead is offered the copy's actions")
	}
	if resp, _ := erin.PostForm(t, fmt.Sprintf("%s/copies/%d/extend", page, copyID), url.Values{"keep_days": {"3"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("erin's extend: %d, want 403", resp.StatusCode)
	}

	// Extend: once within the limit; beyond it refused at the field.
	db := postgres.New(s.Pool)
	before, _ := db.Copy(t.Context(), copyID)
	if resp, body := alice.PostForm(t, fmt.Sprintf("%s/copies/%d/extend", page, copyID), url.Values{"keep_days": {"2"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("extend: %d %s", resp.StatusCode, body)
	}
	after, _ := db.Copy(t.Context(), copyID)
	if after.DeleteAt == nil || !after.DeleteAt.Equal(after.ReadyAt.Add(48*time.Hour)) || !after.DeleteAt.After(*before.DeleteAt) {
		t.Errorf("extended to %v (ready %v, was %v), want Ready + 2 days", after.DeleteAt, after.ReadyAt, before.DeleteAt)
	}
	resp, body = alice.PostForm(t, fmt.Sprintf("%s/copies/%d/extend", page, copyID), url.Values{"keep_days": {"30"}})
	if msg := testkit.Doc(t, body).Find(`[data-testid="error-keep_days"]`).Text(); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(msg, "14 days") {
		t.Errorf("extend beyond the limit: %d %q", resp.StatusCode, msg)
	}
	if n := countEvents(t, s.Pool, "copy.extended"); n != 1 {
		t.Errorf("%d copy.extended events, want 1", n)
	}

	// Live copies: the team's copy with its total; not for another team.
	l := getPage(t, bob, "/copies", http.StatusOK)
	if l.Find(`[data-testid="live-`+instance+`"]`).Length() != 1 || !strings.Contains(l.Find(`[data-testid="total-payments"]`).Text(), "¥") {
		t.Error("Live copies does not list the copy with the team's total")
	}
	if getPage(t, frank, "/copies", http.StatusOK).Find(`[data-testid="live-`+instance+`"]`).Length() != 0 {
		t.Error("another team's engineer sees the copy")
	}

	// Delete now: a confirmation naming the instance first.
	c := getPage(t, alice, fmt.Sprintf("%s/copies/%d/delete", page, copyID), http.StatusOK)
	if !strings.Contains(c.Find(`[data-testid="confirm-text"]`).Text(), instance) {
		t.Error("the confirmation does not name the instance")
	}
	if resp, _ := alice.PostForm(t, fmt.Sprintf("%s/copies/%d/delete", page, copyID), url.Values{}); resp.StatusCode != http.StatusOK {
		t.Errorf("an unconfirmed delete: %d, want the confirmation again", resp.StatusCode)
	}
	if n := countEvents(t, s.Pool, "copy.delete_requested"); n != 0 {
		t.Fatalf("an unconfirmed delete recorded %d requests", n)
	}
	if resp, body := alice.PostForm(t, fmt.Sprintf("%s/copies/%d/delete", page, copyID), url.Values{"confirm": {instance}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		cp, err := db.Copy(t.Context(), copyID)
		if err == nil && cp.State == postgres.CopyDeleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("copy %+v not deleted (%v)", cp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, ok := s.Restore.Sim.Instance("cn-north-1", instance); ok {
		t.Error("the simulator still has the instance")
	}
	l = getPage(t, bob, "/copies", http.StatusOK)
	if l.Find(`[data-testid="live-`+instance+`"]`).Length() != 0 || l.Find(`[data-testid="total-payments"]`).Length() != 0 {
		t.Error("the deleted copy is still counted on Live copies")
	}
	if n := countEvents(t, s.Pool, "copy.delete_requested"); n != 1 {
		t.Errorf("%d copy.delete_requested events, want 1", n)
	}
}
