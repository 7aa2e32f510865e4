// Package jdcloudsim is a faithful stand-in for the JD Cloud RDS and VPC endpoints Restore
// Desk uses (docs/jdcloud.md): the same paths, JDCLOUD2-HMAC-SHA256 verification (with the verifier
// of package jdcloud), the parameter rules of jdcloud.ValidateCreate, JD Cloud's response and
// error shapes, and instances that move through their statuses over time. It injects latency,
// 5xx answers, throttling, dropped connections after the operation was performed, build
// errors and a visibility delay on request, so tests can prove the product's behaviour under
// faults.
//
// A Sim is an http.Handler: demo mode and tests serve it in-process (httptest or a loopback
// listener), `web jdcloud-sim` serves it standalone. Its control surface (SetFault, Stats,
// ControlHandler) is for tests and operators, never mounted in the product's own server.
package jdcloudsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"restoredesk/internal/jdcloud"
)

// The fixed demo key pair, used when Options leave the keys empty. It is public on purpose:
// it protects nothing but a simulator.
const (
	DemoAccessKey = "restoredesk-demo-ak"
	DemoSecretKey = "restoredesk-demo-sk"
)

// Defaults for Options.
const (
	DefaultBuildTime  = 5 * time.Second
	DefaultDeleteTime = 2 * time.Second
)

// maxRequestBody bounds request bodies; a createInstanceFromBackup body is under 1 KB.
const maxRequestBody = 1 << 20

// Options configure a Sim. The zero value is a working simulator with the demo key pair.
type Options struct {
	// AccessKey and SecretKey are the key pair requests must be signed with (default: the
	// demo pair).
	AccessKey, SecretKey string
	// BuildTime is how long a new instance stays BUILDING (default DefaultBuildTime).
	BuildTime time.Duration
	// DeleteTime is how long a deleted instance stays DELETING (default DefaultDeleteTime).
	DeleteTime time.Duration
	// Persister keeps state across restarts (default: a new MemoryPersister).
	Persister Persister
	// Logger receives one debug line per request (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now). Tests may move it forward to skip build times. It
	// also drives the signature date check (15 minutes of skew): a test that moves it further
	// must give the client the same clock (jdcloud.WithClock).
	Now func() time.Time
	// Seed seeds the random source behind fault rates and generated ids; the same seed and
	// the same calls give the same ids.
	Seed uint64
	// Faults are the initial faults, by operation id or "*".
	Faults map[string]Fault
}

// Sim is the simulator. It is an http.Handler and safe for concurrent use.
type Sim struct {
	accessKey, secretKey  string
	buildTime, deleteTime time.Duration
	persister             Persister
	log                   *slog.Logger
	now                   func() time.Time
	seed                  uint64

	mu           sync.Mutex // guards everything below
	st           *state
	rnd          *rand.Rand
	faults       map[string]*Fault
	nonces       map[string]time.Time // nonce → when it may be forgotten
	noncePruneAt int
	// dropped holds nonces of GET requests whose connection was dropped on purpose.
	dropped map[string]bool
	stats   Stats
}

// New returns a simulator. It loads the saved state from opts.Persister, or seeds a fresh one
// (relative to the clock's now) and saves it. It fails when the saved state cannot be loaded
// or read, or an initial fault names an unknown operation.
func New(ctx context.Context, opts Options) (*Sim, error) {
	s := &Sim{
		accessKey:    opts.AccessKey,
		secretKey:    opts.SecretKey,
		buildTime:    opts.BuildTime,
		deleteTime:   opts.DeleteTime,
		persister:    opts.Persister,
		log:          opts.Logger,
		now:          opts.Now,
		seed:         opts.Seed,
		rnd:          rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed)),
		faults:       map[string]*Fault{},
		nonces:       map[string]time.Time{},
		dropped:      map[string]bool{},
		noncePruneAt: 1024,
		stats:        newStats(),
	}
	if s.accessKey == "" && s.secretKey == "" {
		s.accessKey, s.secretKey = DemoAccessKey, DemoSecretKey
	}
	if s.accessKey == "" || s.secretKey == "" {
		return nil, errors.New("jdcloudsim: give both keys of the pair, or neither for the demo pair")
	}
	if s.buildTime <= 0 {
		s.buildTime = DefaultBuildTime
	}
	if s.deleteTime <= 0 {
		s.deleteTime = DefaultDeleteTime
	}
	if s.persister == nil {
		s.persister = &MemoryPersister{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	for op, f := range opts.Faults {
		if err := checkOperation(op); err != nil {
			return nil, fmt.Errorf("jdcloudsim: fault: %w", err)
		}
		if !f.IsZero() {
			s.faults[op] = &f
		}
	}

	raw, err := s.persister.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("jdcloudsim: load state: %w", err)
	}
	if raw == nil {
		s.st = seed(s.now())
		if err := s.save(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("jdcloudsim: read saved state: %w", err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("jdcloudsim: saved state has version %d, want %d", st.Version, stateVersion)
	}
	s.st = &st
	return s, nil
}

// save writes the state through the Persister. Callers hold s.mu (or own s exclusively), so
// saves happen in the order of the changes.
func (s *Sim) save(ctx context.Context) error {
	raw, err := json.Marshal(s.st)
	if err != nil {
		return fmt.Errorf("jdcloudsim: encode state: %w", err)
	}
	// The change already happened in memory; a client hanging up must not lose it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.persister.Save(ctx, raw); err != nil {
		return fmt.Errorf("jdcloudsim: save state: %w", err)
	}
	return nil
}

// advanceLocked moves statuses forward and saves when something changed. Callers hold s.mu.
func (s *Sim) advanceLocked(ctx context.Context) {
	if s.st.advance(s.now()) {
		if err := s.save(ctx); err != nil {
			s.log.ErrorContext(ctx, "jdcloudsim: state not saved", "err", err)
		}
	}
}

// SetBuildTime changes how long new instances stay BUILDING.
func (s *Sim) SetBuildTime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d > 0 {
		s.buildTime = d
	}
}

// Instance returns an instance as the simulator holds it, visible yet or not (tests inspect
// what a create really did). ok is false when no such instance exists.
func (s *Sim) Instance(region, instanceID string) (jdcloud.Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(context.Background())
	rs := s.st.Regions[region]
	if rs == nil {
		return jdcloud.Instance{}, false
	}
	in := rs.findInstance(instanceID)
	if in == nil {
		return jdcloud.Instance{}, false
	}
	return cloneInstance(in.Inst), true
}

// RestorePoint returns the moment of the source's data that an instance made by
// createInstanceByTime holds, as the simulator understood its restoreTime; ok is false for
// other instances.
func (s *Sim) RestorePoint(region, instanceID string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs := s.st.Regions[region]; rs != nil {
		if in := rs.findInstance(instanceID); in != nil && !in.RestorePoint.IsZero() {
			return in.RestorePoint, true
		}
	}
	return time.Time{}, false
}

// InstancesByTag returns every instance carrying tag key=value, visible yet or not.
func (s *Sim) InstancesByTag(region, key, value string) []jdcloud.Instance {
	return s.instancesWhere(region, func(in *jdcloud.Instance) bool {
		v, ok := in.Tag(key)
		return ok && v == value
	})
}

// instancesWhere returns the instances of region that keep accepts, visible yet or not, in
// creation order.
func (s *Sim) instancesWhere(region string, keep func(*jdcloud.Instance) bool) []jdcloud.Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(context.Background())
	var out []jdcloud.Instance
	if rs := s.st.Regions[region]; rs != nil {
		for _, in := range rs.Instances {
			if keep(&in.Inst) {
				out = append(out, cloneInstance(in.Inst))
			}
		}
	}
	return out
}

// route is a request's operation and path parameters.
type route struct {
	op, service, region, id string
}

// routeRequest maps method and (decoded) path to an operation, as the gateway does. The VPC
// list paths keep their trailing slash, as on the real API.
func routeRequest(method, path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, "/v1/regions/")
	if !ok {
		return route{}, false
	}
	region, rest, _ := strings.Cut(rest, "/")
	if region == "" {
		return route{}, false
	}
	rds := func(op string) (route, bool) { return route{op: op, service: "rds", region: region}, true }
	vpc := func(op string) (route, bool) { return route{op: op, service: "vpc", region: region}, true }
	switch {
	case rest == "instances" && method == http.MethodGet:
		return rds(jdcloud.OpDescribeInstances)
	case rest == "instances:createInstanceFromBackup" && method == http.MethodPost:
		return rds(jdcloud.OpCreateInstanceFromBackup)
	case rest == "backups" && method == http.MethodGet:
		return rds(jdcloud.OpDescribeBackups)
	case rest == "azs" && method == http.MethodGet:
		return rds(jdcloud.OpDescribeAzs)
	case rest == "vpcs/" && method == http.MethodGet:
		return vpc(jdcloud.OpDescribeVpcs)
	case rest == "subnets/" && method == http.MethodGet:
		return vpc(jdcloud.OpDescribeSubnets)
	}
	if id, action, ok := strings.Cut(strings.TrimPrefix(rest, "instances/"), ":"); ok && strings.HasPrefix(rest, "instances/") &&
		id != "" && !strings.Contains(id, "/") {
		ops := map[string]struct{ method, op string }{
			"createInstanceByTime":      {http.MethodPost, jdcloud.OpCreateInstanceByTime},
			"describeBackupPolicy":      {http.MethodGet, jdcloud.OpDescribeBackupPolicy},
			"describeLatestRestoreTime": {http.MethodGet, jdcloud.OpDescribeLatestRestoreTime},
		}
		if o, known := ops[action]; known && o.method == method {
			r, _ := rds(o.op)
			r.id = id
			return r, true
		}
		return route{}, false
	}
	if id, ok := strings.CutPrefix(rest, "instances/"); ok && id != "" && !strings.ContainsAny(id, "/:") {
		switch method {
		case http.MethodGet:
			r, _ := rds(jdcloud.OpDescribeInstanceAttributes)
			r.id = id
			return r, true
		case http.MethodDelete:
			r, _ := rds(jdcloud.OpDeleteInstance)
			r.id = id
			return r, true
		}
	}
	return route{}, false
}

// ServeHTTP answers one JD Cloud API request: route, verify the signature, apply faults,
// perform, answer. Every answer carries x-jdcloud-request-id.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	w.Header().Set(jdcloud.HeaderRequestID, reqID)
	w.Header().Set("Via", "jd-gateway/1.0.1 (restoredesk simulator)")
	a := &answer{w: w, requestID: reqID}
	defer func() {
		s.log.DebugContext(r.Context(), "jdcloudsim request", "method", r.Method, "path", r.URL.EscapedPath(),
			"operation", a.op, "status", a.status, "request_id", reqID, "duration", time.Since(start))
	}()

	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		a.fail(http.StatusBadRequest, "INVALID_ARGUMENT", "cannot read request body")
		return
	}
	if len(body) > maxRequestBody {
		a.fail(http.StatusRequestEntityTooLarge, "INVALID_ARGUMENT", "request body too large")
		return
	}
	rt, ok := routeRequest(r.Method, r.URL.Path)
	if !ok {
		a.fail(http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("no such API: %s %s", r.Method, r.URL.EscapedPath()))
		return
	}
	a.op = rt.op
	nonce, msg := s.authenticate(r, body, rt)
	if msg != "" {
		s.mu.Lock()
		s.stats.Unauthenticated++
		s.mu.Unlock()
		a.fail(http.StatusUnauthorized, "ACCESS_ERROR", msg+" [gw]")
		return
	}

	s.mu.Lock()
	s.stats.Calls[rt.op]++
	d := s.decide(rt.op)
	var res result
	switch {
	case d.throttle:
		s.stats.Injected["throttle"]++
		res = errResult(http.StatusTooManyRequests, "RATE_LIMIT", "request rate exceeded the limit, try again later")
	case d.failStatus != 0 && !d.failAfter:
		s.stats.Injected["fail"]++
		res = failResult(d.failStatus)
	default:
		if d.hold > 0 {
			// A stalled gateway: the call is carried out late, whether or not the client
			// still waits, and other calls go on meanwhile.
			s.stats.Injected["hold"]++
			s.mu.Unlock()
			time.Sleep(d.hold)
			s.mu.Lock()
		}
		res = s.perform(context.WithoutCancel(r.Context()), rt, r, body)
		if d.failStatus != 0 {
			s.stats.Injected["fail"]++
			res = failResult(d.failStatus)
		} else if d.drop {
			s.stats.Injected["drop"]++
		}
	}
	s.mu.Unlock()

	if d.latency > 0 {
		t := time.NewTimer(d.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client gave up; whatever was performed stays performed
		}
	}
	if d.drop {
		a.status = -1
		if r.Method == http.MethodGet {
			s.mu.Lock()
			s.dropped[nonce] = true
			s.mu.Unlock()
		}
		dropConnection(w)
		return
	}
	a.write(res)
}

// authenticate verifies the signature, the credential scope against the route and the nonce.
// It returns the request's nonce, and the refusal message or "" when the request is authentic.
func (s *Sim) authenticate(r *http.Request, body []byte, rt route) (nonce, refusal string) {
	now := s.now()
	sr, err := jdcloud.Verify(r, body, func(ak string) (string, bool) {
		return s.secretKey, ak == s.accessKey
	}, now)
	if err != nil {
		return "", err.Error()
	}
	if sr.Service != rt.service {
		return "", fmt.Sprintf("credential scope service %q does not match %s", sr.Service, rt.service)
	}
	if sr.Region != rt.region {
		return "", fmt.Sprintf("credential scope region %q does not match %s", sr.Region, rt.region)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.nonces) >= s.noncePruneAt {
		for n, until := range s.nonces {
			if now.After(until) {
				delete(s.nonces, n)
				delete(s.dropped, n)
			}
		}
		// Prune again when the map has doubled, so pruning stays amortised O(1).
		s.noncePruneAt = max(1024, 2*len(s.nonces))
	}
	if _, seen := s.nonces[sr.Nonce]; seen {
		// Go's transport repeats an idempotent GET by itself, nonce and all, when a reused
		// connection closes without an answer. After a drop the simulator injected, that
		// repeat is let through once: it is the client library's doing, not a replay attack,
		// and a real gateway would not have seen the first copy in the usual way this happens.
		if !s.dropped[sr.Nonce] {
			return "", "nonce has been used"
		}
		delete(s.dropped, sr.Nonce)
	}
	// Remember the nonce for as long as its date would still pass the skew check.
	s.nonces[sr.Nonce] = sr.Date.Add(jdcloud.MaxClockSkew)
	return sr.Nonce, ""
}

// dropConnection closes the connection without an answer: the operation was performed, the
// client sees a broken connection (the ambiguous case the workflow must survive).
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): aborting the handler resets the stream instead.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
