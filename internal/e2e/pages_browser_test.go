package e2e_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"restoredesk/internal/audit"
	"restoredesk/internal/demo"
	"restoredesk/internal/testkit"
)

// TestAuditLogReadsAsLines: a page of 50 events, each with a 500-byte user
// agent and 2 KB of details, stays a page of lines at 1280 px (under
// 4,000 px tall), and once opened no detail value is squeezed narrower than
// 60 px.
func TestAuditLogReadsAsLines(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true})
	team := s.Team(t, "payments")
	ua := "Mozilla/5.0 (X11; Linux x86_64) " + strings.Repeat("AppleWebKit/537.36 (KHTML, like Gecko) ", 12)
	ua = ua[:500]
	for i := range 50 {
		ev := audit.Event{
			Actor:  audit.Actor{Name: "alice", ClientAddr: "203.0.113.7", UserAgent: ua},
			Action: audit.RequestCreated, TargetType: audit.TargetRequest, TargetID: itoa(int64(1000 + i)), TeamID: team,
			Details: map[string]any{
				"reason":  strings.Repeat("订单表被误删，需要恢复上周的数据 ", 20)[:700],
				"spec":    map[string]any{"instanceClass": "db.mysql.s1.micro", "notes": strings.Repeat("x", 900)},
				"backup":  strings.Repeat("bk-0123456789abcdef/", 20),
				"attempt": i,
			},
		}
		err := pgx.BeginFunc(t.Context(), s.Pool, func(tx pgx.Tx) error {
			_, err := audit.Record(t.Context(), tx, ev)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx := newBrowser(t)
	do(t, ctx, chromedp.EmulateViewport(1280, 900))
	signIn(t, ctx, s.URL, "dave") // the demo's auditor
	do(t, ctx, chromedp.Navigate(s.URL+"/audit"), chromedp.WaitVisible(chromedp.CSS("[data-testid=audit-table]")))
	if n := must(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=audit-event]').length`)); n != 50 {
		t.Fatalf("%d events on the page, want 50", n)
	}
	h := must(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollHeight`))
	t.Logf("50 events: the page is %d px tall at 1280 px", h)
	if h >= 4000 {
		t.Errorf("the page is %d px tall at 1280 px, want under 4,000", h)
	}
	if w := must(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 1280 {
		t.Errorf("the page is %d px wide at 1280 px", w)
	}
	// The user agent and the address are there on demand.
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('[data-testid=audit-details]').forEach(d => d.open = true)`))
	narrow := must(t, ctx, chromedp.Evaluate[[]int](`[...document.querySelectorAll('[data-testid=audit-table] dd')]
		.map(dd => Math.round(dd.getBoundingClientRect().width)).filter(w => w < 60)`))
	if len(narrow) > 0 {
		t.Errorf("%d detail values narrower than 60 px: %v", len(narrow), narrow)
	}
	// (The newest event is dave's own sign-in; the other 49 are the test's.)
	if uas := must(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('[data-testid=user-agent]')].filter(e => e.textContent.length === 500 && e.offsetWidth >= 60).length`)); uas != 49 {
		t.Errorf("%d long user agents readable once opened, want 49", uas)
	}
}

// TestApproveFromTheQueue: bob's queue row shows what alice's request will
// create (engine, class with CPU and memory, storage, the VPC by name,
// billing in words) and bob approves it from there, back on the queue.
func TestApproveFromTheQueue(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true})
	id := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "mysql-payorders1")
	var vpcName string
	if err := s.Pool.QueryRow(t.Context(), `SELECT v.vpc_name FROM restore_requests r
		JOIN team_vpcs v ON v.team_id = r.team_id AND v.region = r.region AND v.vpc_id = r.spec->>'vpcId'
		WHERE r.id = $1`, id).Scan(&vpcName); err != nil || vpcName == "" {
		t.Fatalf("the request's VPC has no name in the seed: %q %v", vpcName, err)
	}
	ctx := newBrowser(t)
	do(t, ctx, chromedp.EmulateViewport(1280, 900))
	signIn(t, ctx, s.URL, "bob")
	row := `[data-testid=request-row][data-id="` + itoa(id) + `"]`
	do(t, ctx, chromedp.Navigate(s.URL+"/approvals"), chromedp.WaitVisible(chromedp.CSS(row)))
	text := func(testid string) string {
		return must(t, ctx, chromedp.Text(chromedp.CSS(row+" [data-testid="+testid+"]")))
	}
	if e := text("queue-engine"); !strings.HasPrefix(e, "MySQL") {
		t.Errorf("engine %q", e)
	}
	if c := text("queue-class"); !strings.Contains(c, "CPU") || !strings.Contains(c, "GB") {
		t.Errorf("class %q lacks CPU and memory", c)
	}
	if st := text("queue-storage"); !strings.Contains(st, "GB") || strings.Contains(st, "_") {
		t.Errorf("storage %q", st)
	}
	if v := text("queue-vpc"); !strings.Contains(v, vpcName) {
		t.Errorf("VPC %q lacks its name %q", v, vpcName)
	}
	if b := text("queue-billing"); b != "Pay as you go, by duration" {
		t.Errorf("billing %q", b)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(row+" [data-testid=queue-approve]")), chromedp.WaitVisible(chromedp.CSS("[data-testid=flash]")))
	if loc := must(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "/approvals") {
		t.Errorf("after approving from the queue the browser is at %s", loc)
	}
	if f := must(t, ctx, chromedp.Text(chromedp.CSS("[data-testid=flash]"))); !strings.Contains(f, "#"+itoa(id)) || !strings.Contains(f, "Approved") {
		t.Errorf("flash %q", f)
	}
	var status, decider string
	s.Pool.QueryRow(t.Context(), `SELECT r.status, u.username FROM restore_requests r JOIN users u ON u.id = r.decided_by WHERE r.id = $1`, id).Scan(&status, &decider)
	if status != "approved" || decider != "bob" {
		t.Errorf("request is %q decided by %q, want approved by bob", status, decider)
	}
}
