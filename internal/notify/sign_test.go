package notify

import (
	"net/url"
	"strings"
	"testing"
)

// The vectors come from outside this code: the Standard Webhooks spec's own
// example, and for Feishu and DingTalk values computed independently (Python's
// hmac) from each platform's documented algorithm.
func TestSignatureVectors(t *testing.T) {
	got, err := SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil || got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Errorf("Standard Webhooks: %q, %v", got, err)
	}
	if got := SignFeishu(1599360473, "demo"); got != "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=" {
		t.Errorf("Feishu: %q", got)
	}
	got = SignDingTalk(1700000000000, "SECthis-is-a-test-secret")
	if got != "IRZT287QybIa2F/xrEkTcyuBS3Hp0ycAceupV5IhA5s=" {
		t.Errorf("DingTalk: %q", got)
	}
	// In the URL the sign is URL-encoded, as DingTalk's own samples do.
	if q := (url.Values{"sign": {got}}).Encode(); q != "sign=IRZT287QybIa2F%2FxrEkTcyuBS3Hp0ycAceupV5IhA5s%3D" {
		t.Errorf("DingTalk in the query: %q", q)
	}
}

func TestWebhookSecrets(t *testing.T) {
	s := NewWebhookSecret()
	if _, err := SignWebhook(s, "id", 1, nil); err != nil {
		t.Errorf("a generated secret is refused: %v", err)
	}
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_c2hvcnQ="} {
		if _, err := SignWebhook(bad, "id", 1, nil); err == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
}

func TestBox(t *testing.T) {
	b, err := NewBox("0123456789abcdef0123456789abcdef-key")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal(Secrets{URL: "https://open.feishu.cn/open-apis/bot/v2/hook/tok", Secret: "s3cret"})
	if err != nil || strings.Contains(string(sealed), "tok") || strings.Contains(string(sealed), "s3cret") {
		t.Fatalf("sealed %q, %v", sealed, err)
	}
	got, err := b.Open(sealed)
	if err != nil || got.Secret != "s3cret" {
		t.Errorf("Open = %+v, %v", got, err)
	}
	other, _ := NewBox("another key that is long enough to use")
	if _, err := other.Open(sealed); err == nil {
		t.Error("another key opened the secrets")
	}
	if _, err := NewBox("short"); err == nil {
		t.Error("a short key accepted")
	}
	var none *Box
	if _, err := none.Seal(Secrets{}); err != ErrNoSecretKey {
		t.Errorf("no key: %v", err)
	}
}
