package identity

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"restoredesk/internal/audit"
	"restoredesk/internal/postgres"
)

var (
	usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	emailRE    = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)
	teamNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
)

// reservedTeamNames would be ambiguous in single sign-on group names
// (restoredesk:admin is the admin role, not a team).
var reservedTeamNames = map[string]bool{"admin": true, "auditor": true}

// NewUser is a local account to create.
type NewUser struct {
	Username string
	Email    string
	Name     string
	Password string
	Admin    bool
	Auditor  bool
}

// Validate returns what is wrong with n, field by field (nil when nothing).
// Username and e-mail are expected already trimmed and lowercased by
// Normalize.
func (n NewUser) Validate() FieldErrors {
	f := FieldErrors{}
	if msg := ValidateUsername(n.Username); msg != "" {
		f["username"] = msg
	}
	if msg := validateEmail(n.Email); msg != "" {
		f["email"] = msg
	}
	if msg := validateName(n.Name); msg != "" {
		f["name"] = msg
	}
	if msg := ValidatePassword(n.Password, n.Username, n.Email, n.Name); msg != "" {
		f["password"] = msg
	}
	if len(f) == 0 {
		return nil
	}
	return f
}

// Normalize trims the fields and lowercases the username.
func (n NewUser) Normalize() NewUser {
	n.Username = normalizeUsername(n.Username)
	n.Email = strings.TrimSpace(n.Email)
	n.Name = strings.TrimSpace(n.Name)
	return n
}

// ValidateUsername returns what is wrong with a (normalized) username, or "".
func ValidateUsername(s string) string {
	if s == "" {
		return "Enter a username."
	}
	if !usernameRE.MatchString(s) {
		return "Use up to 64 lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit."
	}
	return ""
}

func validateEmail(s string) string {
	switch {
	case s == "":
		return "Enter an e-mail address."
	case len(s) > 254 || !emailRE.MatchString(s):
		return "Enter an e-mail address such as name@example.com."
	}
	return ""
}

func validateName(s string) string {
	switch {
	case s == "":
		return "Enter the person's name."
	case len(s) > 200:
		return "Use at most 200 characters."
	}
	return ""
}

// ValidateTeamName returns what is wrong with a team name, or "".
func ValidateTeamName(s string) string {
	switch {
	case s == "":
		return "Enter a team name."
	case !teamNameRE.MatchString(s):
		return "Use up to 64 lowercase letters, digits or dashes, starting with a letter or digit."
	case reservedTeamNames[s]:
		return "That name is reserved; choose another."
	}
	return ""
}

// uniqueFieldError turns a duplicate-key error into the field it concerns.
func uniqueFieldError(err error) error {
	c, ok := postgres.IsUniqueViolation(err)
	if !ok {
		return err
	}
	switch c {
	case "users_username_key":
		return FieldErrors{"username": "That username is taken."}
	case "users_email_key":
		return FieldErrors{"email": "Another account has that e-mail address."}
	case "teams_name_key":
		return FieldErrors{"name": "A team with that name exists."}
	}
	return err
}

// CreateUser creates a local account and records admin.user_created. Invalid
// input and duplicates return FieldErrors.
func (s *Service) CreateUser(ctx context.Context, a Actor, n NewUser) (int64, error) {
	n = n.Normalize()
	if f := n.Validate(); f != nil {
		return 0, f
	}
	return s.createUser(ctx, a, n)
}

// CreateDemoUser creates a demo account whose password may be short. Only the
// demo seed calls it.
func (s *Service) CreateDemoUser(ctx context.Context, a Actor, n NewUser) (int64, error) {
	return s.createUser(ctx, a, n.Normalize())
}

func (s *Service) createUser(ctx context.Context, a Actor, n NewUser) (int64, error) {
	hash, err := s.hasher.Hash(n.Password)
	if err != nil {
		return 0, err
	}
	// An admin made from the web pages waits for a second admin; the
	// command line and the demo seed (the system) grant it at once.
	pending := n.Admin && a.UserID != 0
	var id int64
	err = s.db.Tx(ctx, func(tx *postgres.DB) error {
		id, err = tx.InsertUser(ctx, postgres.NewUser{
			Username: n.Username, Email: n.Email, DisplayName: n.Name, PasswordHash: hash,
			Admin: n.Admin && !pending, Auditor: n.Auditor, CreatedBy: a.UserID, AdminPending: pending,
		})
		if err != nil {
			return uniqueFieldError(err)
		}
		details := map[string]any{
			"username": n.Username, "email": n.Email, "name": n.Name, "admin": n.Admin && !pending, "auditor": n.Auditor,
			"sign_in": "password",
		}
		if pending {
			details["admin_pending"] = true
		}
		return a.record(ctx, tx, audit.AdminUserCreated, audit.TargetUser, strconv.FormatInt(id, 10), 0, details)
	})
	return id, err
}

// ErrConfirmOwnRequest: the admin role must be confirmed by another admin
// than the one who asked for it (or the account itself).
var ErrConfirmOwnRequest = errors.New("another admin must confirm the admin role you asked for")

// ConfirmAdmin grants user the admin role that waits for confirmation and
// records admin.admin_confirmed. It returns ErrNotFound when nothing waits,
// and ErrConfirmOwnRequest when a asked for it or is user.
func (s *Service) ConfirmAdmin(ctx context.Context, a Actor, user int64) error {
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		u, err := tx.UserByID(ctx, user)
		if err != nil {
			return err
		}
		if !u.AdminPending {
			return postgres.ErrNotFound
		}
		requestedBy := int64(0)
		if u.AdminRequestedBy != nil {
			requestedBy = *u.AdminRequestedBy
		}
		if a.UserID != 0 && (a.UserID == requestedBy || a.UserID == user) {
			return ErrConfirmOwnRequest
		}
		if err := tx.ConfirmAdmin(ctx, user, a.UserID); err != nil {
			return err
		}
		details := map[string]any{"username": u.Username, "requested_by": "sso"}
		if requestedBy != 0 {
			details["requested_by"] = requestedBy
		}
		return a.record(ctx, tx, audit.AdminAdminConfirmed, audit.TargetUser, strconv.FormatInt(user, 10), 0, details)
	})
}

// SetDisabled disables user (ending all their sessions, recorded as
// admin.user_disabled) or re-enables them (admin.user_updated). Setting the
// state the user already has changes and records nothing.
func (s *Service) SetDisabled(ctx context.Context, a Actor, user int64, disabled bool) error {
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		u, err := tx.UserByID(ctx, user)
		if err != nil {
			return err
		}
		if u.Disabled == disabled {
			return nil
		}
		if err := tx.SetUserDisabled(ctx, user, disabled); err != nil {
			return err
		}
		id := strconv.FormatInt(user, 10)
		if !disabled {
			return a.record(ctx, tx, audit.AdminUserUpdated, audit.TargetUser, id, 0, map[string]any{
				"username": u.Username, "changes": map[string]any{"disabled": map[string]any{"from": true, "to": false}},
			})
		}
		n, err := tx.DeleteUserSessions(ctx, user)
		if err != nil {
			return err
		}
		return a.record(ctx, tx, audit.AdminUserDisabled, audit.TargetUser, id, 0, map[string]any{
			"username": u.Username, "sessions_ended": n,
		})
	})
}

// SetRoles sets user's global roles and records admin.user_updated with what
// changed. Nothing changed, nothing recorded. The admin role granted by an
// admin (a with a UserID) is not granted yet: it waits for a second admin
// (ConfirmAdmin), recorded as the change admin_pending false → true.
// Revoking is immediate, and withdraws a pending grant.
func (s *Service) SetRoles(ctx context.Context, a Actor, user int64, admin, auditor bool) error {
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		u, err := tx.UserByID(ctx, user)
		if err != nil {
			return err
		}
		changes, err := s.changeRoles(ctx, tx, a.UserID, u, admin, auditor)
		if err != nil || len(changes) == 0 {
			return err
		}
		return a.record(ctx, tx, audit.AdminUserUpdated, audit.TargetUser, strconv.FormatInt(user, 10), 0,
			map[string]any{"username": u.Username, "changes": changes})
	})
}

// changeRoles makes u's roles admin and auditor in tx, an admin grant by
// requester (0: the identity provider; see SetRoles) waiting for
// confirmation, and returns what changed, as the audit trail records it.
func (s *Service) changeRoles(ctx context.Context, tx *postgres.DB, requester int64, u postgres.User, admin, auditor bool) (map[string]any, error) {
	changes := map[string]any{}
	newAdmin := u.Admin
	switch {
	case admin && !u.Admin && !u.AdminPending:
		if err := tx.RequestAdmin(ctx, u.ID, requester); err != nil {
			return nil, err
		}
		changes["admin_pending"] = map[string]any{"from": false, "to": true}
	case !admin && u.AdminPending:
		if err := tx.CancelAdminRequest(ctx, u.ID); err != nil {
			return nil, err
		}
		changes["admin_pending"] = map[string]any{"from": true, "to": false}
	case !admin && u.Admin:
		newAdmin = false
		changes["admin"] = map[string]any{"from": true, "to": false}
	}
	if u.Auditor != auditor {
		changes["auditor"] = map[string]any{"from": u.Auditor, "to": auditor}
	}
	if newAdmin != u.Admin || u.Auditor != auditor {
		if err := tx.SetUserRoles(ctx, u.ID, newAdmin, auditor); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// GrantAdmin gives user the admin role at once, without a second admin: only
// the command line (an operator with the database's credentials) calls it.
func (s *Service) GrantAdmin(ctx context.Context, a Actor, user int64) error {
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		u, err := tx.UserByID(ctx, user)
		if err != nil {
			return err
		}
		if u.Admin {
			return nil
		}
		if !u.AdminPending {
			if err := tx.RequestAdmin(ctx, user, 0); err != nil {
				return err
			}
		}
		if err := tx.ConfirmAdmin(ctx, user, 0); err != nil {
			return err
		}
		return a.record(ctx, tx, audit.AdminAdminConfirmed, audit.TargetUser, strconv.FormatInt(user, 10), 0,
			map[string]any{"username": u.Username, "requested_by": "system"})
	})
}

// ResetPassword sets a new password for user, ends their sessions and records
// admin.password_reset (never the password). A password that breaks the
// rules returns FieldErrors{"password": …}.
func (s *Service) ResetPassword(ctx context.Context, a Actor, user int64, password string) error {
	target, err := s.db.UserByID(ctx, user)
	if err != nil {
		return err
	}
	if msg := ValidatePassword(password, target.Username, target.Email, target.DisplayName); msg != "" {
		return FieldErrors{"password": msg}
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		u, err := tx.UserByID(ctx, user)
		if err != nil {
			return err
		}
		if u.SSO() {
			return FieldErrors{"password": "This account signs in with single sign-on and has no password here."}
		}
		if err := tx.SetPasswordHash(ctx, user, hash); err != nil {
			return err
		}
		n, err := tx.DeleteUserSessions(ctx, user)
		if err != nil {
			return err
		}
		return a.record(ctx, tx, audit.AdminPasswordReset, audit.TargetUser, strconv.FormatInt(user, 10), 0,
			map[string]any{"username": u.Username, "sessions_ended": n, "by": "admin"})
	})
}

// ChangeOwnPassword lets a user replace their password, proving they know the
// current one. It records admin.password_reset with by=self; the user's
// sessions stay (they can sign out everywhere from the same page).
func (s *Service) ChangeOwnPassword(ctx context.Context, a Actor, current, next string) error {
	u, err := s.db.UserByID(ctx, a.UserID)
	if err != nil {
		return err
	}
	if u.SSO() {
		return FieldErrors{"current": "Your account signs in with single sign-on and has no password here."}
	}
	if ok, _ := s.hasher.Verify(u.PasswordHash, current); !ok {
		return FieldErrors{"current": "That is not your current password."}
	}
	if msg := ValidatePassword(next, u.Username, u.Email, u.DisplayName); msg != "" {
		return FieldErrors{"new": msg}
	}
	hash, err := s.hasher.Hash(next)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		if err := tx.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
		return a.record(ctx, tx, audit.AdminPasswordReset, audit.TargetUser, strconv.FormatInt(u.ID, 10), 0,
			map[string]any{"username": u.Username, "by": "self"})
	})
}

// CreateTeam creates a team and records admin.team_created. An invalid or
// duplicate name returns FieldErrors{"name": …}.
func (s *Service) CreateTeam(ctx context.Context, a Actor, name string) (int64, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if msg := ValidateTeamName(name); msg != "" {
		return 0, FieldErrors{"name": msg}
	}
	var id int64
	err := s.db.Tx(ctx, func(tx *postgres.DB) error {
		var err error
		if id, err = tx.InsertTeam(ctx, name); err != nil {
			return uniqueFieldError(err)
		}
		return a.record(ctx, tx, audit.AdminTeamCreated, audit.TargetTeam, strconv.FormatInt(id, 10), id,
			map[string]any{"name": name})
	})
	return id, err
}

// Membership states as the audit trail names them.
const (
	roleNone   = "none"
	roleMember = "member"
	roleLead   = "lead"
)

func roleName(in, lead bool) string {
	switch {
	case !in:
		return roleNone
	case lead:
		return roleLead
	}
	return roleMember
}

// SetMembership puts user in team as member or lead and records
// admin.membership_changed with the role before and after. It returns
// changed=false (and records nothing) when the user already had that role.
func (s *Service) SetMembership(ctx context.Context, a Actor, user, team int64, lead bool) (changed bool, err error) {
	err = s.db.Tx(ctx, func(tx *postgres.DB) error {
		changed, err = s.changeMembership(ctx, tx, a, user, team, true, lead)
		return err
	})
	return changed, err
}

// RemoveMembership takes user out of team and records admin.membership_changed.
// It returns ErrNotFound when the user was not in the team.
func (s *Service) RemoveMembership(ctx context.Context, a Actor, user, team int64) error {
	return s.db.Tx(ctx, func(tx *postgres.DB) error {
		changed, err := s.changeMembership(ctx, tx, a, user, team, false, false)
		if err == nil && !changed {
			return postgres.ErrNotFound
		}
		return err
	})
}

func (s *Service) changeMembership(ctx context.Context, tx *postgres.DB, a Actor, user, team int64, in, lead bool) (bool, error) {
	u, err := tx.UserByID(ctx, user)
	if err != nil {
		return false, err
	}
	t, err := tx.TeamByID(ctx, team)
	if err != nil {
		return false, err
	}
	wasLead, err := tx.Membership(ctx, user, team)
	wasIn := err == nil
	if err != nil && !errors.Is(err, postgres.ErrNotFound) {
		return false, err
	}
	from, to := roleName(wasIn, wasLead), roleName(in, lead)
	if from == to {
		return false, nil
	}
	if in {
		err = tx.SetMembership(ctx, user, team, lead)
	} else {
		err = tx.DeleteMembership(ctx, user, team)
	}
	if err != nil {
		return false, err
	}
	return true, a.record(ctx, tx, audit.AdminMembershipChanged, audit.TargetTeam, strconv.FormatInt(team, 10), team,
		map[string]any{"team": t.Name, "user_id": u.ID, "username": u.Username, "from": from, "to": to})
}
