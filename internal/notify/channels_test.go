package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"restoredesk/internal/notify"
	"restoredesk/internal/notify/notifytest"
)

var sample = notify.Message{
	ID: "dlv_42", Type: "request.created", Time: time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC),
	Title:   "Restore request #7 needs approval",
	Summary: "alice asks to restore a backup of orders-db.",
	Fields:  []notify.Field{{"Team", "payments"}, {"Reason", "check [the] *totals* <b>now</b>"}},
	Action:  "Waiting for bob or grace to approve.",
	URL:     "https://restore.example.com/requests/7",
	Data:    map[string]any{"request": map[string]any{"id": 7}},
}

var fixedNow = time.Unix(1764662400, 0)

func sender(r *notifytest.Receiver, cert notifytest.Cert, resolveTo string) *notify.Sender {
	return &notify.Sender{Net: r.Net(cert, resolveTo), Now: func() time.Time { return fixedNow }}
}

// verifyStandardWebhook checks a delivery as a receiver would, written from
// the spec rather than with the sender's code.
func verifyStandardWebhook(t *testing.T, secret string, r notifytest.Request) {
	t.Helper()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(r.Body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if r.Header.Get("webhook-signature") != want {
		t.Errorf("webhook-signature %q, want %q", r.Header.Get("webhook-signature"), want)
	}
}

func TestWebhookDelivery(t *testing.T) {
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Status: 204})
	secret := notify.NewWebhookSecret()
	d := notify.Destination{Kind: notify.KindWebhook, URL: "https://hooks.example.com/restoredesk", Secret: secret,
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	a, err := sender(rcv, cert, "").Send(context.Background(), d, sample)
	if err != nil || a.Status != 204 {
		t.Fatalf("Send = %+v, %v", a, err)
	}
	got := rcv.Seen()[0]
	verifyStandardWebhook(t, secret, got)
	if got.Header.Get("webhook-id") != "dlv_42" || got.Header.Get("webhook-timestamp") != strconv.FormatInt(fixedNow.Unix(), 10) {
		t.Errorf("headers %v", got.Header)
	}
	var body struct {
		Type, Timestamp string
		Data            map[string]any
	}
	if err := json.Unmarshal(got.Body, &body); err != nil || body.Type != "request.created" || body.Timestamp != "2026-12-02T08:00:00Z" || body.Data["request"] == nil {
		t.Errorf("body %s (%v)", got.Body, err)
	}
}

// The same receiver, reached by name, is refused when the name resolves to a
// loopback or private address that nobody allow-listed; no request arrives.
func TestWebhookRefusesInternalAddresses(t *testing.T) {
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Status: 200})
	ctx := context.Background()
	for _, to := range []string{"127.0.0.1", "10.0.0.1"} {
		d := notify.Destination{Kind: notify.KindWebhook, URL: "https://internal.example.com/hook"}
		_, err := sender(rcv, cert, to).Send(ctx, d, sample)
		var ne *notify.Error
		if !errors.As(err, &ne) || ne.Retry || !strings.Contains(err.Error(), to) {
			t.Errorf("resolving to %s: %v, want a refusal naming the address, not retried", to, err)
		}
		d.URL = "https://" + to + "/hook"
		if _, err := sender(rcv, cert, to).Send(ctx, d, sample); err == nil {
			t.Errorf("literal %s accepted", to)
		}
	}
	if n := len(rcv.Seen()); n != 0 {
		t.Fatalf("the receiver saw %d requests", n)
	}
	// Allow-listed, the same address is used.
	d := notify.Destination{Kind: notify.KindWebhook, URL: "https://internal.example.com/hook", Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	if _, err := sender(rcv, cert, "127.0.0.1").Send(ctx, d, sample); err != nil || len(rcv.Seen()) != 1 {
		t.Errorf("allow-listed: %v, seen %d", err, len(rcv.Seen()))
	}
}

func TestWebhookAnswers(t *testing.T) {
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Status: 200})
	d := notify.Destination{Kind: notify.KindWebhook, URL: "https://hooks.example.com/in", Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	long := strings.Repeat("x", 3000)
	rcv.Script(
		notifytest.Reply{Status: 429, Header: map[string]string{"Retry-After": "120"}, Body: `{"error":"slow down"}`},
		notifytest.Reply{Status: 503, Body: long},
		notifytest.Reply{Status: 302, Header: map[string]string{"Location": "https://elsewhere.example.com/"}},
		notifytest.Reply{Status: 410},
	)
	s := sender(rcv, cert, "")
	ctx := context.Background()
	var ne *notify.Error
	_, err := s.Send(ctx, d, sample)
	if !errors.As(err, &ne) || !ne.Retry || ne.RetryAfter != 2*time.Minute || ne.Status != 429 || !strings.Contains(ne.Body, "slow down") {
		t.Errorf("429: %+v", ne)
	}
	_, err = s.Send(ctx, d, sample)
	if !errors.As(err, &ne) || !ne.Retry || ne.Status != 503 || len(ne.Body) > notify.MaxAnswer {
		t.Errorf("503: retry=%v status=%d body %d bytes", ne.Retry, ne.Status, len(ne.Body))
	}
	_, err = s.Send(ctx, d, sample)
	if !errors.As(err, &ne) || ne.Status != 302 || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("302: %v", err)
	}
	_, err = s.Send(ctx, d, sample)
	if !errors.As(err, &ne) || ne.Retry || ne.Status != 410 {
		t.Errorf("410: %+v", ne)
	}
	if n := len(rcv.Seen()); n != 4 {
		t.Errorf("the receiver saw %d requests, want 4 (the redirect not followed)", n)
	}
}

func TestFeishuAndLark(t *testing.T) {
	cert := notifytest.NewCert(t)
	for _, c := range []struct{ kind, host string }{{notify.KindFeishu, "open.feishu.cn"}, {notify.KindLark, "open.larksuite.com"}} {
		rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Body: `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`})
		d := notify.Destination{Kind: c.kind, URL: "https://" + c.host + "/open-apis/bot/v2/hook/tok-1", Secret: "demo"}
		if _, err := sender(rcv, cert, "").Send(context.Background(), d, sample); err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		got := rcv.Seen()[0]
		var body struct {
			Timestamp, Sign string
			MsgType         string `json:"msg_type"`
			Card            struct {
				Header   struct{ Title struct{ Content string } }
				Elements []struct {
					Tag     string
					Text    struct{ Tag, Content string }
					Actions []struct{ URL string }
				}
			}
		}
		if err := json.Unmarshal(got.Body, &body); err != nil {
			t.Fatal(err)
		}
		ts, _ := strconv.ParseInt(body.Timestamp, 10, 64)
		if got.Path != "/open-apis/bot/v2/hook/tok-1" || ts != fixedNow.Unix() || body.Sign != notify.SignFeishu(ts, "demo") || body.MsgType != "interactive" {
			t.Errorf("%s: path %s, body %s", c.kind, got.Path, got.Body)
		}
		if body.Card.Header.Title.Content != sample.Title || len(body.Card.Elements) != 2 ||
			body.Card.Elements[0].Text.Tag != "plain_text" || !strings.Contains(body.Card.Elements[0].Text.Content, "Waiting for bob or grace") ||
			body.Card.Elements[1].Actions[0].URL != sample.URL {
			t.Errorf("%s card: %s", c.kind, got.Body)
		}
	}
}

func TestFeishuRateLimitAndErrors(t *testing.T) {
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Body: `{"code":0}`})
	rcv.Script(notifytest.Reply{Body: `{"code":11232,"msg":"frequency limited"}`}, notifytest.Reply{Body: `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`})
	d := notify.Destination{Kind: notify.KindFeishu, URL: "https://open.feishu.cn/open-apis/bot/v2/hook/t", Secret: "s"}
	s := sender(rcv, cert, "")
	var ne *notify.Error
	if _, err := s.Send(context.Background(), d, sample); !errors.As(err, &ne) || !ne.Retry || ne.RetryAfter == 0 {
		t.Errorf("11232: %v", err)
	}
	if _, err := s.Send(context.Background(), d, sample); !errors.As(err, &ne) || !strings.Contains(ne.Body, "sign match fail") {
		t.Errorf("19021: %v", err)
	}
}

func TestDingTalk(t *testing.T) {
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Body: `{"errcode":0,"errmsg":"ok"}`})
	d := notify.Destination{Kind: notify.KindDingTalk, URL: "https://oapi.dingtalk.com/robot/send?access_token=tok", Secret: "SECthis-is-a-test-secret"}
	if _, err := sender(rcv, cert, "").Send(context.Background(), d, sample); err != nil {
		t.Fatal(err)
	}
	got := rcv.Seen()[0]
	q, _ := url.ParseQuery(got.Query)
	ts, _ := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if got.Path != "/robot/send" || q.Get("access_token") != "tok" || ts != fixedNow.UnixMilli() || q.Get("sign") != notify.SignDingTalk(ts, d.Secret) {
		t.Errorf("query %s", got.Query)
	}
	var body struct {
		MsgType    string
		ActionCard struct{ Title, Text, SingleURL string } `json:"actionCard"`
	}
	json.Unmarshal(got.Body, &body)
	if body.MsgType != "actionCard" || body.ActionCard.SingleURL != sample.URL || !strings.Contains(body.ActionCard.Text, `check \[the\] \*totals\* &lt;b&gt;now&lt;/b&gt;`) {
		t.Errorf("body %s", got.Body)
	}
	rcv.Script(notifytest.Reply{Body: `{"errcode":310000,"errmsg":"sign not match"}`})
	if _, err := sender(rcv, cert, "").Send(context.Background(), d, sample); err == nil || !strings.Contains(err.Error(), "310000") {
		t.Errorf("an errcode is a failure: %v", err)
	}
	rcv.Script(notifytest.Reply{Body: `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`})
	var ne *notify.Error
	if _, err := sender(rcv, cert, "").Send(context.Background(), d, sample); !errors.As(err, &ne) || !ne.Retry || ne.RetryAfter < time.Minute {
		t.Errorf("DingTalk's rate limit waits a minute: %v", err)
	}
}

func TestWeComBoundsItsMarkdown(t *testing.T) {
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Body: `{"errcode":0,"errmsg":"ok"}`})
	d := notify.Destination{Kind: notify.KindWeCom, URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1"}
	m := sample
	m.Fields = append(m.Fields, notify.Field{Name: "Reason", Value: strings.Repeat("长", 3000)})
	if _, err := sender(rcv, cert, "").Send(context.Background(), d, m); err != nil {
		t.Fatal(err)
	}
	got := rcv.Seen()[0]
	var body struct{ Markdown struct{ Content string } }
	json.Unmarshal(got.Body, &body)
	if got.Query != "key=k-1" || len(body.Markdown.Content) > 4096 || !strings.HasSuffix(body.Markdown.Content, "[Open the request]("+sample.URL+")") {
		t.Errorf("query %s, %d bytes, ends %q", got.Query, len(body.Markdown.Content), body.Markdown.Content[len(body.Markdown.Content)-80:])
	}
}
