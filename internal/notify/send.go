package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// MaxAnswer bounds what is kept of an endpoint's answer.
const MaxAnswer = 1024

// Destination is where one delivery goes, with its secrets decrypted.
type Destination struct {
	Kind    string
	URL     string         // webhook or robot URL (secret: robot URLs carry their token)
	Secret  string         // signing secret: whsec_… for webhooks, the robot's sign secret
	Address string         // e-mail address
	Allow   []netip.Prefix // webhook: internal networks an admin allowed
}

// Answer is what the endpoint said, kept with the delivery.
type Answer struct {
	Status int    // HTTP status or SMTP reply code; 0 when nothing answered
	Body   string // the first MaxAnswer bytes of the answer
}

// Error is a failed delivery. Retry says whether trying again may help;
// RetryAfter is the endpoint's own wish (429 Retry-After, a rate-limit code).
type Error struct {
	Answer
	Err        error
	Retry      bool
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Sender delivers messages. In demo mode none is used: deliveries go to the outbox.
type Sender struct {
	Net  Net
	Mail *Mailer // nil: e-mail is not configured
	Now  func() time.Time
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Send delivers m to d once and returns the endpoint's answer.
func (s *Sender) Send(ctx context.Context, d Destination, m Message) (Answer, error) {
	switch d.Kind {
	case KindEmail:
		if s.Mail == nil {
			return Answer{}, &Error{Err: errors.New("e-mail is not configured (SMTP_HOST)"), Retry: false}
		}
		return s.Mail.Send(ctx, d.Address, m)
	case KindWebhook:
		return s.webhook(ctx, d, m)
	case KindFeishu, KindLark:
		return s.feishu(ctx, d, m)
	case KindDingTalk:
		return s.dingtalk(ctx, d, m)
	case KindWeCom:
		return s.wecom(ctx, d, m)
	}
	return Answer{}, &Error{Err: fmt.Errorf("unknown channel kind %q", d.Kind)}
}

// post sends body to url and classifies the answer: 2xx is success (the
// caller may still read a platform error code from the body), 429, 5xx and
// network errors may be retried, 3xx is refused (redirects are never followed).
func (s *Sender) post(ctx context.Context, client *http.Client, url string, header http.Header, body []byte) (Answer, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Answer{}, nil, &Error{Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "RestoreDesk-Webhooks/1")
	resp, err := client.Do(req)
	if err != nil {
		// Never the URL: robot URLs carry their token.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return Answer{}, nil, &Error{Err: fmt.Errorf("no answer: %w", err), Retry: !strings.Contains(err.Error(), "refused: ")}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	a := Answer{Status: resp.StatusCode, Body: truncate(string(raw), MaxAnswer)}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return a, raw, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return a, raw, &Error{Answer: a, Err: fmt.Errorf("the endpoint answered %d (a redirect, which is not followed)", resp.StatusCode)}
	case resp.StatusCode == http.StatusTooManyRequests:
		return a, raw, &Error{Answer: a, Err: errors.New("the endpoint answered 429 (too many requests)"), Retry: true,
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), s.now())}
	case resp.StatusCode == http.StatusGone:
		return a, raw, &Error{Answer: a, Err: errors.New("the endpoint answered 410 (gone): it asks not to be called again")}
	default:
		return a, raw, &Error{Answer: a, Err: fmt.Errorf("the endpoint answered %d", resp.StatusCode), Retry: true}
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped at an hour.
func retryAfter(v string, now time.Time) time.Duration {
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Hour)
}

// platformError reads a robot's JSON answer: Feishu and Lark say "code",
// DingTalk and WeCom "errcode"; 0 is success.
func platformError(a Answer, raw []byte, rateLimited ...int) error {
	var r struct {
		Code    *int   `json:"code"`
		Msg     string `json:"msg"`
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return &Error{Answer: a, Err: errors.New("the platform's answer is not JSON"), Retry: true}
	}
	code, msg := r.Code, r.Msg
	if code == nil {
		code, msg = r.ErrCode, r.ErrMsg
	}
	if code == nil || *code == 0 {
		return nil
	}
	for _, c := range rateLimited {
		if *code == c {
			return &Error{Answer: a, Err: fmt.Errorf("the platform is rate limiting this robot (code %d %s)", *code, msg), Retry: true, RetryAfter: time.Minute}
		}
	}
	return &Error{Answer: a, Err: fmt.Errorf("the platform refused the message: code %d %s", *code, msg), Retry: true}
}
