package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. They are written into every hash
// (PHC string format), so raising them later leaves old hashes verifiable;
// a hash made with other parameters is replaced at the user's next sign-in.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are the production parameters: RFC 9106's second recommended
// option (64 MiB, 3 passes, 4 lanes), with a 16-byte salt and 32-byte key.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}

// MinPasswordLength is the shortest password anyone may set (the demo seed is
// the one exception, and it never runs outside demo mode).
const MinPasswordLength = 12

// maxPasswordLength bounds what we hash: longer input is refused rather than
// silently truncated.
const maxPasswordLength = 1024

// minPasswordScore is the zxcvbn score a password needs (0–4): 3 means an
// estimated 10^8 guesses or more, which with argon2id's cost per guess is
// out of reach of an online attack and expensive offline.
const minPasswordScore = 3

// ValidatePassword returns a message saying what is wrong with pw, or "".
// personal are the account's own texts (username, e-mail address, name):
// a password made from them is refused, as are repeated characters and
// anything the zxcvbn estimator finds easy to guess; the message says why.
func ValidatePassword(pw string, personal ...string) string {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordLength:
		return fmt.Sprintf("Use at least %d characters.", MinPasswordLength)
	case len(pw) > maxPasswordLength:
		return fmt.Sprintf("Use at most %d characters.", maxPasswordLength)
	}
	lower := strings.ToLower(pw)
	var inputs []string
	for _, p := range personal {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		inputs = append(inputs, p)
		local, _, _ := strings.Cut(p, "@")
		if len(local) >= 3 && strings.Contains(lower, local) || len(p) >= 3 && strings.Contains(lower, p) {
			return "Do not build the password from your username, e-mail address or name."
		}
	}
	if distinct(pw) <= 3 {
		return "Avoid repeating the same few characters; mix in other words or characters."
	}
	r := zxcvbn.PasswordStrength(pw, append(inputs, "restoredesk", "restore desk", "jdcloud"))
	if r.Score >= minPasswordScore {
		return ""
	}
	return "This password is easy to guess: " + weakness(r) + " A few unrelated words make a strong password."
}

// distinct counts the different characters in s.
func distinct(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// weakness says, in plain words, what zxcvbn found weakest in a password.
func weakness(r zxcvbn.Result) string {
	worst, reason := 0, "it is short for its kind of characters."
	for _, m := range r.Sequence {
		if m.J-m.I+1 <= worst {
			continue
		}
		var why string
		switch m.Pattern {
		case "repeat":
			why = "it repeats a pattern (such as abcabc)."
		case "sequence":
			why = "it contains a sequence (such as 1234 or abcd)."
		case "spatial":
			why = "it follows a row or pattern on the keyboard (such as qwerty)."
		case "date":
			why = "it contains a date or a year."
		case "dictionary":
			if m.DictionaryName == "user_inputs" {
				why = "it contains your name, the product's or another word tied to this account."
			} else {
				why = "it is made of a common password or word."
			}
		default:
			continue
		}
		worst, reason = m.J-m.I+1, why
	}
	return reason
}

// Hasher hashes and verifies passwords with argon2id. It bounds how many
// hashes run at once (concurrentHashes), since each takes Params.Memory: a
// burst of sign-ins waits its turn instead of exhausting the machine's memory.
type Hasher struct {
	p         Params
	sem       chan struct{}
	dummyOnce sync.Once
	dummy     string // verified against for unknown users, so they cost the same
}

// concurrentHashes is how many password hashes run at once: with the
// default 64 MiB each, a burst of sign-ins takes at most 256 MiB beyond the
// server's usual memory, and four keep two cores busy.
const concurrentHashes = 4

// NewHasher returns a Hasher making new hashes with p.
func NewHasher(p Params) *Hasher {
	return &Hasher{p: p, sem: make(chan struct{}, concurrentHashes)}
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.p }

// Hash returns the PHC-format argon2id hash of password with a random salt.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := h.derive(password, salt, h.p)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.p.Memory, h.p.Time, h.p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded, comparing in constant
// time, and whether encoded was made with other parameters than h's (so the
// caller should store a fresh hash). A malformed or empty hash never matches,
// but still costs one hash, so its answer takes as long as any other.
func (h *Hasher) Verify(encoded, password string) (ok, rehash bool) {
	p, salt, key, err := ParseHash(encoded)
	if err != nil {
		h.VerifyDummy(password)
		return false, false
	}
	got := h.derive(password, salt, p)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && p != h.p
}

// VerifyDummy spends the time a real verification takes and always fails. It
// is what sign-in does for an unknown username, so the answer's timing does
// not tell whether the account exists.
func (h *Hasher) VerifyDummy(password string) {
	h.dummyOnce.Do(func() { h.dummy, _ = h.Hash("restoredesk dummy password for unknown users") })
	p, salt, key, _ := ParseHash(h.dummy)
	subtle.ConstantTimeCompare(h.derive(password, salt, p), key)
}

func (h *Hasher) derive(password string, salt []byte, p Params) []byte {
	h.sem <- struct{}{}
	defer func() { <-h.sem }()
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	// The hash's memory (Params.Memory) is garbage now. Collect it and hand
	// it back to the system before the next hash starts: left to the
	// collector's pace, a burst of sign-ins holds twice the semaphore's worth
	// of blocks (100 simultaneous sign-ins peaked at 623 MiB), and a
	// collection alone still let fragmentation add 40 MiB more. This costs
	// milliseconds; a hash, a hundred. (Tests' cheap hashes skip it.)
	if p.Memory >= 16*1024 {
		debug.FreeOSMemory()
	}
	return key
}

// ParseHash splits a PHC-format argon2id hash into its parameters, salt and key.
func ParseHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("argon2 parameters: %w", err)
	}
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.Memory > 4<<20 || p.Time > 64 {
		return p, nil, nil, errors.New("argon2 parameters out of range")
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("argon2 salt: %w", err)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) == 0 {
		return p, nil, nil, errors.New("argon2 key")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// GeneratePassword returns a random password of 26 base32 characters (128
// bits), for accounts created on the command line without one.
func GeneratePassword() string { return rand.Text() }
