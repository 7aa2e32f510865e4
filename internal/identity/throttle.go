package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
	"sync"
	"time"

	"restoredesk/internal/clip"
)

// Throttle slows password guessing without ever locking anyone out for good.
// Four limits apply, each counting failures (an admitted attempt counts as a
// failure until it succeeds):
//
//   - per client address, in memory, before anything touches the database: a
//     bucket of AddrFree attempts refilled one per AddrRefill. IPv6 addresses
//     count by /64, the block one client usually holds.
//   - per (account, address), in the database: AccountFree free failures, then
//     delays from Base doubling up to Max.
//   - per account across all addresses (the ceiling against guesses spread
//     over many addresses): AccountCeiling free failures, then the same
//     delays. It slows the account down; it never locks it.
//   - a known device (a browser that signed in to the account before, shown
//     by a signed cookie) skips the address bucket and both account keys,
//     so strangers' failures cannot keep it out; it has its own small
//     allowance of DeviceFree failures, then the same delays.
//
// A key with no failure for Forget starts again.
type Throttle struct {
	AccountFree    int           // failures per (account, address) before delays start
	AddrFree       int           // attempts an address may make at once (the bucket's size)
	Base           time.Duration // the first delay
	Max            time.Duration // the longest delay
	Forget         time.Duration // a key with no failure for this long starts again
	AccountCeiling int           // failures per account, from all strangers' addresses, before delays start
	DeviceFree     int           // failures per (known device, account) before delays start
	AddrRefill     time.Duration // the address bucket gains one attempt this often
}

// DefaultThrottle is production's: five free tries per account and address,
// ten per account from everywhere, five per known device, then 2 s, 4 s,
// 8 s… up to 15 minutes; fifty attempts at once per address, then one
// every ten seconds.
var DefaultThrottle = Throttle{
	AccountFree: 5, AddrFree: 50, Base: 2 * time.Second, Max: 15 * time.Minute, Forget: 12 * time.Hour,
	AccountCeiling: 10, DeviceFree: 5, AddrRefill: 10 * time.Second,
}

// withDefaults fills the zero fields from DefaultThrottle.
func (t Throttle) withDefaults() Throttle {
	d := DefaultThrottle
	for _, f := range []struct{ dst, def *int }{
		{&t.AccountFree, &d.AccountFree}, {&t.AddrFree, &d.AddrFree}, {&t.AccountCeiling, &d.AccountCeiling}, {&t.DeviceFree, &d.DeviceFree},
	} {
		if *f.dst == 0 {
			*f.dst = *f.def
		}
	}
	for _, f := range []struct{ dst, def *time.Duration }{
		{&t.Base, &d.Base}, {&t.Max, &d.Max}, {&t.Forget, &d.Forget}, {&t.AddrRefill, &d.AddrRefill},
	} {
		if *f.dst == 0 {
			*f.dst = *f.def
		}
	}
	return t
}

// Delay returns how long a key is blocked after its n-th failure, when free
// failures are allowed before delays start.
func (t Throttle) Delay(n, free int) time.Duration {
	if n <= free {
		return 0
	}
	d := t.Base
	for i := free + 1; i < n; i++ {
		d *= 2
		if d >= t.Max || d <= 0 {
			return t.Max
		}
	}
	return min(d, t.Max)
}

// AddrGroup is the part of a client address the throttle counts by: the
// address itself for IPv4, its /64 for IPv6. Text that is no address counts
// as itself, cut to clip.Addr.
func AddrGroup(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return clip.String(addr, clip.Addr)
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// Throttle key kinds, as the audit trail names them ("scope").
const (
	scopeAddress        = "address"
	scopeAccountAddress = "account_address"
	scopeAccount        = "account"
	scopeDevice         = "device"
)

func keyScope(key string) string {
	switch {
	case strings.HasPrefix(key, "account:"):
		return scopeAccountAddress
	case strings.HasPrefix(key, "user:"):
		return scopeAccount
	case strings.HasPrefix(key, "device:"):
		return scopeDevice
	}
	return scopeAddress
}

// usernameHasher keys the hash under which typed usernames are counted and,
// for unknown accounts, recorded: the same typed name always hashes the
// same in this deployment, but the hash cannot be reversed by guessing
// without the key, which stays in the database.
type usernameHasher struct {
	mu  sync.Mutex
	key []byte
}

func (s *Service) usernameHash(ctx context.Context, username string) (string, error) {
	h := &s.unames
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.key == nil {
		candidate := make([]byte, 32)
		rand.Read(candidate)
		key, err := s.db.IdentityKey(ctx, "username_hash", candidate)
		if err != nil {
			// Two first sign-ins at once: the other one's key is stored now.
			if key, err = s.db.IdentityKey(ctx, "username_hash", candidate); err != nil {
				return "", err
			}
		}
		h.key = key
	}
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(username))
	return hex.EncodeToString(m.Sum(nil)[:16]), nil
}

// addrLimiter is the in-memory bucket per address group. It is per process:
// with several app servers each holds its own, which still bounds a client.
type addrLimiter struct {
	mu      sync.Mutex
	size    float64
	refill  time.Duration
	buckets map[string]*bucket
}

type bucket struct {
	tokens  float64
	at      time.Time // when tokens was computed
	refused int       // attempts turned away since since
	since   time.Time
}

// maxBuckets bounds the limiter's memory; full, idle buckets go first.
const maxBuckets = 100_000

func newAddrLimiter(t Throttle) *addrLimiter {
	return &addrLimiter{size: float64(t.AddrFree), refill: t.AddrRefill, buckets: map[string]*bucket{}}
}

// refusal is what take reports about a refused attempt, or about the
// refusals that ended when an attempt was admitted again.
type refusal struct {
	started bool      // this attempt was the first one refused
	ended   int       // admitted again after this many refusals
	since   time.Time // the first refusal of the window
	until   time.Time // when the next attempt will be admitted
}

// take admits one attempt from group, or refuses it.
func (l *addrLimiter) take(group string, now time.Time) (bool, refusal) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[group]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.size, at: now}
		l.buckets[group] = b
	}
	b.tokens = min(l.size, b.tokens+float64(now.Sub(b.at))/float64(l.refill))
	b.at = now
	if b.tokens < 1 {
		r := refusal{started: b.refused == 0, until: now.Add(time.Duration((1 - b.tokens) * float64(l.refill)))}
		if b.refused == 0 {
			b.since = now
		}
		b.refused++
		r.since = b.since
		return false, r
	}
	b.tokens--
	r := refusal{ended: b.refused, since: b.since}
	b.refused = 0
	return true, r
}

// give returns the attempt an admitted sign-in took: it succeeded.
func (l *addrLimiter) give(group string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[group]; b != nil {
		b.tokens = min(l.size, b.tokens+1)
	}
}

// drain returns and clears the refusal counts of every group.
func (l *addrLimiter) drain() map[string]refusal {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]refusal{}
	for g, b := range l.buckets {
		if b.refused > 0 {
			out[g] = refusal{ended: b.refused, since: b.since}
			b.refused = 0
		}
	}
	return out
}

// sweep drops buckets that are full again and hold no count; if that frees
// nothing, it drops buckets at random (map order) down to three quarters.
func (l *addrLimiter) sweep(now time.Time) {
	for g, b := range l.buckets {
		if b.refused == 0 && b.tokens+float64(now.Sub(b.at))/float64(l.refill) >= l.size {
			delete(l.buckets, g)
		}
	}
	for g := range l.buckets {
		if len(l.buckets) < maxBuckets*3/4 {
			break
		}
		delete(l.buckets, g)
	}
}
