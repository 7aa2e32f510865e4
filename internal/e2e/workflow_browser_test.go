package e2e_test

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"restoredesk/internal/demo"
	"restoredesk/internal/testkit"
)

// signIn signs username in through the form and waits for the dashboard.
func signIn(t *testing.T, ctx context.Context, base, username string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), demo.Password),
		chromedp.Click(chromedp.CSS("[data-testid=sign-in]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=greeting]")),
	)
}

func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=sign-out]")), chromedp.WaitVisible(chromedp.CSS("#username")))
}

// choose picks value in a select the way a user does, firing its change
// event, and waits until the request form has reloaded the choices that
// depend on it (the form is aria-busy meanwhile): what is typed next must go
// into the form that stays, not into one about to be replaced.
func choose(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(async () => { const s = document.getElementById(`+quote(id)+`);
		s.value = `+quote(value)+`; s.dispatchEvent(new Event('change', {bubbles: true}));
		for (let i = 0; i < 1200; i++) {
			const f = document.getElementById('request-form');
			if (!f || !f.hasAttribute('aria-busy')) { return; }
			await new Promise(r => setTimeout(r, 50));
		}
	})()`, chromedp.EvalAwaitPromise)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// post sends a same-origin form POST from the page (as a forged or scripted
// submission would) and returns the status.
func post(t *testing.T, ctx context.Context, path, body string) int {
	t.Helper()
	return must(t, ctx, chromedp.Evaluate[int](`fetch(`+quote(path)+`, {method: 'POST', redirect: 'manual',
		headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: `+quote(body)+`}).then(r => r.type === 'opaqueredirect' ? 303 : r.status)`,
		chromedp.EvalAwaitPromise))
}

// TestRestoreJourney: alice requests a restore through the form; bob finds
// it and approves it; the request page shows the instance id and then Ready
// without a reload.
func TestRestoreJourney(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true}) // the demo seed gives both teams their instances and VPCs
	s.RunWorker(t, testkit.FastWorker())
	// A long walk (form, approval, Ready, history): room for a loaded machine.
	ctx := newBrowserFor(t, 3*time.Minute)

	signIn(t, ctx, s.URL, "alice")
	do(t, ctx,
		chromedp.Navigate(s.URL+"/requests/new"), chromedp.WaitVisible(chromedp.CSS("#source")),
		choose("source", "mysql-payorders1"),
		// The script reloads the dependent choices in place.
		chromedp.WaitReady(chromedp.CSS("#backup option:nth-child(2)")),
	)
	if engine := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=engine]"))); !strings.HasPrefix(engine, "MySQL") {
		t.Errorf("engine shown %q", engine)
	}
	backup := must(t, ctx, chromedp.Evaluate[string](`document.querySelector('#backup option:nth-child(2)').value`))
	do(t, ctx,
		choose("backup", backup),
		chromedp.WaitVisible(chromedp.CSS("#reason")),
		chromedp.SendKeys(chromedp.CSS("#reason"), "Customer dispute #4411: orders of last week"),
		chromedp.Click(chromedp.CSS("[data-testid=submit-request]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=request-status]")),
	)
	url := must(t, ctx, chromedp.Location())
	if !strings.Contains(url, "/requests/") {
		t.Fatalf("after submit at %s", url)
	}
	if st := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=request-status] [data-testid=badge]"))); st != "Pending approval" {
		t.Errorf("new request shows %q", st)
	}
	signOut(t, ctx)

	signIn(t, ctx, s.URL, "bob")
	// bob finds it in his approvals queue and opens it from there.
	reqID := url[strings.LastIndex(url, "/")+1:]
	row := `[data-testid=approvals-decide] [data-testid=request-row][data-id="` + reqID + `"] a`
	do(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=nav-approvals]")), chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.Click(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.CSS("[data-testid=approve]")),
		chromedp.Click(chromedp.CSS("[data-testid=approve]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=flash]")),
		// A marker that a reload would erase.
		chromedp.Evaluate[chromedp.Void](`window.__noReload = 1`),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=instance-id]")),
	)
	id := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=instance-id]")))
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=request-status] [data-testid=badge]")))
		if st == "Ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request page still shows %q", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if must(t, ctx, chromedp.Evaluate[int](`window.__noReload || 0`)) != 1 {
		t.Error("the page was reloaded to show the status")
	}
	if n := must(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=flash]').length`)); n != 0 {
		t.Error("the \"Approved\" message stays above Ready")
	}
	if conn := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=connection]"))); !strings.HasSuffix(conn, ":3306") {
		t.Errorf("connection details %q", conn)
	}
	if id == "" || len(s.Restore.Sim.InstancesByTag("cn-north-1", "restoredesk", s.Restore.DeploymentID+"/"+reqID)) != 1 {
		t.Errorf("instance %q not the request's tagged instance", id)
	}
	timeline := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=timeline]")))
	for _, want := range []string{"alice filed the request", "bob approved", "Restore Desk found the backup ready",
		"JD Cloud accepted the create (request id ", "JD Cloud is building instance " + id, "Instance " + id + " is running"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	// The page speaks the form's words: what a reader sees holds none of
	// JD Cloud's or the database's identifiers (the raw details are one
	// click away, closed).
	// (The connection address is JD Cloud's host name, region id and all.)
	text := must(t, ctx, chromedp.Evaluate[string](`(() => { const m = document.querySelector('main').cloneNode(true);
		m.querySelectorAll('[data-testid=connection]').forEach(e => e.remove()); document.body.append(m);
		const s = m.innerText; m.remove(); return s; })()`))
	if raw := rawEnums.FindAllString(text, -1); len(raw) > 0 {
		t.Errorf("the request page shows raw identifiers %q:\n%s", raw, text)
	}
	// The history's row names the new instance and when it was ready.
	histRow := `[data-testid=request-row][data-id="` + reqID + `"]`
	do(t, ctx, chromedp.Navigate(s.URL+"/requests"), chromedp.WaitVisible(chromedp.CSS(histRow)))
	if inst := must(t, ctx, chromedp.Text(chromedp.CSS(histRow+" [data-testid=row-instance]"))); !strings.Contains(inst, id) {
		t.Errorf("history row's instance %q, want %s", inst, id)
	}
	if ready := must(t, ctx, chromedp.Text(chromedp.CSS(histRow+" [data-testid=row-ready]"))); !strings.HasPrefix(ready, "ready ") {
		t.Errorf("history row's ready time %q", ready)
	}
	if r := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=list-range]"))); r != "1–1 of 1" {
		t.Errorf("history says %q", r)
	}
}

// rawEnums are identifiers a page must translate: billing modes, storage
// types, architectures, instance and request states, region ids, audit
// actions and the details' keys.
var rawEnums = regexp.MustCompile(`\b(?:(?:pre|post)paid_by_\w+|LOCAL_SSD|EBS_SSD|LOCAL_NVME|standalone\b|RUNNING|BUILDING|BUILD_ERROR|` +
	`pending_approval|cn-(?:north|east|south)-\d\b|request\.[a-z_]+|jdcloud\.call|requester_id|duration_ms|http_status)`)

// TestDecisionRules: carol (member of payments, lead of search only) cannot
// decide a payments request; bob rejects it with a comment and alice sees
// it; alice cannot approve her own request by any route; frank cannot pick a
// payments instance, and a forged POST naming one is refused.
func TestDecisionRules(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true}) // the demo seed gives both teams their instances and VPCs
	ctx := newBrowser(t)
	id := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "mysql-payorders1")
	path := "/requests/" + itoa(id)

	signIn(t, ctx, s.URL, "carol")
	do(t, ctx, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("[data-testid=request-status]")))
	if n := must(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=approve],[data-testid=reject]').length`)); n != 0 {
		t.Error("carol is offered Approve or Reject on a payments request")
	}
	if st := post(t, ctx, path+"/approve", ""); st != 403 {
		t.Errorf("carol's approve POST = %d, want 403", st)
	}
	signOut(t, ctx)

	signIn(t, ctx, s.URL, "alice")
	do(t, ctx, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("[data-testid=cancel]")))
	if n := must(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=approve]').length`)); n != 0 {
		t.Error("alice is offered Approve on her own request")
	}
	for _, action := range []string{"/approve", "/reject"} {
		if st := post(t, ctx, path+action, "comment=self"); st != 403 {
			t.Errorf("alice's own %s = %d, want 403", action, st)
		}
	}
	signOut(t, ctx)

	signIn(t, ctx, s.URL, "bob")
	do(t, ctx, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("[data-testid=reject]")),
		chromedp.Click(chromedp.CSS("[data-testid=reject]")), // no comment: refused, nothing changes
		chromedp.WaitVisible(chromedp.CSS("[data-testid=error-comment]")),
		chromedp.SendKeys(chromedp.CSS("#comment"), "Use the read replica instead."),
		chromedp.Click(chromedp.CSS("[data-testid=reject]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=decision-comment]")),
	)
	signOut(t, ctx)

	signIn(t, ctx, s.URL, "alice")
	do(t, ctx, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("[data-testid=decision-comment]")))
	if c := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=decision-comment]"))); c != "Use the read replica instead." {
		t.Errorf("alice sees comment %q", c)
	}
	if st := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=request-status] [data-testid=badge]"))); st != "Rejected" {
		t.Errorf("alice sees %q", st)
	}
	signOut(t, ctx)

	signIn(t, ctx, s.URL, "frank")
	do(t, ctx, chromedp.Navigate(s.URL+"/requests/new"), chromedp.WaitVisible(chromedp.CSS("#source")))
	offered := strings.Fields(must(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#source option, #team option')].map(o => o.value).join(' ')`)))
	if slices.Contains(offered, "mysql-payorders1") || slices.Contains(offered, itoa(s.Team(t, "payments"))) {
		t.Errorf("frank is offered payments choices: %s", offered)
	}
	form := s.RequestForm(t, "alice", "payments", "mysql-payorders1")
	form.Set("key", "forged-by-frank-0001")
	if st := post(t, ctx, "/requests", form.Encode()); st != 422 {
		t.Errorf("frank's forged request naming a payments instance = %d, want 422", st)
	}
	var n int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM restore_requests WHERE requester_id = (SELECT id FROM users WHERE username = 'frank')`).Scan(&n)
	if n != 0 {
		t.Errorf("frank's forged request was stored")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
