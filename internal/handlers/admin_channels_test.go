package handlers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/demo"
	"restoredesk/internal/jobs"
	"restoredesk/internal/notify"
	"restoredesk/internal/notify/notifytest"
	"restoredesk/internal/postgres"
	"restoredesk/internal/testkit"
)

// notifyServer starts the server with notifications whose deliveries reach
// rcv (nil: the demo outbox).
// In demo mode (rcv nil) the River client also works the jobs, as web serve's does.
func notifyServer(t *testing.T, rcv *notifytest.Receiver, cert notifytest.Cert, demo bool) *testkit.Server {
	t.Helper()
	return testkit.Start(t, testkit.Options{Demo: demo, Notify: notifyService(t, rcv, cert, demo)})
}

func notifyService(t *testing.T, rcv *notifytest.Receiver, cert notifytest.Cert, demo bool) func(*pgxpool.Pool) *notify.Service {
	box, _ := notify.NewBox("handlers test key, long enough to use")
	return func(pool *pgxpool.Pool) *notify.Service {
		cfg := notify.Config{Box: box, Outbox: demo, Backoff: []time.Duration{}, FanoutEvery: 50 * time.Millisecond}
		if rcv != nil {
			cfg.Sender = &notify.Sender{Net: rcv.Net(cert, "")}
		}
		n := notify.New(pool, cfg)
		client, err := jobs.New(pool, jobs.Config{Test: true, Work: demo, Poll: 50 * time.Millisecond}, n)
		if err != nil {
			t.Fatal(err)
		}
		if demo {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { jobs.Run(ctx, client, slog.New(slog.DiscardHandler)); close(done) }()
			t.Cleanup(func() { cancel(); <-done })
		}
		return notify.NewService(n, client)
	}
}

// channelPath stores a fresh e-mail channel of the team and returns its path with suffix.
func channelPath(suffix string, form url.Values) setupFunc {
	return func(t *testing.T, f *fixture, _ role) (string, url.Values) {
		id, err := postgres.New(f.s.Pool).InsertChannel(t.Context(), postgres.ChannelInput{TeamID: &f.team, Kind: "email",
			Name: f.fresh("list"), Address: "payments-team@example.com", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		return "/admin/channels/" + itoa(id) + suffix, form
	}
}

// failedDelivery stores a failed delivery to a fresh channel and returns its resend path.
func failedDelivery(t *testing.T, f *fixture, r role) (string, url.Values) {
	path, _ := channelPath("", nil)(t, f, r)
	ch, _ := strconv.ParseInt(strings.TrimPrefix(path, "/admin/channels/"), 10, 64)
	db := postgres.New(f.s.Pool)
	id, err := db.InsertDelivery(t.Context(), postgres.NewDelivery{ChannelID: &ch, Type: notify.TypeTest})
	if err == nil {
		err = db.RecordDelivery(t.Context(), id, postgres.DeliveryOutcome{Status: notify.StatusFailed, Error: "refused"})
	}
	if err != nil {
		t.Fatal(err)
	}
	return "/admin/deliveries/" + itoa(id) + "/resend", nil
}

// failedDeliveryJob stores a failed delivery and the finished River job that
// tried it, and returns the job's "Retry now" path.
func failedDeliveryJob(t *testing.T, f *fixture, r role) (string, url.Values) {
	path, _ := failedDelivery(t, f, r)
	delivery, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(path, "/admin/deliveries/"), "/resend"), 10, 64)
	return "/admin/jobs/" + itoa(deliveryJob(t, f.s, delivery, "completed")) + "/retry", nil
}

// deliveryJob stores a notify_deliver job of delivery in state, as River
// leaves one, and returns its id.
func deliveryJob(t *testing.T, s *testkit.Server, delivery int64, state string) int64 {
	t.Helper()
	return riverJob(t, s, "notify_deliver", `{"delivery_id": `+itoa(delivery)+`}`, state, "")
}

// riverJob stores a River job of kind with args in state, with lastError as
// its one recorded error when not empty, and returns its id.
func riverJob(t *testing.T, s *testkit.Server, kind, args, state, lastError string) int64 {
	t.Helper()
	var id int64
	err := s.Pool.QueryRow(t.Context(), `
		INSERT INTO river_job (args, kind, max_attempts, queue, state, attempt, attempted_at, finalized_at, errors)
		VALUES ($1::jsonb, $2, 5, 'default', $3::river_job_state, CASE WHEN $4 = '' THEN 0 ELSE 1 END,
			CASE WHEN $4 = '' THEN NULL ELSE now() END,
			CASE WHEN $3 IN ('completed', 'discarded', 'cancelled') THEN now() END,
			CASE WHEN $4 = '' THEN NULL ELSE ARRAY[jsonb_build_object('at', now(), 'attempt', 1, 'error', $4::text)] END)
		RETURNING id`, args, kind, state, lastError).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestChannelSecretsAreNeverShownBack(t *testing.T) {
	s := notifyServer(t, nil, notifytest.Cert{}, false)
	s.CreateUser(t, testkit.User{Username: "admin", Admin: true})
	s.CreateUser(t, testkit.User{Username: "bob", Teams: map[string]bool{"payments": true}})
	team := s.Team(t, "payments")
	admin := s.SignInAs(t, "admin")
	const token, secret = "0123456789tokentokentoken", "sign-secret-xyz"
	form := url.Values{"kind": {"feishu"}, "team": {itoa(team)}, "name": {"payments robot"}, "enabled": {"on"},
		"url": {"https://open.feishu.cn/open-apis/bot/v2/hook/" + token}, "secret": {secret}}

	// A wrong host is refused, keeping what was typed but never the URL or secret.
	bad := cloneValues(form)
	bad.Set("url", "https://open.feishu.cn.attacker.example/open-apis/bot/v2/hook/"+token)
	resp, body := admin.PostForm(t, "/admin/channels", bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "must be on https://open.feishu.cn") ||
		!strings.Contains(body, `value="payments robot"`) || strings.Contains(body, token) || strings.Contains(body, secret) {
		t.Fatalf("a wrong host: %d\n%s", resp.StatusCode, body)
	}
	resp, body = admin.PostForm(t, "/admin/channels", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	for _, path := range []string{"/admin/channels", loc} {
		_, page := admin.Get(t, path)
		if strings.Contains(page, token) || strings.Contains(page, secret) || !strings.Contains(page, "https://open.feishu.cn/••••oken") {
			t.Errorf("%s shows the secret or not the masked URL:\n%s", path, page)
		}
	}
	var stored []byte
	s.Pool.QueryRow(t.Context(), `SELECT secrets FROM notify_channels`).Scan(&stored)
	if strings.Contains(string(stored), token) {
		t.Error("the URL is stored in clear")
	}
	// Renaming keeps the secrets; the audit event names the fields, never the values.
	resp, _ = admin.PostForm(t, loc, url.Values{"name": {"payments bot"}, "enabled": {"on"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	var details string
	s.Pool.QueryRow(t.Context(), `SELECT string_agg(details::text, ' ' ORDER BY seq) FROM audit_events WHERE action = 'admin.channel_changed'`).Scan(&details)
	if !strings.Contains(details, `"change": "created"`) || !strings.Contains(details, `"changed": ["name"]`) ||
		strings.Contains(details, token) || strings.Contains(details, secret) {
		t.Errorf("channel events: %s", details)
	}
	ch, _ := postgres.New(s.Pool).ListChannels(t.Context())
	if len(ch) != 1 || ch[0].Name != "payments bot" || !ch[0].HasSecret || ch[0].URLHint != "https://open.feishu.cn/••••oken" {
		t.Errorf("stored channel %+v", ch)
	}
	// Webhooks at internal addresses are refused unless allow-listed.
	for _, u := range []string{"https://127.0.0.1/hook", "https://10.0.0.1/hook"} {
		resp, body := admin.PostForm(t, "/admin/channels", url.Values{"kind": {"webhook"}, "name": {"w"}, "url": {u}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "allow-list") {
			t.Errorf("%s: %d", u, resp.StatusCode)
		}
	}
	resp, _ = admin.PostForm(t, "/admin/channels", url.Values{"kind": {"webhook"}, "name": {"w"}, "url": {"https://10.0.0.1/hook"}, "allow_networks": {"10.0.0.0/8"}})
	if resp.StatusCode != http.StatusCreated { // its generated secret shown once
		t.Errorf("an allow-listed address: %d", resp.StatusCode)
	}
	// Leads are not admins.
	if resp, _ := s.SignInAs(t, "bob").Get(t, "/admin/channels"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a lead opened the channels: %d", resp.StatusCode)
	}
}

// "Send test message" reaches the endpoint at once and shows its answer; a
// channel failing repeatedly is flagged on the admin landing page, and its
// failed deliveries can be queued again.
func TestChannelTestFlagAndResend(t *testing.T) {
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Status: 200, Body: `{"code":0,"msg":"success"}`})
	s := notifyServer(t, rcv, cert, false)
	s.CreateUser(t, testkit.User{Username: "admin", Admin: true})
	admin := s.SignInAs(t, "admin")
	resp, _ := admin.PostForm(t, "/admin/channels", url.Values{"kind": {"lark"}, "name": {"global lark"}, "enabled": {"on"},
		"url": {"https://open.larksuite.com/open-apis/bot/v2/hook/tok"}, "secret": {"s"}})
	loc := resp.Header.Get("Location")
	resp, body := admin.PostForm(t, loc+"/test", nil)
	page := testkit.Doc(t, body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page.Find(`[data-testid="test-result"]`).Text(), "sent") || len(rcv.Seen()) != 1 {
		t.Fatalf("test message: %d, seen %d\n%s", resp.StatusCode, len(rcv.Seen()), body)
	}
	if !strings.Contains(string(rcv.Seen()[0].Body), "Test message from Restore Desk") {
		t.Errorf("test body %s", rcv.Seen()[0].Body)
	}
	if _, home := admin.Get(t, "/admin/users"); strings.Contains(home, "failing-channels") {
		t.Error("a working channel is flagged")
	}
	rcv.Script(notifytest.Reply{Body: `{"code":19021,"msg":"sign match fail"}`}, notifytest.Reply{Body: `{"code":19021,"msg":"sign match fail"}`},
		notifytest.Reply{Status: 500, Body: "down"})
	for range 3 {
		admin.PostForm(t, loc+"/test", nil)
	}
	_, home := admin.Get(t, "/admin/users")
	flag := testkit.Doc(t, home).Find(`[data-testid="failing-channels"]`).Text()
	if !strings.Contains(flag, "global lark") || !strings.Contains(flag, "500") {
		t.Errorf("the failing channel is not flagged on the admin home: %q", flag)
	}
	if n := countEvents(t, s.Pool, "admin.channel_tested"); n != 4 {
		t.Errorf("%d admin.channel_tested events, want 4", n)
	}
	_, chPage := admin.Get(t, loc)
	d := testkit.Doc(t, chPage)
	if !strings.Contains(d.Find(`[data-testid="deliveries"]`).Text(), "sign match fail") {
		t.Errorf("the deliveries list lacks the endpoint's answer")
	}
	action, ok := d.Find(`[data-testid="resend"]`).First().Parent().Attr("action")
	if !ok {
		t.Fatal("no resend button on a failed delivery")
	}
	if resp, _ := admin.PostForm(t, action, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend: %d", resp.StatusCode)
	}
	var status string
	var jobs int
	s.Pool.QueryRow(t.Context(), `SELECT status FROM notify_deliveries WHERE id = $1`, strings.Split(action, "/")[3]).Scan(&status)
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'notify_deliver'`).Scan(&jobs)
	if status != "queued" || jobs != 1 {
		t.Errorf("after resend: status %s, %d jobs", status, jobs)
	}
	if resp, body := admin.PostForm(t, action, nil); resp.StatusCode != http.StatusSeeOther || countEventsJobs(t, s) != 1 {
		t.Errorf("a second resend of a queued delivery: %d %s", resp.StatusCode, body)
	}
}

func countEventsJobs(t *testing.T, s *testkit.Server) int {
	var n int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'notify_deliver'`).Scan(&n)
	return n
}

// In demo mode, the messages bob would have received are in the outbox; the
// requester is never asked to approve her own request.
func TestDemoOutbox(t *testing.T) {
	s := notifyServer(t, nil, notifytest.Cert{}, true)
	s.GrantSeedOwnership(t, "payments")
	id := s.SubmitRequestAs(t, "alice", demo.Password, "payments", "mysql-payorders1")
	bob := s.SignIn(t, "bob", demo.Password)
	title := "Restore request #" + itoa(id) + " needs approval"
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := bob.Get(t, "/outbox")
		var toBob, toAlice bool
		testkit.Doc(t, body).Find(`[data-testid="outbox-message"]`).Each(func(_ int, m *goquery.Selection) {
			text := m.Text()
			if !strings.Contains(text, title) {
				return
			}
			toBob = toBob || strings.Contains(text, "to bob")
			toAlice = toAlice || strings.Contains(text, "to alice")
			if strings.Contains(text, "to bob") && (!strings.Contains(text, "Waiting for") || m.Find(`a[href="/requests/`+itoa(id)+`"]`).Length() == 0) {
				t.Errorf("bob's message lacks who must act or the link:\n%s", text)
			}
		})
		if toAlice {
			t.Fatal("alice was asked to approve her own request")
		}
		if toBob {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob's message never reached the outbox:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The outbox exists in demo mode only; the account page keeps the reminder choice.
func TestOutboxAndReminderChoice(t *testing.T) {
	cert := notifytest.NewCert(t)
	s := notifyServer(t, notifytest.NewReceiver(t, cert, notifytest.Reply{}), cert, false)
	s.CreateUser(t, testkit.User{Username: "bob", Teams: map[string]bool{"payments": true}})
	bob := s.SignInAs(t, "bob")
	if resp, _ := bob.Get(t, "/outbox"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("outbox outside demo mode: %d", resp.StatusCode)
	}
	_, page := bob.Get(t, "/account")
	if _, on := testkit.Doc(t, page).Find(`input[name="reminder_mail"]`).Attr("checked"); !on {
		t.Error("reminder mail is not on by default")
	}
	if resp, _ := bob.PostForm(t, "/account/notifications", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save choices: %d", resp.StatusCode)
	}
	_, page = bob.Get(t, "/account")
	if _, on := testkit.Doc(t, page).Find(`input[name="reminder_mail"]`).Attr("checked"); on {
		t.Error("reminder mail still on after turning it off")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// A webhook added without a secret gets a generated one, shown on the page
// that answers the creation and never again; the test message is signed with
// it, so the receiver can verify with what the admin copied.
func TestGeneratedWebhookSecretShownOnce(t *testing.T) {
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Status: 204})
	s := notifyServer(t, rcv, cert, false)
	s.CreateUser(t, testkit.User{Username: "admin", Admin: true})
	admin := s.SignInAs(t, "admin")
	resp, body := admin.PostForm(t, "/admin/channels", url.Values{"kind": {"webhook"}, "name": {"ops hook"}, "enabled": {"on"},
		"url": {"https://hooks.example.com/in"}, "allow_networks": {"127.0.0.0/8"}})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Cache-Control") == "" {
		t.Fatalf("create = %d (Cache-Control %q)\n%s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	secret := strings.TrimSpace(testkit.Doc(t, body).Find(`[data-testid="new-secret"] code`).Text())
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("no generated secret shown: %q", secret)
	}
	var id string
	if err := s.Pool.QueryRow(t.Context(), `SELECT id::text FROM notify_channels WHERE name = 'ops hook'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, page := admin.Get(t, "/admin/channels/"+id); strings.Contains(page, secret) {
		t.Error("the channel's page shows the secret again")
	}
	if resp, _ := admin.PostForm(t, "/admin/channels/"+id+"/test", nil); resp.StatusCode != http.StatusOK || len(rcv.Seen()) != 1 {
		t.Fatalf("test message: %d, %d seen", resp.StatusCode, len(rcv.Seen()))
	}
	r := rcv.Seen()[0]
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(r.Body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); r.Header.Get("webhook-signature") != want {
		t.Errorf("the test message is not signed with the secret shown: %q", r.Header.Get("webhook-signature"))
	}
}
