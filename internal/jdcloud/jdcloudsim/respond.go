package jdcloudsim

import (
	crand "crypto/rand"
	"encoding/json"
	"maps"
	"net/http"
)

// result is what an operation produced: a status and either a result object or an error.
type result struct {
	status  int
	result  any // the "result" member on success; nil for calls without one
	code    string
	message string
}

// okResult is a 200 answer with a result object (nil for none).
func okResult(v any) result { return result{status: http.StatusOK, result: v} }

// errResult is a JD Cloud error answer.
func errResult(status int, code, message string) result {
	return result{status: status, code: code, message: message}
}

// failResult is an injected 5xx.
func failResult(status int) result {
	if status == http.StatusInternalServerError {
		return errResult(status, "INTERNAL", "internal error, please try again later")
	}
	return errResult(status, "UNAVAILABLE", "service unavailable, please try again later")
}

// answer writes one response in JD Cloud's shapes.
type answer struct {
	w         http.ResponseWriter
	requestID string
	op        string // for the log line
	status    int    // for the log line; -1 for a dropped connection
}

// successBody and errorBody are JD Cloud's envelopes (docs/jdcloud.md, "Calls" and "Errors").
type successBody struct {
	RequestID string `json:"requestId"`
	Result    any    `json:"result,omitempty"`
}

type errorBody struct {
	RequestID string    `json:"requestId"`
	Error     errorInfo `json:"error"`
}

type errorInfo struct {
	Code    int    `json:"code"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// write sends res.
func (a *answer) write(res result) {
	if res.code != "" {
		a.fail(res.status, res.code, res.message)
		return
	}
	a.json(res.status, successBody{RequestID: a.requestID, Result: res.result})
}

// fail sends the error envelope.
func (a *answer) fail(status int, code, message string) {
	a.json(status, errorBody{RequestID: a.requestID, Error: errorInfo{Code: status, Status: code, Message: message}})
}

func (a *answer) json(status int, v any) {
	a.status = status
	raw, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		raw = []byte(`{"requestId":"` + a.requestID + `","error":{"code":500,"status":"INTERNAL","message":"cannot encode answer"}}`)
	}
	a.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	a.w.WriteHeader(status)
	_, _ = a.w.Write(raw)
}

// newRequestID returns a request id shaped like JD Cloud's: 32 lower-case alphanumerics.
func newRequestID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [32]byte
	_, _ = crand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// Stats count what the simulator saw and did, for tests and the control API.
type Stats struct {
	// Calls counts authenticated calls per operation (faulted ones included).
	Calls map[string]int `json:"calls"`
	// Performed counts calls per operation that changed or read state, i.e. that happened.
	Performed map[string]int `json:"performed"`
	// Creates counts instances created; Deletes counts instances put into DELETING.
	Creates int `json:"creates"`
	Deletes int `json:"deletes"`
	// Unauthenticated counts requests refused with 401.
	Unauthenticated int `json:"unauthenticated"`
	// Injected counts injected faults by kind: throttle, fail, drop, hold, buildError.
	Injected map[string]int `json:"injected"`
}

func newStats() Stats {
	return Stats{Calls: map[string]int{}, Performed: map[string]int{}, Injected: map[string]int{}}
}

func (st Stats) clone() Stats {
	c := st
	c.Calls, c.Performed, c.Injected = maps.Clone(st.Calls), maps.Clone(st.Performed), maps.Clone(st.Injected)
	return c
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.clone()
}

// ResetStats zeroes the counters.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = newStats()
}
