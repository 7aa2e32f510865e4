package jdcloud

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Default endpoints, one per service (docs/jdcloud.md, Calls).
const (
	DefaultRDSEndpoint = "https://rds.jdcloud-api.com"
	DefaultVPCEndpoint = "https://vpc.jdcloud-api.com"
)

// Defaults for the per-attempt timeout and the read retry policy.
const (
	DefaultTimeout = 30 * time.Second
)

// DefaultRetry is the retry policy for reads: three attempts in all, with full-jitter
// exponential backoff from 200 ms, capped at 3 s.
var DefaultRetry = RetryPolicy{Attempts: 3, BaseDelay: 200 * time.Millisecond, MaxDelay: 3 * time.Second}

// maxBody bounds how much of an answer is read; JD Cloud list pages are far smaller.
const maxBody = 16 << 20

// RetryPolicy says how reads are retried. Creates and deletes are never retried by the client:
// whether to repeat them is the workflow's decision (docs/architecture.md, How a request flows).
type RetryPolicy struct {
	// Attempts is the total number of attempts for a read, at least 1.
	Attempts int
	// BaseDelay is the backoff before the second attempt; it doubles each time.
	BaseDelay time.Duration
	// MaxDelay caps the backoff.
	MaxDelay time.Duration
}

// backoff returns a full-jitter delay before attempt n+1 (n ≥ 1): uniform in
// [0, min(MaxDelay, BaseDelay·2^(n-1))]. Jitter spreads out clients retrying together.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	if p.MaxDelay > 0 && d > p.MaxDelay {
		d = p.MaxDelay
	}
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// CallInfo describes one HTTP attempt of a JD Cloud call, for the observer hook: the workflow
// writes it to the audit trail. It never holds a secret.
type CallInfo struct {
	Operation  string        // JD Cloud operation id, e.g. "createInstanceFromBackup"
	Region     string        // region of the call
	Attempt    int           // 1 for the first attempt of a call
	HTTPStatus int           // 0 when no answer arrived
	RequestID  string        // JD Cloud request id, when one arrived
	Duration   time.Duration // time from sending to the end of the answer
	Err        error         // nil on success; an *APIError or *TransportError otherwise
}

// Client calls the JD Cloud RDS and VPC APIs. It is safe for concurrent use.
type Client struct {
	cred      Credential
	http      *http.Client
	endpoint  *url.URL // override for every service; nil means the per-service defaults
	log       *slog.Logger
	timeout   time.Duration
	now       func() time.Time
	nonce     func() string
	observer  func(CallInfo)
	retry     RetryPolicy
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithEndpoint sends every service to one scheme://host[:port] instead of the per-service
// defaults (JDCLOUD_ENDPOINT; the simulator serves both services at one address). Build u with
// ParseEndpoint.
func WithEndpoint(u *url.URL) Option {
	return func(c *Client) {
		if u != nil {
			cp := *u
			c.endpoint = &cp
		}
	}
}

// ParseEndpoint parses an endpoint override such as "http://127.0.0.1:8081": scheme http or
// https, a host, optionally a port, and nothing else (no path, query, fragment or user info).
func ParseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("endpoint %q: scheme must be http or https", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("endpoint %q: host is missing", raw)
	case u.User != nil:
		return nil, fmt.Errorf("endpoint %q: user info is not allowed", raw)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("endpoint %q: only scheme, host and port are allowed", raw)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// WithHTTPClient makes the client send through h (a copy of it: redirects are never followed,
// so a POST cannot silently turn into a GET).
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithLogger sets the logger; each attempt is logged at debug level with operation, region,
// status, request id and duration. The default discards logs.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithTimeout sets the timeout of each attempt (DefaultTimeout if unset or not positive).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithClock sets the clock used for x-jdcloud-date (tests; the default is time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// WithNonce sets the nonce generator (tests; the default is a random UUID v4).
func WithNonce(f func() string) Option {
	return func(c *Client) {
		if f != nil {
			c.nonce = f
		}
	}
}

// WithObserver calls f after every HTTP attempt, from the calling goroutine, so the workflow
// can record each JD Cloud call in the audit trail.
func WithObserver(f func(CallInfo)) Option {
	return func(c *Client) { c.observer = f }
}

// WithRetry sets the retry policy for reads. Attempts below 1 count as 1 (no retries).
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) {
		if p.Attempts < 1 {
			p.Attempts = 1
		}
		c.retry = p
	}
}

// New returns a client for the given key pair. The secret key is kept inside a Credential,
// which never prints it.
func New(accessKey, secretKey string, opts ...Option) *Client {
	c := &Client{
		cred:      NewCredential(accessKey, secretKey),
		log:       slog.New(slog.DiscardHandler),
		timeout:   DefaultTimeout,
		now:       time.Now,
		nonce:     newUUID,
		retry:     DefaultRetry,
		userAgent: "RestoreDesk/1.0 (jdcloud-go-client)",
	}
	for _, o := range opts {
		o(c)
	}
	var h http.Client
	if c.http != nil {
		h = *c.http
	} else {
		h.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	h.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &h
	return c
}

// String describes the client without its secret.
func (c *Client) String() string {
	return fmt.Sprintf("jdcloud.Client{%s, endpoint: %s}", c.cred, c.endpointString())
}

func (c *Client) endpointString() string {
	if c.endpoint == nil {
		return "per-service defaults"
	}
	return c.endpoint.String()
}

// newUUID returns a random UUID v4 string, the nonce form every official SDK sends.
func newUUID() string {
	var b [16]byte
	_, _ = crand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// operation describes one JD Cloud API operation.
type operation struct {
	name    string // operation id, e.g. "describeInstances"
	service string // credential-scope service and default host: "rds" or "vpc"
	method  string
	read    bool // safe to repeat, so the client retries it
}

// baseURL returns scheme://host for a service.
func (c *Client) baseURL(service string) string {
	if c.endpoint != nil {
		return c.endpoint.Scheme + "://" + c.endpoint.Host
	}
	switch service {
	case "vpc":
		return DefaultVPCEndpoint
	default:
		return DefaultRDSEndpoint
	}
}

// envelope is JD Cloud's response body: result on success, error otherwise.
type envelope struct {
	RequestID string          `json:"requestId"`
	Result    json.RawMessage `json:"result"`
	Error     *struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

// call performs op with retries for reads. segments are the path segments after the host
// (unescaped; each is escaped once, and that one string is both sent and signed); an empty
// last segment gives a trailing slash. in, when not nil, is the JSON body; out, when not nil,
// receives the result object.
func (c *Client) call(ctx context.Context, op operation, region string, segments []string, query []queryPair, in, out any) error {
	if region == "" {
		return fmt.Errorf("jdcloud %s: %w: region is required", op.name, ErrInvalidRequest)
	}
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("jdcloud %s: %w: encode body: %v", op.name, ErrInvalidRequest, err)
		}
	}
	target := c.baseURL(op.service) + escapePath(segments)
	if q := encodeQuery(query); q != "" {
		target += "?" + q
	}
	attempts := 1
	if op.read {
		attempts = max(1, c.retry.Attempts)
	}
	for n := 1; ; n++ {
		err := c.attempt(ctx, op, region, target, body, out, n)
		if err == nil || n >= attempts || Classify(err) == Refused || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(c.retry.backoff(n))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// attempt sends one signed request and decodes the answer.
func (c *Client) attempt(ctx context.Context, op operation, region, target string, body []byte, out any, n int) (err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	info := CallInfo{Operation: op.name, Region: region, Attempt: n}
	start := time.Now()
	defer func() {
		info.Duration = time.Since(start)
		info.Err = err
		c.report(ctx, info)
	}()

	// WroteRequest fires once the request has been written (or failed part-way): from then
	// on a failure is ambiguous, before it the call certainly did not reach JD Cloud.
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { sent.Store(true) },
	})
	req, err := http.NewRequestWithContext(ctx, op.method, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("jdcloud %s: %w: %v", op.name, ErrInvalidRequest, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if err := Sign(req, body, c.cred, region, op.service, ClientSignedHeaders, c.now(), c.nonce()); err != nil {
		return fmt.Errorf("jdcloud %s: %w: %v", op.name, ErrInvalidRequest, err)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return &TransportError{Operation: op.name, Sent: sent.Load(), Timeout: isTimeout(err), Err: err}
	}
	defer resp.Body.Close()
	info.HTTPStatus = resp.StatusCode
	info.RequestID = resp.Header.Get(HeaderRequestID)
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &TransportError{Operation: op.name, Sent: true, Timeout: isTimeout(err), Err: fmt.Errorf("read %d answer: %w", resp.StatusCode, err)}
	}

	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	var env envelope
	if jerr := json.Unmarshal(raw, &env); jerr != nil || !looksJSON(raw) {
		if ok && len(bytes.TrimSpace(raw)) == 0 && out == nil {
			return nil // a call without result may answer with an empty body
		}
		return &APIError{
			Operation:  op.name,
			HTTPStatus: resp.StatusCode,
			Message:    describeBody(resp.Header.Get("Content-Type"), raw),
			RequestID:  info.RequestID,
		}
	}
	if env.RequestID != "" {
		info.RequestID = env.RequestID
	}
	if !ok || env.Error != nil {
		apiErr := &APIError{Operation: op.name, HTTPStatus: resp.StatusCode, RequestID: info.RequestID}
		if env.Error != nil {
			apiErr.Code, apiErr.Status, apiErr.Message = env.Error.Code, env.Error.Status, env.Error.Message
		} else {
			apiErr.Message = "answer has no error object: " + describeBody(resp.Header.Get("Content-Type"), raw)
		}
		return apiErr
	}
	if out != nil {
		if len(env.Result) == 0 || string(env.Result) == "null" {
			return &APIError{Operation: op.name, HTTPStatus: resp.StatusCode, RequestID: info.RequestID, Message: "answer has no result"}
		}
		if err := json.Unmarshal(env.Result, out); err != nil {
			return &APIError{Operation: op.name, HTTPStatus: resp.StatusCode, RequestID: info.RequestID, Message: "cannot decode result: " + err.Error()}
		}
	}
	return nil
}

// report logs one attempt at debug level and hands it to the observer.
func (c *Client) report(ctx context.Context, info CallInfo) {
	attrs := []slog.Attr{
		slog.String("operation", info.Operation),
		slog.String("region", info.Region),
		slog.Int("attempt", info.Attempt),
		slog.Int("status", info.HTTPStatus),
		slog.String("jdcloud_request_id", info.RequestID), // request_id is the HTTP request's
		slog.Duration("duration", info.Duration),
	}
	if info.Err != nil {
		attrs = append(attrs, slog.String("error", info.Err.Error()), slog.String("class", Classify(info.Err).String()))
	}
	c.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelDebug, "jdcloud call", attrs...)
	if c.observer != nil {
		c.observer(info)
	}
}

// looksJSON reports whether a body is a JSON object (json.Unmarshal into a struct also
// accepts "null").
func looksJSON(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// describeBody says what a non-JSON answer held: its media type and the start of its text.
func describeBody(contentType string, raw []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "" {
		mt = "no content type"
	}
	text := strings.Join(strings.Fields(strings.ToValidUTF8(string(raw), "?")), " ")
	if text == "" {
		return fmt.Sprintf("empty answer (%s)", mt)
	}
	const limit = 200
	if len(text) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return fmt.Sprintf("non-JSON answer (%s): %s", mt, text)
}
