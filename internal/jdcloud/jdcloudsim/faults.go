package jdcloudsim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"restoredesk/internal/jdcloud"
)

// AllOperations is the fault key that applies to every operation without a fault of its own.
const AllOperations = "*"

// Fault is what the simulator does wrong, on purpose, for one operation. "Next" counts are
// deterministic (the next N calls, then the count is used up); rates draw from the
// simulator's seeded random source. Decisions are taken in this order: throttle, fail, hold,
// perform, drop; latency delays every answer (after the operation is performed, so a client
// that times out has still caused the operation: the ambiguous case).
type Fault struct {
	// Latency is added before each answer.
	Latency time.Duration
	// FailNext answers the next N calls with FailStatus; FailRate answers that share of the
	// calls so.
	FailNext int
	FailRate float64
	// FailStatus is 500 (INTERNAL) or 503 (UNAVAILABLE); 0 means 503.
	FailStatus int
	// FailAfterPerform performs the operation before answering with FailStatus, so a 5xx can
	// hide a create that happened. By default a failed call is not performed.
	FailAfterPerform bool
	// ThrottleNext / ThrottleRate answer 429 RATE_LIMIT without performing.
	ThrottleNext int
	ThrottleRate float64
	// DropNext / DropRate perform the operation, then close the connection without an answer.
	DropNext int
	DropRate float64
	// BuildErrorNext / BuildErrorRate (the creates): the new instance's build ends in
	// BUILD_ERROR instead of RUNNING.
	BuildErrorNext int
	BuildErrorRate float64
	// VisibilityDelay (the creates): a new instance is absent from
	// describeInstances (tag filters included) and describeInstanceAttributes for this long.
	VisibilityDelay time.Duration
	// HoldNext / HoldRate hold a call for Hold before performing it, as a stalled gateway
	// does: the operation is carried out Hold after it arrived even when the client has given
	// up meanwhile (the create that happens late, after the client's timeout), then answered
	// if anyone still listens.
	HoldNext int
	HoldRate float64
	Hold     time.Duration
	// Protected (deleteInstance): the key's sub-user has operation
	// protection on, so every delete is refused with 403 and not performed,
	// as JD Cloud refuses an MFA-protected operation sent without a token.
	Protected bool
}

// IsZero reports whether the fault does nothing.
func (f Fault) IsZero() bool { return f == Fault{} }

// faultKeys are the names of Fault's fields in the text form, in display order.
var faultKeys = []string{
	"latency", "fail-next", "fail-rate", "fail-status", "fail-after-perform",
	"throttle-next", "throttle-rate", "drop-next", "drop-rate",
	"build-error-next", "build-error-rate", "visibility-delay",
	"hold", "hold-next", "hold-rate", "protected",
}

// ParseFault parses the text form of a fault, as the -fault flag and the control API take it:
// "OP:key=value,key=value", where OP is an operation id (e.g. createInstanceFromBackup) or "*"
// for every operation, and the keys are latency, fail-next, fail-rate, fail-status,
// fail-after-perform, throttle-next, throttle-rate, drop-next, drop-rate, build-error-next,
// build-error-rate, visibility-delay, hold, hold-next and hold-rate. Durations use Go syntax
// ("250ms"), rates are 0–1.
// Examples: "createInstanceFromBackup:drop-next=1,visibility-delay=30s";
// "createInstanceFromBackup:hold=40s,hold-next=1" (the next create is performed 40 s late).
func ParseFault(spec string) (op string, f Fault, err error) {
	op, body, ok := strings.Cut(spec, ":")
	if !ok {
		return "", f, fmt.Errorf("fault %q: want OP:key=value,…", spec)
	}
	op = strings.TrimSpace(op)
	if err := checkOperation(op); err != nil {
		return "", f, fmt.Errorf("fault %q: %w", spec, err)
	}
	f, err = parseFaultBody(body)
	if err != nil {
		return "", f, fmt.Errorf("fault %q: %w", spec, err)
	}
	return op, f, nil
}

// parseFaultBody parses "key=value,key=value".
func parseFaultBody(body string) (Fault, error) {
	var f Fault
	for kv := range strings.SplitSeq(body, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return f, fmt.Errorf("%q is not key=value", kv)
		}
		if err := f.set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return f, err
		}
	}
	return f, nil
}

// set assigns one key of the text form.
func (f *Fault) set(k, v string) error {
	dur := func(p *time.Duration) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%s=%q: want a non-negative duration such as 250ms", k, v)
		}
		*p = d
		return nil
	}
	count := func(p *int) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%s=%q: want a non-negative whole number", k, v)
		}
		*p = n
		return nil
	}
	rate := func(p *float64) error {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			return fmt.Errorf("%s=%q: want a share between 0 and 1", k, v)
		}
		*p = r
		return nil
	}
	switch k {
	case "latency":
		return dur(&f.Latency)
	case "fail-next":
		return count(&f.FailNext)
	case "fail-rate":
		return rate(&f.FailRate)
	case "fail-status":
		n, err := strconv.Atoi(v)
		if err != nil || (n != http.StatusInternalServerError && n != http.StatusServiceUnavailable) {
			return fmt.Errorf("%s=%q: want 500 or 503", k, v)
		}
		f.FailStatus = n
	case "fail-after-perform", "protected":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: want true or false", k, v)
		}
		if k == "protected" {
			f.Protected = b
		} else {
			f.FailAfterPerform = b
		}
	case "throttle-next":
		return count(&f.ThrottleNext)
	case "throttle-rate":
		return rate(&f.ThrottleRate)
	case "drop-next":
		return count(&f.DropNext)
	case "drop-rate":
		return rate(&f.DropRate)
	case "build-error-next":
		return count(&f.BuildErrorNext)
	case "build-error-rate":
		return rate(&f.BuildErrorRate)
	case "visibility-delay":
		return dur(&f.VisibilityDelay)
	case "hold":
		return dur(&f.Hold)
	case "hold-next":
		return count(&f.HoldNext)
	case "hold-rate":
		return rate(&f.HoldRate)
	default:
		return fmt.Errorf("unknown key %q (want one of %s)", k, strings.Join(faultKeys, ", "))
	}
	return nil
}

// String renders the fault in its text form (without the operation), empty for no fault.
func (f Fault) String() string {
	var parts []string
	add := func(k string, v any, zero bool) {
		if !zero {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	add("latency", f.Latency, f.Latency == 0)
	add("fail-next", f.FailNext, f.FailNext == 0)
	add("fail-rate", f.FailRate, f.FailRate == 0)
	add("fail-status", f.FailStatus, f.FailStatus == 0)
	add("fail-after-perform", f.FailAfterPerform, !f.FailAfterPerform)
	add("protected", f.Protected, !f.Protected)
	add("throttle-next", f.ThrottleNext, f.ThrottleNext == 0)
	add("throttle-rate", f.ThrottleRate, f.ThrottleRate == 0)
	add("drop-next", f.DropNext, f.DropNext == 0)
	add("drop-rate", f.DropRate, f.DropRate == 0)
	add("build-error-next", f.BuildErrorNext, f.BuildErrorNext == 0)
	add("build-error-rate", f.BuildErrorRate, f.BuildErrorRate == 0)
	add("visibility-delay", f.VisibilityDelay, f.VisibilityDelay == 0)
	add("hold", f.Hold, f.Hold == 0)
	add("hold-next", f.HoldNext, f.HoldNext == 0)
	add("hold-rate", f.HoldRate, f.HoldRate == 0)
	return strings.Join(parts, ",")
}

// checkOperation accepts "*" and the operation ids the simulator serves.
func checkOperation(op string) error {
	if op == AllOperations || slices.Contains(jdcloud.Operations, op) {
		return nil
	}
	return fmt.Errorf("unknown operation %q (want * or one of %s)", op, strings.Join(jdcloud.Operations, ", "))
}

// decision is what the fault settings decided for one call.
type decision struct {
	latency    time.Duration
	throttle   bool
	failStatus int  // 0: no failure
	failAfter  bool // perform before failing
	drop       bool
	hold       time.Duration // wait this long before performing
}

// decide consumes the counters of the fault that applies to op and draws the rates. Callers
// hold s.mu.
func (s *Sim) decide(op string) decision {
	f := s.faultFor(op)
	if f == nil {
		return decision{}
	}
	d := decision{latency: f.Latency}
	take := func(next *int, rate float64) bool {
		if *next > 0 {
			*next--
			return true
		}
		return rate > 0 && s.rnd.Float64() < rate
	}
	switch {
	case take(&f.ThrottleNext, f.ThrottleRate):
		d.throttle = true
	case take(&f.FailNext, f.FailRate):
		d.failStatus = f.FailStatus
		if d.failStatus == 0 {
			d.failStatus = http.StatusServiceUnavailable
		}
		d.failAfter = f.FailAfterPerform
	case take(&f.DropNext, f.DropRate):
		d.drop = true
	}
	if !d.throttle && (d.failStatus == 0 || d.failAfter) && f.Hold > 0 && take(&f.HoldNext, f.HoldRate) {
		d.hold = f.Hold
	}
	return d
}

// buildFails decides whether the build of an instance made by op (a create) will fail.
// Callers hold s.mu.
func (s *Sim) buildFails(op string) bool {
	f := s.faultFor(op)
	if f == nil {
		return false
	}
	if f.BuildErrorNext > 0 {
		f.BuildErrorNext--
		return true
	}
	return f.BuildErrorRate > 0 && s.rnd.Float64() < f.BuildErrorRate
}

// visibilityDelay is how long an instance made by op (a create) stays hidden. Callers hold s.mu.
func (s *Sim) visibilityDelay(op string) time.Duration {
	if f := s.faultFor(op); f != nil {
		return f.VisibilityDelay
	}
	return 0
}

// faultFor returns the live fault for op: its own, else the "*" one, else nil.
func (s *Sim) faultFor(op string) *Fault {
	if f, ok := s.faults[op]; ok {
		return f
	}
	return s.faults[AllOperations]
}

// SetFault sets (replacing) the fault of one operation, or of every operation without its own
// with op "*". A zero Fault removes it. It panics on an unknown operation, a programming
// error in a test.
func (s *Sim) SetFault(op string, f Fault) {
	if err := checkOperation(op); err != nil {
		panic("jdcloudsim.SetFault: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.IsZero() {
		delete(s.faults, op)
		return
	}
	s.faults[op] = &f
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// Faults returns the current faults by operation, with counters as far as they are used up.
func (s *Sim) Faults() map[string]Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Fault, len(s.faults))
	for op, f := range s.faults {
		out[op] = *f
	}
	return out
}
