package notify_test

import (
	"bytes"
	"context"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"restoredesk/internal/notify"
	"restoredesk/internal/notify/notifytest"
)

// verifyScript runs scripts/verify-webhook.py as the README shows it, the
// secret in WEBHOOK_SECRET, and returns its exit status and output.
func verifyScript(t *testing.T, secret, id, timestamp, signature string, body []byte, extra ...string) (int, string) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the receiver's script cannot be run here")
	}
	args := append([]string{"../../scripts/verify-webhook.py", "--id", id, "--timestamp", timestamp, "--signature", signature}, extra...)
	cmd := exec.CommandContext(t.Context(), "python3", args...)
	cmd.Env = append(cmd.Environ(), "WEBHOOK_SECRET="+secret)
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, strings.TrimSpace(string(out))
}

// TestVerifyWebhookScript: the receiver's script accepts the Standard
// Webhooks spec's own vector and a real delivery of our sender, and refuses a
// tampered body, a wrong secret and a stale timestamp.
func TestVerifyWebhookScript(t *testing.T) {
	cert := notifytest.NewCert(t)
	rcv := notifytest.NewReceiver(t, cert, notifytest.Reply{Status: 204})
	secret := notify.NewWebhookSecret()
	d := notify.Destination{Kind: notify.KindWebhook, URL: "https://hooks.example.com/restoredesk", Secret: secret,
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	// The sender's own clock, so the script's default tolerance applies.
	s := &notify.Sender{Net: rcv.Net(cert, "")}
	if _, err := s.Send(context.Background(), d, sample); err != nil {
		t.Fatal(err)
	}
	real := rcv.Seen()[0]
	h := real.Header

	const (
		specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		specTS     = "1614265330"
		specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	specBody := []byte(`{"test": 2432232314}`)
	tampered := bytes.Replace(real.Body, []byte(`"request.created"`), []byte(`"request.approved"`), 1)
	if bytes.Equal(tampered, real.Body) {
		t.Fatalf("the delivery's body does not carry its type: %s", real.Body)
	}
	cases := []struct {
		name                string
		secret, id, ts, sig string
		body                []byte
		extra               []string
		code                int
		says                string
	}{
		{"spec vector", specSecret, specID, specTS, specSig, specBody, []string{"--now", specTS}, 0, "valid"},
		{"spec vector, a second signature beside it", specSecret, specID, specTS, "v1,bm9wZQ== " + specSig, specBody, []string{"--now", specTS}, 0, "valid"},
		{"spec vector, tampered body", specSecret, specID, specTS, specSig, []byte(`{"test": 2432232315}`), []string{"--now", specTS}, 1, "matches"},
		{"spec vector, too old", specSecret, specID, specTS, specSig, specBody, nil, 1, "tolerance"},
		{"our delivery", secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), real.Body, nil, 0, "valid"},
		{"our delivery, tampered body", secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), tampered, nil, 1, "matches"},
		{"our delivery, another id", secret, "msg_other", h.Get("webhook-timestamp"), h.Get("webhook-signature"), real.Body, nil, 1, "matches"},
		{"our delivery, wrong secret", notify.NewWebhookSecret(), h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), real.Body, nil, 1, "matches"},
		{"not a whsec_ secret", "hunter2", specID, specTS, specSig, specBody, []string{"--now", specTS}, 2, "whsec_"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := verifyScript(t, c.secret, c.id, c.ts, c.sig, c.body, c.extra...)
			if code != c.code || !strings.Contains(out, c.says) {
				t.Errorf("exit %d %q, want %d %q", code, out, c.code, c.says)
			}
		})
	}
	if _, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64); err != nil {
		t.Errorf("webhook-timestamp %q is not Unix seconds", h.Get("webhook-timestamp"))
	}
}
