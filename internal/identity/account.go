package identity

import (
	"context"
	"errors"
	"strconv"

	"restoredesk/internal/audit"
	"restoredesk/internal/postgres"
	"restoredesk/internal/timezone"
)

// SetTimeZone stores the zone the user's own pages show times in: an IANA
// name such as Asia/Shanghai, "UTC", or "" for their browser's zone (else the
// deployment's default). A name that is not a zone returns
// FieldErrors{"time_zone": …} and stores nothing. A change records
// admin.user_updated with by=self, as other account changes are recorded;
// saving the same zone again records nothing.
func (s *Service) SetTimeZone(ctx context.Context, a Actor, zone string) error {
	if zone != "" {
		loc, err := timezone.Load(zone)
		if err != nil {
			return FieldErrors{"time_zone": "Choose a time zone from the list, or an IANA name such as Asia/Shanghai."}
		}
		zone = loc.String()
	}
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		u, err := tx.UserByID(ctx, a.UserID)
		if err != nil {
			return err
		}
		prev, err := tx.SetTimeZone(ctx, u.ID, zone)
		if err != nil || prev == zone {
			return err
		}
		return a.record(ctx, tx, audit.AdminUserUpdated, audit.TargetUser, strconv.FormatInt(u.ID, 10), 0, map[string]any{
			"username": u.Username, "by": "self",
			"changes": map[string]any{"time_zone": map[string]any{"from": prev, "to": zone}},
		})
	})
}

// ErrNoSuchSession is returned by EndSession for a session the user does not
// have (already ended, expired and cleaned up, or someone else's).
var ErrNoSuchSession = errors.New("identity: no such session")

// EndSession signs the user out of one of their own sessions, named by the
// hash the sessions table stores (what the account page lists), and records
// auth.sign_out with scope "one session".
func (s *Service) EndSession(ctx context.Context, a Actor, idHash []byte) error {
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		started, err := tx.DeleteUserSession(ctx, a.UserID, idHash)
		if errors.Is(err, postgres.ErrNotFound) {
			return ErrNoSuchSession
		}
		if err != nil {
			return err
		}
		return a.record(ctx, tx, audit.SignOut, audit.TargetUser, strconv.FormatInt(a.UserID, 10), 0,
			map[string]any{"scope": "one session", "session_started": started.UTC().Format("2006-01-02T15:04:05Z07:00")})
	})
}
