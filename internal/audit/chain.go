package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
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

// maxSafeInt is the largest integer every JSON tool reads exactly (2^53-1):
// jq and JavaScript hold numbers as float64.
const maxSafeInt = 1<<53 - 1

// Canonical returns the bytes an event's hash is computed over. It is chosen
// so that an independent tool reproduces it byte for byte — Python's
// json.dumps(doc, sort_keys=True, separators=(",", ":")) and jq -S -c -a both
// do:
//
//   - one JSON object with exactly these twelve keys, sorted: action,
//     actor_id, actor_name, client_addr, details, occurred_at, prev_hash, seq,
//     target_id, target_type, team_id, user_agent;
//   - no whitespace outside strings; object keys (details included, at every
//     depth) sorted by code point;
//   - ASCII only: strings escape `"` and `\` with a backslash, \b \f \n \r \t
//     as those two-character escapes, every other character below U+0020, DEL
//     and every non-ASCII character as \u followed by four lowercase hex
//     digits (UTF-16 surrogate pairs above U+FFFF); "/" is not escaped;
//   - numbers are integers in plain decimal (details may hold no fractions);
//     actor_id and team_id are null when absent;
//   - occurred_at in TimeFormat (UTC, six fractional digits, "Z");
//   - prev_hash is the previous event's hash (GenesisHash for the first) as
//     64 lowercase hex digits.
//
// The event's hash is SHA-256 of these bytes.
func (r Row) Canonical() ([]byte, error) {
	details, err := decodeDetails(r.Details)
	if err != nil {
		return nil, err
	}
	doc := map[string]any{
		"seq":         r.Seq,
		"occurred_at": r.OccurredAt.UTC().Format(TimeFormat),
		"actor_id":    optional(r.ActorID),
		"actor_name":  r.ActorName,
		"client_addr": r.ClientAddr,
		"user_agent":  r.UserAgent,
		"action":      r.Action,
		"target_type": r.TargetType,
		"target_id":   r.TargetID,
		"team_id":     optional(r.TeamID),
		"details":     details,
		"prev_hash":   fmt.Sprintf("%x", r.PrevHash),
	}
	return appendCanonical(make([]byte, 0, 512), doc)
}

func optional(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
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

// CanonicalDetails encodes details (a map, or JSON already) in the canonical
// form described at Row.Canonical. Storing and hashing this form means that
// reading the jsonb column back and re-encoding it gives the same bytes.
// Details must be a JSON object whose numbers are integers within ±(2^53-1)
// and whose strings hold no NUL character; record anything else (fractions,
// durations) as an integer of a stated unit or as a string.
func CanonicalDetails(details any) ([]byte, error) {
	var raw json.RawMessage
	switch d := details.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		raw = d
	case map[string]any:
		if d == nil {
			return []byte("{}"), nil
		}
		// Through encoding/json first, so typed values (structs, times,
		// slices) take the form they will have when read back from jsonb.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("audit details: %w", err)
		}
		raw = buf.Bytes()
	default:
		return nil, fmt.Errorf("audit details: unsupported type %T", details)
	}
	v, err := decodeDetails(raw)
	if err != nil {
		return nil, err
	}
	return appendCanonical(nil, v)
}

// decodeDetails parses stored or given details JSON, keeping numbers as
// written so appendCanonical can check they are integers.
func decodeDetails(raw []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("audit details: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("audit details: not a JSON object")
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// appendCanonical appends v's canonical JSON to b. v holds what
// decodeDetails produces, plus int64 for the top-level integers.
func appendCanonical(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int64:
		if v > maxSafeInt || v < -maxSafeInt {
			return nil, fmt.Errorf("audit: integer %d is outside ±(2^53-1)", v)
		}
		return strconv.AppendInt(b, v, 10), nil
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("audit details: number %s is not an integer; record fractions as strings", v)
		}
		return appendCanonical(b, n)
	case string:
		return appendString(b, v)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendCanonical(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		// Byte order of UTF-8 is code point order, which is what Python's
		// sort_keys and jq -S use.
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendString(b, k); err != nil {
				return nil, err
			}
			b = append(b, ':')
			if b, err = appendCanonical(b, v[k]); err != nil {
				return nil, fmt.Errorf("%w (key %q)", err, k)
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("audit: cannot encode %T", v)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as an ASCII-only JSON string (see Row.Canonical).
func appendString(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("audit: %q is not valid UTF-8", s)
	}
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == 0:
			return nil, errors.New("audit: a string holds a NUL character, which PostgreSQL cannot store")
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r >= 0x20 && r < 0x7f:
			b = append(b, byte(r))
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			b = appendU(appendU(b, hi), lo)
		default:
			b = appendU(b, r)
		}
	}
	return append(b, '"'), nil
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
