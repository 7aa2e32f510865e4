package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/policy"
)

// User is a row of the users table.
type User struct {
	ID           int64     `db:"id"`
	Username     string    `db:"username"`
	Email        string    `db:"email"`
	DisplayName  string    `db:"display_name"`
	PasswordHash string    `db:"password_hash"` // '' for single sign-on accounts
	Disabled     bool      `db:"disabled"`
	Admin        bool      `db:"admin"`
	Auditor      bool      `db:"auditor"`
	OIDCIssuer   *string   `db:"oidc_issuer"`
	OIDCSubject  *string   `db:"oidc_subject"`
	CreatedAt    time.Time `db:"created_at"`
	// Separation of duties: an admin grant waiting for a second admin, and
	// who created or elevated the account (nil: the system or the identity
	// provider).
	AdminPending     bool   `db:"admin_pending"`
	CreatedBy        *int64 `db:"created_by"`
	AdminRequestedBy *int64 `db:"admin_requested_by"`
	AdminConfirmedBy *int64 `db:"admin_confirmed_by"`
}

// SSO reports whether the account is linked to a single sign-on identity.
func (u User) SSO() bool { return u.OIDCIssuer != nil }

const userColumns = `id, username, email, display_name, password_hash, disabled, admin, auditor,
	oidc_issuer, oidc_subject, created_at, admin_pending, created_by, admin_requested_by, admin_confirmed_by`

// LoadUser returns user id with their roles and memberships as they are now,
// read through db (a pool or the caller's transaction). It is what every
// decision checks permissions against. It returns ErrNotFound when there is
// no such user.
func LoadUser(ctx context.Context, db DBTX, id int64) (*policy.User, error) {
	u, _, err := scanPolicyUser(db.QueryRow(ctx, `
		SELECT `+policyUserColumns+`, NULL::timestamptz
		FROM users u `+policyUserMemberships+`
		WHERE u.id = $1`, id))
	return u, err
}

// SessionUser returns the user of the session whose id hashes to idHash, as
// LoadUser does, with when the session was last seen: one round trip for
// what every signed-in request needs. The session must have passed neither
// its absolute expiry nor been idle longer than idle; otherwise, or when
// there is no such session, it returns ErrNotFound.
func (d *DB) SessionUser(ctx context.Context, idHash []byte, idle time.Duration) (*policy.User, time.Time, error) {
	return scanPolicyUser(d.db.QueryRow(ctx, `
		SELECT `+policyUserColumns+`, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id `+policyUserMemberships+`
		WHERE s.id_hash = $1 AND s.expires_at > now()
			AND s.last_seen_at > now() - $2 * interval '1 microsecond'`,
		idHash, idle.Microseconds()))
}

// policyUserColumns and policyUserMemberships read a user (u) and their
// memberships, ordered by team name, in the same statement.
const (
	policyUserColumns = `u.id, u.username, u.display_name, u.email, u.admin, u.auditor, u.disabled,
		array_remove(ARRAY[u.created_by, u.admin_requested_by, u.admin_confirmed_by], NULL), u.time_zone,
		coalesce(ms.ids, '{}'), coalesce(ms.names, '{}'), coalesce(ms.leads, '{}')`
	policyUserMemberships = `
		LEFT JOIN LATERAL (
			SELECT array_agg(m.team_id ORDER BY t.name) AS ids, array_agg(t.name ORDER BY t.name) AS names,
				array_agg(m.lead ORDER BY t.name) AS leads
			FROM memberships m JOIN teams t ON t.id = m.team_id
			WHERE m.user_id = u.id) ms ON true`
)

func scanPolicyUser(row pgx.Row) (*policy.User, time.Time, error) {
	var u policy.User
	var ids []int64
	var names []string
	var leads []bool
	var seen *time.Time
	err := row.Scan(&u.ID, &u.Username, &u.Name, &u.Email, &u.Admin, &u.Auditor, &u.Disabled, &u.Patrons, &u.TimeZone,
		&ids, &names, &leads, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("load user: %w", err)
	}
	for i := range ids {
		u.Teams = append(u.Teams, policy.Membership{TeamID: ids[i], TeamName: names[i], Lead: leads[i]})
	}
	if seen == nil {
		return &u, time.Time{}, nil
	}
	return &u, *seen, nil
}

// UserByID returns user id. It returns ErrNotFound when there is none.
func (d *DB) UserByID(ctx context.Context, id int64) (User, error) {
	return d.userWhere(ctx, `id = $1`, id)
}

// UserByUsername returns the user called username. It returns ErrNotFound
// when there is none.
func (d *DB) UserByUsername(ctx context.Context, username string) (User, error) {
	return d.userWhere(ctx, `username = $1`, username)
}

// UserByOIDC returns the user linked to the single sign-on identity (issuer,
// subject). It returns ErrNotFound when there is none.
func (d *DB) UserByOIDC(ctx context.Context, issuer, subject string) (User, error) {
	return d.userWhere(ctx, `oidc_issuer = $1 AND oidc_subject = $2`, issuer, subject)
}

func (d *DB) userWhere(ctx context.Context, where string, args ...any) (User, error) {
	rows, err := d.db.Query(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, args...)
	if err != nil {
		return User{}, fmt.Errorf("query user: %w", err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User])
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("read user: %w", err)
	}
	return u, nil
}

// NewUser is what creating a user stores.
type NewUser struct {
	Username     string
	Email        string
	DisplayName  string
	PasswordHash string
	Admin        bool
	Auditor      bool
	OIDCIssuer   string // with OIDCSubject: a single sign-on account
	OIDCSubject  string
	CreatedBy    int64 // the admin creating the account; 0: the system
	// AdminPending: the admin role was asked for and waits for another
	// admin's confirmation, requested by CreatedBy.
	AdminPending bool
}

// InsertUser stores a new user and returns its id. A duplicate username or
// e-mail fails with a unique violation (constraints users_username_key,
// users_email_key).
func (d *DB) InsertUser(ctx context.Context, n NewUser) (int64, error) {
	var id int64
	err := d.db.QueryRow(ctx, `
		INSERT INTO users (username, email, display_name, password_hash, admin, auditor, oidc_issuer, oidc_subject,
			created_by, admin_pending, admin_requested_by)
		VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''), NULLIF($8, ''), NULLIF($9, 0), $10, CASE WHEN $10 THEN NULLIF($9, 0) END)
		RETURNING id`,
		n.Username, n.Email, n.DisplayName, n.PasswordHash, n.Admin, n.Auditor, n.OIDCIssuer, n.OIDCSubject,
		n.CreatedBy, n.AdminPending).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert user: %w", err)
	}
	return id, nil
}

// UserListItem is a row of the administration's user list.
type UserListItem struct {
	ID          int64    `db:"id"`
	Username    string   `db:"username"`
	DisplayName string   `db:"display_name"`
	Email       string   `db:"email"`
	Disabled    bool     `db:"disabled"`
	Admin       bool     `db:"admin"`
	Auditor     bool     `db:"auditor"`
	SSO         bool     `db:"sso"`
	Teams       []string `db:"teams"` // "payments" or "payments (lead)"
}

// ListUsers returns up to limit users ordered by username, starting after the
// username after ("" for the first page): keyset pagination.
func (d *DB) ListUsers(ctx context.Context, after string, limit int) ([]UserListItem, error) {
	rows, err := d.db.Query(ctx, `
		SELECT u.id, u.username, u.display_name, u.email, u.disabled, u.admin, u.auditor,
			u.oidc_issuer IS NOT NULL AS sso,
			COALESCE(array_agg(t.name || CASE WHEN m.lead THEN ' (lead)' ELSE '' END ORDER BY t.name)
				FILTER (WHERE t.id IS NOT NULL), '{}') AS teams
		FROM users u
		LEFT JOIN memberships m ON m.user_id = u.id
		LEFT JOIN teams t ON t.id = m.team_id
		WHERE u.username > $1
		GROUP BY u.id
		ORDER BY u.username
		LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowToStructByName[UserListItem])
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// SetUserDisabled disables or re-enables user id. It returns ErrNotFound when
// there is no such user.
func (d *DB) SetUserDisabled(ctx context.Context, id int64, disabled bool) error {
	return d.updateUser(ctx, `disabled = $2`, id, disabled)
}

// SetUserRoles sets the global roles of user id. It returns ErrNotFound when
// there is no such user.
func (d *DB) SetUserRoles(ctx context.Context, id int64, admin, auditor bool) error {
	return d.updateUser(ctx, `admin = $2, auditor = $3`, id, admin, auditor)
}

// SetPasswordHash replaces the password hash of user id. It returns
// ErrNotFound when there is no such user.
func (d *DB) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	return d.updateUser(ctx, `password_hash = $2`, id, hash)
}

// SetUserProfile updates the e-mail address and display name of user id (a
// single sign-on account follows its identity provider). It returns
// ErrNotFound when there is no such user.
func (d *DB) SetUserProfile(ctx context.Context, id int64, email, name string) error {
	return d.updateUser(ctx, `email = $2, display_name = $3`, id, email, name)
}

func (d *DB) updateUser(ctx context.Context, set string, id int64, args ...any) error {
	tag, err := d.db.Exec(ctx, `UPDATE users SET `+set+`, updated_at = now() WHERE id = $1`, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// HoldsUsersOrTeams reports whether any user or team exists.
func (d *DB) HoldsUsersOrTeams(ctx context.Context) (bool, error) {
	var used bool
	if err := d.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM teams)`).Scan(&used); err != nil {
		return false, fmt.Errorf("look for users and teams: %w", err)
	}
	return used, nil
}

// RequestAdmin marks user's admin role as asked for by admin by (0: the
// identity provider), to wait for another admin's confirmation.
func (d *DB) RequestAdmin(ctx context.Context, user, by int64) error {
	tag, err := d.db.Exec(ctx, `
		UPDATE users SET admin_pending = true, admin_requested_by = NULLIF($2, 0), admin_confirmed_by = NULL, updated_at = now()
		WHERE id = $1 AND NOT admin`, user, by)
	if err != nil {
		return fmt.Errorf("request admin: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// ConfirmAdmin grants user the admin role that waited for confirmation, as
// confirmed by admin by (0: the system).
func (d *DB) ConfirmAdmin(ctx context.Context, user, by int64) error {
	tag, err := d.db.Exec(ctx, `
		UPDATE users SET admin = true, admin_pending = false, admin_confirmed_by = NULLIF($2, 0), updated_at = now()
		WHERE id = $1 AND admin_pending`, user, by)
	if err != nil {
		return fmt.Errorf("confirm admin: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// CancelAdminRequest withdraws a pending admin grant of user.
func (d *DB) CancelAdminRequest(ctx context.Context, user int64) error {
	if _, err := d.db.Exec(ctx, `
		UPDATE users SET admin_pending = false, admin_requested_by = NULL, updated_at = now()
		WHERE id = $1 AND admin_pending`, user); err != nil {
		return fmt.Errorf("cancel admin request: %w", err)
	}
	return nil
}
