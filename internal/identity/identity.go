// Package identity is who people are and how they prove it: local accounts
// with argon2id password hashes, sign-in with throttling, server-side
// sessions, single sign-on accounts, and the administration of users, teams
// and memberships. Every change is one transaction with its audit event.
// Whether someone may make a change is policy's question, asked by the caller.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/clip"
	"restoredesk/internal/postgres"
)

// Config holds the tunable parts of identity. A zero field takes its default
// (DefaultConfig); tests lower the hashing cost and the throttle's delays.
type Config struct {
	Hash     Params
	Throttle Throttle
	// IdleTimeout ends a session unused for this long; AbsoluteTimeout ends
	// every session this long after sign-in, however busy.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
}

// DefaultConfig is the production configuration.
func DefaultConfig() Config {
	return Config{
		Hash:            DefaultParams,
		Throttle:        DefaultThrottle,
		IdleTimeout:     30 * time.Minute, // OWASP ASVS 4.0 level 2 (3.3.2):
		AbsoluteTimeout: 12 * time.Hour,   // 30 minutes idle, 12 hours at most
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Hash == (Params{}) {
		c.Hash = d.Hash
	}
	c.Throttle = c.Throttle.withDefaults()
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.AbsoluteTimeout == 0 {
		c.AbsoluteTimeout = d.AbsoluteTimeout
	}
	return c
}

// Service performs sign-in, sessions and account administration.
type Service struct {
	pool   *pgxpool.Pool
	db     *postgres.DB
	hasher *Hasher
	cfg    Config
	addrs  *addrLimiter
	unames usernameHasher
}

// New returns a Service over pool.
func New(pool *pgxpool.Pool, cfg Config) *Service {
	cfg = cfg.withDefaults()
	return &Service{pool: pool, db: postgres.New(pool), hasher: NewHasher(cfg.Hash), cfg: cfg, addrs: newAddrLimiter(cfg.Throttle)}
}

// Config returns the configuration in effect, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Hasher returns the password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

// Actor is who makes a change: a signed-in user (audit.Actor with a UserID)
// or the system, with Via saying through what ("cli", "demo seed", "sso");
// Via is written into each event's details.
type Actor struct {
	audit.Actor
	Via string
}

// Client is where a sign-in comes from.
type Client struct {
	Addr      string
	UserAgent string
	// Device is the browser's known-device cookie, verified by the caller;
	// nil when it has none.
	Device *Device
}

// clipped returns c with its texts cut to what is stored.
func (c Client) clipped() Client {
	c.Addr, c.UserAgent = clip.String(c.Addr, clip.Addr), clip.String(c.UserAgent, clip.UserAgent)
	return c
}

// Device is a browser that has signed in here before, as its signed cookie
// says: a random id and the accounts that signed in from it.
type Device struct {
	ID        string
	Usernames []string
}

// MaxDeviceAccounts is how many accounts a device cookie remembers.
const MaxDeviceAccounts = 5

// knows reports whether d vouches for username (normalized).
func (d *Device) knows(username string) bool {
	if d == nil || !deviceIDPattern.MatchString(d.ID) {
		return false
	}
	return slices.Contains(d.Usernames, username)
}

var deviceIDPattern = regexp.MustCompile(`^[A-Z2-7]{26}$`)

// NewDeviceID returns a fresh device id (what rand.Text makes: 128 random bits).
func NewDeviceID() string { return rand.Text() }

// FieldErrors maps form fields to what is wrong with them. It is returned for
// input that cannot be stored, duplicates included.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	s := "invalid input:"
	for k, v := range f {
		s += " " + k + ": " + v
	}
	return s
}

// Errors of sign-in and sessions.
var (
	// ErrBadCredentials is the one answer to every failed sign-in: unknown
	// user, wrong password, disabled account alike.
	ErrBadCredentials = errors.New("the username or password is not right")
	// ErrNoSession: the cookie names no active session.
	ErrNoSession = errors.New("no active session")
)

// ThrottledError says sign-in is refused until Until because of earlier failures.
type ThrottledError struct{ Until time.Time }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins; try again after %s", e.Until.Format(time.RFC3339))
}

// Wait returns how long until sign-in is possible again, rounded up to a second.
func (e *ThrottledError) Wait() time.Duration {
	d := time.Until(e.Until)
	if d < time.Second {
		return time.Second
	}
	return d.Round(time.Second) + time.Second
}

// newSessionID returns a new random session id (the cookie's value) and its
// SHA-256 (what the sessions table stores).
func newSessionID() (id string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	id = base64.RawURLEncoding.EncodeToString(b)
	return id, HashSessionID(id)
}

// HashSessionID returns what the sessions table stores for session id.
func HashSessionID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// record writes ev in tx with a's identity and "via".
func (a Actor) record(ctx context.Context, tx *postgres.DB, action, targetType, targetID string, team int64, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	if a.Via != "" {
		details["via"] = a.Via
	}
	_, err := audit.Record(ctx, tx.Conn(), audit.Event{
		Actor: a.Actor, Action: action, TargetType: targetType, TargetID: targetID, TeamID: team, Details: details,
	})
	return err
}
