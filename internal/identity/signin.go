package identity

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"restoredesk/internal/audit"
	"restoredesk/internal/clip"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
)

// Throttle slows password guessing. Failed sign-ins are counted per (account,
// client address) and per client address; past a free allowance each further
// failure blocks the key for a delay that doubles up to Max. Nothing locks an
// account for good: once the delay passes, the right password works, and a
// count with no failure for Forget starts again. Unknown usernames are
// counted exactly like real ones.
type Throttle struct {
	AccountFree int           // failures per (account, address) before delays start
	AddrFree    int           // failures per address before delays start
	Base        time.Duration // the first delay
	Max         time.Duration // the longest delay
	Forget      time.Duration // a key with no failure for this long starts again
}

// DefaultThrottle: five free tries per account and address, then 2 s, 4 s, 8 s…
// up to 15 minutes; fifty per address across accounts.
var DefaultThrottle = Throttle{AccountFree: 5, AddrFree: 50, Base: 2 * time.Second, Max: 15 * time.Minute, Forget: 12 * time.Hour}

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

// throttleKeys returns the (account, address) key and the address key.
func throttleKeys(username, addr string) (account, address string) {
	username = clip.String(username, 100)
	return "account:" + username + "|" + addr, "addr:" + addr
}

// normalizeUsername is how a typed username is compared with stored ones.
func normalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Session is a signed-in session: ID goes into the cookie.
type Session struct {
	ID   string
	User *policy.User
}

// SignIn checks username and password from client. On success it starts a new
// session. Every failure, whatever its cause, returns ErrBadCredentials (or a
// *ThrottledError while earlier failures block the attempt), takes as long
// as a real password check, counts toward the throttle and records
// auth.sign_in_failed; only the audit event says why.
func (s *Service) SignIn(ctx context.Context, username, password string, client Client) (Session, error) {
	typed := username
	username = normalizeUsername(username)
	accountKey, addrKey := throttleKeys(username, client.Addr)
	until, err := s.claimAttempt(ctx, accountKey, addrKey)
	if err != nil {
		return Session{}, err
	}
	if !until.IsZero() {
		if err := s.failed(ctx, typed, "", "throttled", client); err != nil {
			return Session{}, err
		}
		return Session{}, &ThrottledError{Until: until}
	}

	u, err := s.db.UserByUsername(ctx, username)
	switch {
	case errors.Is(err, postgres.ErrNotFound):
		s.hasher.VerifyDummy(password)
		return Session{}, s.failedErr(ctx, typed, "", "unknown_user", client)
	case err != nil:
		return Session{}, err
	}
	ok, rehash := s.hasher.Verify(u.PasswordHash, password)
	target := strconv.FormatInt(u.ID, 10)
	switch {
	case !ok && u.PasswordHash == "":
		return Session{}, s.failedErr(ctx, typed, target, "single_sign_on_account", client)
	case !ok:
		return Session{}, s.failedErr(ctx, typed, target, "wrong_password", client)
	case u.Disabled:
		return Session{}, s.failedErr(ctx, typed, target, "disabled", client)
	}

	var sess Session
	err = s.db.Tx(ctx, func(tx *postgres.DB) error {
		// The attempt was counted as a failure when it was claimed; it was
		// not one.
		if err := tx.ClearSignInFailures(ctx, accountKey); err != nil {
			return err
		}
		if err := tx.UncountSignInFailure(ctx, addrKey); err != nil {
			return err
		}
		details := map[string]any{"method": "password"}
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
	return sess, err
}

func (s *Service) failedErr(ctx context.Context, typed, target, reason string, client Client) error {
	if err := s.failed(ctx, typed, target, reason, client); err != nil {
		return err
	}
	return ErrBadCredentials
}

// claimAttempt admits one sign-in attempt under both throttle keys, or
// returns when the keys are blocked until. An admitted attempt is counted as
// a failure at once (and forgiven if it succeeds): counting before the
// password check, under the keys' row locks, means attempts sent in parallel
// cannot all slip through before any failure is recorded.
func (s *Service) claimAttempt(ctx context.Context, accountKey, addrKey string) (time.Time, error) {
	var until time.Time
	err := s.db.Tx(ctx, func(tx *postgres.DB) error {
		keys := []string{accountKey, addrKey}
		var err error
		// Lock both rows (in one order, so claims never deadlock) and look.
		if until, err = tx.LockSignInKeys(ctx, keys); err != nil || !until.IsZero() {
			return err
		}
		t := s.cfg.Throttle
		for _, k := range []struct {
			key  string
			free int
		}{{accountKey, t.AccountFree}, {addrKey, t.AddrFree}} {
			n, err := tx.RecordSignInFailure(ctx, k.key, t.Forget)
			if err != nil {
				return err
			}
			if d := t.Delay(n, k.free); d > 0 {
				if err := tx.BlockSignIn(ctx, k.key, d); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return until, err
}

// failed records a failed sign-in as an auth.sign_in_failed event. The
// throttle counted the attempt when claimAttempt admitted it; attempts the
// throttle refused are not counted, so a blocked address cannot push its own
// block further out by hammering.
func (s *Service) failed(ctx context.Context, typed, target, reason string, client Client) error {
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		typed = clip.String(typed, clip.Username)
		a := Actor{Actor: audit.Actor{Name: "anonymous", ClientAddr: client.Addr, UserAgent: client.UserAgent}}
		return a.record(ctx, tx, audit.SignInFailed, audit.TargetUser, target, 0,
			map[string]any{"username": typed, "reason": reason})
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
// has expired, or belongs to a disabled user.
func (s *Service) Authenticate(ctx context.Context, id string) (*policy.User, error) {
	if id == "" {
		return nil, ErrNoSession
	}
	hash := HashSessionID(id)
	userID, lastSeen, err := s.db.ActiveSession(ctx, hash, s.cfg.IdleTimeout)
	if errors.Is(err, postgres.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	// Restart the idle timer, at most once a minute per session, so a busy
	// page does not write on every request.
	if time.Since(lastSeen) > time.Minute {
		if err := s.db.TouchSession(ctx, hash); err != nil {
			return nil, err
		}
	}
	u, err := postgres.LoadUser(ctx, s.pool, userID)
	if errors.Is(err, postgres.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrNoSession
	}
	return u, nil
}

// SignOut ends session id and records auth.sign_out. Ending a session that
// is already gone does nothing.
func (s *Service) SignOut(ctx context.Context, id string, client Client) error {
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
	if err := s.db.DeleteExpiredSessions(ctx, s.cfg.IdleTimeout); err != nil {
		return err
	}
	return s.db.DeleteOldSignInFailures(ctx, s.cfg.Throttle.Forget)
}
