package identity

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"restoredesk/internal/audit"
	"restoredesk/internal/clip"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
)

// throttleKey is one database throttle key with its free allowance.
type throttleKey struct {
	key  string
	free int
}

func keyNames(keys []throttleKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.key
	}
	return out
}

// normalizeUsername is how a typed username is compared with stored ones.
func normalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Session is a signed-in session: ID goes into the cookie.
type Session struct {
	ID   string
	User *policy.User
}

// attempt is what a sign-in names, as the audit trail may record it: an
// existing account by its id and username; an unknown one only by the keyed
// hash of what was typed and its length, since people type passwords into
// the username box.
type attempt struct {
	target  string // user id, or "" for an unknown account
	details map[string]any
}

func (a attempt) with(kv ...any) map[string]any {
	d := map[string]any{}
	for k, v := range a.details {
		d[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		d[kv[i].(string)] = kv[i+1]
	}
	return d
}

// SignIn checks username and password from client. On success it starts a new
// session. Every failure, whatever its cause, returns ErrBadCredentials (or a
// *ThrottledError while earlier failures hold the attempt back), takes as
// long as a real password check, counts toward the throttle and records
// auth.sign_in_failed; only the audit event says why. Attempts the throttle
// turns away are not recorded one by one: a block is recorded when it starts
// (auth.sign_in_blocked) and the attempts it refused as one count
// (auth.sign_in_refused).
func (s *Service) SignIn(ctx context.Context, username, password string, client Client) (Session, error) {
	client = client.clipped()
	name := normalizeUsername(username)
	uhash, err := s.usernameHash(ctx, name)
	if err != nil {
		return Session{}, err
	}
	t := s.cfg.Throttle
	group := AddrGroup(client.Addr)
	known := client.Device.knows(name)
	var keys []throttleKey
	if known {
		keys = []throttleKey{{"device:" + client.Device.ID + "|" + uhash, t.DeviceFree}}
	} else {
		ok, r := s.addrs.take(group, time.Now())
		if err := s.recordAddrRefusal(ctx, group, r, client); err != nil {
			return Session{}, err
		}
		if !ok {
			return Session{}, &ThrottledError{Until: r.until}
		}
		keys = []throttleKey{{"account:" + uhash + "|" + group, t.AccountFree}, {"user:" + uhash, t.AccountCeiling}}
	}

	u, err := s.db.UserByUsername(ctx, name)
	found := err == nil
	if err != nil && !errors.Is(err, postgres.ErrNotFound) {
		return Session{}, err
	}
	at := attempt{details: map[string]any{"username_hash": uhash, "username_length": utf8.RuneCountInString(username)}}
	if found {
		at = attempt{target: strconv.FormatInt(u.ID, 10), details: map[string]any{"username": u.Username}}
	}
	if known {
		at.details["device"] = "known"
	}
	until, err := s.claimAttempt(ctx, keys, at, client)
	if err != nil {
		return Session{}, err
	}
	if !until.IsZero() {
		return Session{}, &ThrottledError{Until: until}
	}

	if !found {
		s.hasher.VerifyDummy(password)
		return Session{}, s.failedErr(ctx, at, "unknown_user", client)
	}
	ok, rehash := s.hasher.Verify(u.PasswordHash, password)
	switch {
	case !ok && u.PasswordHash == "":
		return Session{}, s.failedErr(ctx, at, "single_sign_on_account", client)
	case !ok:
		return Session{}, s.failedErr(ctx, at, "wrong_password", client)
	case u.Disabled:
		return Session{}, s.failedErr(ctx, at, "disabled", client)
	}

	var sess Session
	err = s.db.Tx(ctx, func(tx *postgres.DB) error {
		// The attempt was counted as a failure when it was claimed; it was
		// not one. The failures from this address (or device) at this
		// account are forgotten; the account's ceiling keeps strangers'
		// failures, and loses only this attempt.
		if _, _, err := tx.LockSignInKeys(ctx, keyNames(keys)); err != nil {
			return err
		}
		for _, k := range keys {
			var err error
			if strings.HasPrefix(k.key, "user:") {
				err = tx.UncountSignInFailure(ctx, k.key)
			} else {
				err = tx.ClearSignInFailures(ctx, k.key)
			}
			if err != nil {
				return err
			}
		}
		details := map[string]any{"method": "password"}
		if known {
			details["device"] = "known"
		}
		if rehash {
			// The hash was made with older parameters: replace it now that we
			// know the password.
			h, err := s.hasher.Hash(password)
			if err != nil {
				return err
			}
			if err := tx.SetPasswordHash(ctx, u.ID, h); err != nil {
				return err
			}
			details["password_rehashed"] = true
		}
		var err error
		sess, err = s.startSession(ctx, tx, u.ID, "password", client, details)
		return err
	})
	if err == nil && !known {
		s.addrs.give(group)
	}
	return sess, err
}

func (s *Service) failedErr(ctx context.Context, at attempt, reason string, client Client) error {
	if err := s.failed(ctx, at, reason, client); err != nil {
		return err
	}
	return ErrBadCredentials
}

// anonymous is the actor of events about sign-in attempts from client.
func anonymous(client Client) Actor {
	return Actor{Actor: audit.Actor{Name: "anonymous", ClientAddr: client.Addr, UserAgent: client.UserAgent}}
}

// claimAttempt admits one sign-in attempt under keys, or returns when the
// keys are blocked until. An admitted attempt is counted as a failure at once
// (and forgiven if it succeeds): counting before the password check, under
// the keys' row locks, means attempts sent in parallel cannot all slip
// through before any failure is recorded. A refused attempt only adds to the
// keys' refused counts; a key blocked for the first time in its window
// records auth.sign_in_blocked, and the refusals of a window that ended
// record one auth.sign_in_refused.
func (s *Service) claimAttempt(ctx context.Context, keys []throttleKey, at attempt, client Client) (time.Time, error) {
	var until time.Time
	err := s.db.Tx(ctx, func(tx *postgres.DB) error {
		rows, now, err := tx.LockSignInKeys(ctx, keyNames(keys))
		if err != nil {
			return err
		}
		var blocked []string
		for _, r := range rows {
			if r.Blocked(now) {
				blocked = append(blocked, r.Key)
				until = later(until, r.BlockedUntil)
			}
		}
		if len(blocked) > 0 {
			return tx.CountRefusedSignIn(ctx, blocked)
		}
		for _, r := range rows {
			if r.Refused > 0 {
				if err := s.recordRefused(ctx, tx, r.Key, r.Refused, r.RefusedSince); err != nil {
					return err
				}
			}
		}
		t := s.cfg.Throttle
		for _, k := range keys {
			n, err := tx.RecordSignInFailure(ctx, k.key, t.Forget)
			if err != nil {
				return err
			}
			d := t.Delay(n, k.free)
			if d == 0 {
				continue
			}
			blockedUntil, err := tx.BlockSignIn(ctx, k.key, d)
			if err != nil {
				return err
			}
			if n == k.free+1 { // the window's first block; later ones show as failures
				if err := anonymous(client).record(ctx, tx, audit.SignInBlocked, audit.TargetUser, at.target, 0,
					at.with("scope", keyScope(k.key), "key", k.key, "failures", n, "until", blockedUntil.UTC().Format(time.RFC3339))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return until, err
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// recordRefused records the attempts a key turned away in one window and
// resets its count.
func (s *Service) recordRefused(ctx context.Context, tx *postgres.DB, key string, n int, since *time.Time) error {
	d := map[string]any{"scope": keyScope(key), "key": key, "refused": n}
	if since != nil {
		d["since"] = since.UTC().Format(time.RFC3339)
	}
	if err := (Actor{Actor: audit.System}).record(ctx, tx, audit.SignInRefused, audit.TargetUser, "", 0, d); err != nil {
		return err
	}
	return tx.ResetRefusedSignIn(ctx, key)
}

// recordAddrRefusal records what the address bucket reports: a block that
// starts now, or the count of refusals that ended.
func (s *Service) recordAddrRefusal(ctx context.Context, group string, r refusal, client Client) error {
	if !r.started && r.ended == 0 {
		return nil
	}
	key := "addr:" + group
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		if r.started {
			return anonymous(client).record(ctx, tx, audit.SignInBlocked, audit.TargetUser, "", 0, map[string]any{
				"scope": scopeAddress, "key": key, "until": r.until.UTC().Format(time.RFC3339),
			})
		}
		return (Actor{Actor: audit.System}).record(ctx, tx, audit.SignInRefused, audit.TargetUser, "", 0, map[string]any{
			"scope": scopeAddress, "key": key, "refused": r.ended, "since": r.since.UTC().Format(time.RFC3339),
		})
	})
}

// FlushRefusals records the refusal counts of blocks that are over (and, for
// the in-memory address buckets, of every bucket), so a count that no later
// attempt reports still reaches the audit trail.
func (s *Service) FlushRefusals(ctx context.Context) error {
	for group, r := range s.addrs.drain() {
		if err := s.recordAddrRefusal(ctx, group, r, Client{}); err != nil {
			return err
		}
	}
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		rows, err := tx.EndedRefusals(ctx)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := s.recordRefused(ctx, tx, r.Key, r.Refused, r.RefusedSince); err != nil {
				return err
			}
		}
		return nil
	})
}

// failed records a failed sign-in as an auth.sign_in_failed event. The
// throttle counted the attempt when claimAttempt admitted it.
func (s *Service) failed(ctx context.Context, at attempt, reason string, client Client) error {
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		return anonymous(client).record(ctx, tx, audit.SignInFailed, audit.TargetUser, at.target, 0, at.with("reason", reason))
	})
}

// startSession stores a new session for user in tx and records auth.sign_in.
func (s *Service) startSession(ctx context.Context, tx *postgres.DB, user int64, method string, client Client, details map[string]any) (Session, error) {
	id, hash := newSessionID()
	err := tx.InsertSession(ctx, postgres.NewSession{
		IDHash: hash, UserID: user, ExpiresAt: time.Now().Add(s.cfg.AbsoluteTimeout),
		ClientAddr: client.Addr, UserAgent: clip.String(client.UserAgent, clip.UserAgent), Method: method,
	})
	if err != nil {
		return Session{}, err
	}
	u, err := postgres.LoadUser(ctx, tx.Conn(), user)
	if err != nil {
		return Session{}, err
	}
	a := Actor{Actor: audit.Actor{UserID: u.ID, Name: u.Username, ClientAddr: client.Addr, UserAgent: client.UserAgent}}
	if err := a.record(ctx, tx, audit.SignIn, audit.TargetUser, strconv.FormatInt(u.ID, 10), 0, details); err != nil {
		return Session{}, err
	}
	return Session{ID: id, User: u}, nil
}

// Authenticate returns the user of session id as they are now (roles and
// memberships read fresh), or ErrNoSession when the session does not exist,
// has expired, or belongs to a disabled user. activity says whether the
// request is the person's doing and restarts the idle timer; a page's
// background polling is not, so an unattended page still times out.
func (s *Service) Authenticate(ctx context.Context, id string, activity bool) (*policy.User, error) {
	if id == "" {
		return nil, ErrNoSession
	}
	hash := HashSessionID(id)
	u, lastSeen, err := s.db.SessionUser(ctx, hash, s.cfg.IdleTimeout)
	if errors.Is(err, postgres.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	// Restart the idle timer, at most once a minute per session, so a busy
	// page does not write on every request.
	if activity && time.Since(lastSeen) > time.Minute {
		if err := s.db.TouchSession(ctx, hash); err != nil {
			return nil, err
		}
	}
	if u.Disabled {
		return nil, ErrNoSession
	}
	return u, nil
}

// SignOut ends session id and records auth.sign_out. Ending a session that
// is already gone does nothing.
func (s *Service) SignOut(ctx context.Context, id string, client Client) error {
	client = client.clipped()
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		userID, err := tx.DeleteSession(ctx, HashSessionID(id))
		if errors.Is(err, postgres.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		a := Actor{Actor: audit.Actor{UserID: u.ID, Name: u.Username, ClientAddr: client.Addr, UserAgent: client.UserAgent}}
		return a.record(ctx, tx, audit.SignOut, audit.TargetUser, strconv.FormatInt(u.ID, 10), 0,
			map[string]any{"scope": "this session"})
	})
}

// RevokeSessions ends every session of user (sign out everywhere) and records
// auth.sessions_revoked. It returns how many sessions were ended.
func (s *Service) RevokeSessions(ctx context.Context, a Actor, user int64) (int64, error) {
	var n int64
	err := s.db.Tx(ctx, func(tx *postgres.DB) error {
		u, err := tx.UserByID(ctx, user)
		if err != nil {
			return err
		}
		if n, err = tx.DeleteUserSessions(ctx, user); err != nil {
			return err
		}
		by := "admin"
		if a.UserID == user {
			by = "self"
		}
		return a.record(ctx, tx, audit.SessionsRevoked, audit.TargetUser, strconv.FormatInt(user, 10), 0,
			map[string]any{"username": u.Username, "sessions_ended": n, "by": by})
	})
	return n, err
}

// CleanUp deletes expired sessions and forgotten sign-in failures. Expired
// rows are already refused; this only keeps the tables small.
func (s *Service) CleanUp(ctx context.Context) error {
	if err := s.FlushRefusals(ctx); err != nil {
		return err
	}
	if err := s.db.DeleteExpiredSessions(ctx, s.cfg.IdleTimeout); err != nil {
		return err
	}
	return s.db.DeleteOldSignInFailures(ctx, s.cfg.Throttle.Forget)
}
