package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"
)

// Row is an audit event as stored, with the columns its hash covers.
type Row struct {
	Seq        int64
	OccurredAt time.Time
	ActorID    *int64
	ActorName  string
	ClientAddr string
	UserAgent  string
	Action     string
	TargetType string
	TargetID   string
	TeamID     *int64
	Details    json.RawMessage // canonical JSON (see CanonicalDetails)
	PrevHash   []byte
	Hash       []byte
}

// GenesisHash is the prev_hash of the first event: 32 zero bytes.
func GenesisHash() []byte { return make([]byte, sha256.Size) }

// TimeFormat is how event times appear in the canonical form and exports:
// RFC 3339 in UTC with exactly six fractional digits.
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// Canonical returns the bytes an event's hash is computed over: one JSON
// object with exactly these keys in this (sorted) order, no whitespace, no
// HTML escaping, details re-encoded with sorted keys, and the previous hash
// as lowercase hex. The README documents it so anyone can verify the chain
// with their own tool:
//
//	{"action":…,"actor_id":…|null,"actor_name":…,"client_addr":…,"details":{…},
//	 "occurred_at":"2026-01-02T03:04:05.123456Z","prev_hash":"<hex>","seq":N,
//	 "target_id":…,"target_type":…,"team_id":…|null,"user_agent":…}
func (r Row) Canonical() ([]byte, error) {
	details, err := CanonicalDetails(r.Details)
	if err != nil {
		return nil, err
	}
	// A map marshals with sorted keys, which is the documented order.
	doc := map[string]any{
		"seq":         r.Seq,
		"occurred_at": r.OccurredAt.UTC().Format(TimeFormat),
		"actor_id":    r.ActorID,
		"actor_name":  r.ActorName,
		"client_addr": r.ClientAddr,
		"user_agent":  r.UserAgent,
		"action":      r.Action,
		"target_type": r.TargetType,
		"target_id":   r.TargetID,
		"team_id":     r.TeamID,
		"details":     json.RawMessage(details),
		"prev_hash":   fmt.Sprintf("%x", r.PrevHash),
	}
	return marshal(doc)
}

// ComputeHash returns SHA-256 over the row's canonical form.
func (r Row) ComputeHash() ([]byte, error) {
	c, err := r.Canonical()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(c)
	return sum[:], nil
}

// CanonicalDetails encodes details (a map, or JSON already) with sorted keys,
// no insignificant whitespace, no HTML escaping, and numbers exactly as
// written. Storing and hashing this form means reading the jsonb column back
// and re-encoding it gives the same bytes.
func CanonicalDetails(details any) ([]byte, error) {
	var v any
	switch d := details.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		if len(d) == 0 {
			return []byte("{}"), nil
		}
		dec := json.NewDecoder(bytes.NewReader(d))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("audit details: %w", err)
		}
	case map[string]any:
		if d == nil {
			return []byte("{}"), nil
		}
		// Round-trip through JSON so typed values (structs, times, ints)
		// take the same form they will have when read back from jsonb.
		raw, err := marshal(d)
		if err != nil {
			return nil, fmt.Errorf("audit details: %w", err)
		}
		return CanonicalDetails(json.RawMessage(raw))
	default:
		return nil, fmt.Errorf("audit details: unsupported type %T", details)
	}
	return marshal(v)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
