package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// MaxWebhookBody bounds a webhook body (receivers commonly refuse more than 20 KB).
const MaxWebhookBody = 20 << 10

// WebhookBody is the JSON every webhook delivery carries. Its members never
// change meaning; new ones may be added.
type WebhookBody struct {
	Type      string `json:"type"`      // the audit action, or notify.reminder/escalation/test
	Timestamp string `json:"timestamp"` // when the event happened, RFC 3339 UTC
	Data      any    `json:"data"`
}

// WebhookPayload returns the body sent for m.
func WebhookPayload(m Message) ([]byte, error) {
	return json.Marshal(WebhookBody{Type: m.Type, Timestamp: m.Time.UTC().Format(time.RFC3339), Data: m.Data})
}

func (s *Sender) webhook(ctx context.Context, d Destination, m Message) (Answer, error) {
	if err := CheckURL(KindWebhook, d.URL, d.Allow); err != nil {
		return Answer{}, &Error{Err: err}
	}
	body, err := WebhookPayload(m)
	if err != nil {
		return Answer{}, &Error{Err: err}
	}
	if len(body) > MaxWebhookBody {
		return Answer{}, &Error{Err: errTooLarge(len(body), MaxWebhookBody)}
	}
	ts := s.now().Unix()
	h := http.Header{}
	h.Set("webhook-id", m.ID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	if d.Secret != "" {
		sig, err := SignWebhook(d.Secret, m.ID, ts, body)
		if err != nil {
			return Answer{}, &Error{Err: err}
		}
		h.Set("webhook-signature", sig)
	}
	a, _, err := s.post(ctx, s.Net.client(true, d.Allow), d.URL, h, body)
	return a, err
}
