package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// WebhookSecretPrefix starts every Standard Webhooks secret.
const WebhookSecretPrefix = "whsec_"

// NewWebhookSecret returns a fresh secret: whsec_ and 32 random bytes in base64.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// webhookKey decodes a whsec_ secret into its HMAC key.
func webhookKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, WebhookSecretPrefix)
	if !ok {
		return nil, errors.New("a webhook secret starts with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, errors.New("a webhook secret is whsec_ followed by 24 to 64 bytes in base64")
	}
	return key, nil
}

// SignWebhook returns the Standard Webhooks signature header value of body:
// "v1," and the base64 HMAC-SHA256, keyed with the decoded secret, of
// "<id>.<timestamp>.<body>".
func SignWebhook(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := webhookKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// SignFeishu returns the sign of a Feishu or Lark custom bot message: the
// HMAC-SHA256 of the empty message keyed with "<timestamp>\n<secret>"
// (seconds), in base64. It is the reverse of DingTalk's.
func SignFeishu(timestamp int64, secret string) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignDingTalk returns the sign of a DingTalk custom robot call: the
// HMAC-SHA256 of "<timestamp>\n<secret>" (milliseconds) keyed with the
// secret, in base64. It goes in the URL query, so it is URL-encoded there.
func SignDingTalk(timestampMillis int64, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestampMillis, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
