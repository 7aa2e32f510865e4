package identity

import (
	"context"
	"errors"
	"maps"
	"sort"
	"strconv"
	"strings"

	"restoredesk/internal/audit"
	"restoredesk/internal/postgres"
)

// GroupPrefix starts every identity-provider group Restore Desk reads:
// restoredesk:<team> (member), restoredesk:<team>:lead, restoredesk:auditor
// and restoredesk:admin. Other groups are ignored.
const GroupPrefix = "restoredesk:"

// SSOIdentity is what a verified ID token says about the person signing in.
type SSOIdentity struct {
	Issuer   string
	Subject  string
	Username string // preferred_username, or the e-mail's local part
	Email    string
	Name     string
	Groups   []string
}

// Grants are the roles and memberships an identity's groups give.
type Grants struct {
	Admin   bool
	Auditor bool
	Teams   map[string]bool // team name → lead
}

// GrantsFromGroups reads the restoredesk: groups. Lead wins over member when
// both are present.
func GrantsFromGroups(groups []string) Grants {
	g := Grants{Teams: map[string]bool{}}
	for _, grp := range groups {
		rest, ok := strings.CutPrefix(grp, GroupPrefix)
		if !ok {
			continue
		}
		switch {
		case rest == "admin":
			g.Admin = true
		case rest == "auditor":
			g.Auditor = true
		case strings.HasSuffix(rest, ":lead"):
			if team := strings.TrimSuffix(rest, ":lead"); ValidateTeamName(team) == "" {
				g.Teams[team] = true
			}
		case ValidateTeamName(rest) == "":
			g.Teams[rest] = g.Teams[rest] || false
		}
	}
	return g
}

// SSOActorName is the actor of the changes single sign-on claims make.
const SSOActorName = "sso"

// ErrSSOConflict: the identity provider's username or e-mail is already used
// by another account here; accounts are never linked by e-mail.
var ErrSSOConflict = errors.New("an account with this username or e-mail address already exists; ask an admin")

// ErrSSODisabled: the account was disabled here.
var ErrSSODisabled = errors.New("this account is disabled")

// SignInSSO signs in the person id describes: it finds their account by
// issuer and subject (creating it on first sign-in), makes its profile,
// roles and memberships follow the identity provider's claims (each change
// recorded, by the system via "sso"), and starts a session. Teams named in
// groups that do not exist here are ignored.
func (s *Service) SignInSSO(ctx context.Context, id SSOIdentity, client Client) (Session, error) {
	client = client.clipped()
	id.Username = normalizeUsername(id.Username)
	id.Email = strings.TrimSpace(id.Email)
	id.Name = strings.TrimSpace(id.Name)
	if id.Name == "" {
		id.Name = id.Username
	}
	grants := GrantsFromGroups(id.Groups)
	// Changes the claims drive are the identity provider's doing: their
	// actor is "sso", not the person signing in nor the worker.
	sys := Actor{Actor: audit.Actor{Name: SSOActorName, ClientAddr: client.Addr, UserAgent: client.UserAgent}, Via: "sso"}
	var sess Session
	err := s.db.Tx(ctx, func(tx *postgres.DB) error {
		u, err := tx.UserByOIDC(ctx, id.Issuer, id.Subject)
		if errors.Is(err, postgres.ErrNotFound) {
			if ValidateUsername(id.Username) != "" || validateEmail(id.Email) != "" || validateName(id.Name) != "" {
				return errors.New("the identity provider gave no usable username, e-mail address or name")
			}
			var uid int64
			err = tx.Tx(ctx, func(tx *postgres.DB) error { // a savepoint, so a duplicate leaves tx usable
				uid, err = tx.InsertUser(ctx, postgres.NewUser{
					Username: id.Username, Email: id.Email, DisplayName: id.Name,
					OIDCIssuer: id.Issuer, OIDCSubject: id.Subject,
				})
				return err
			})
			if _, dup := postgres.IsUniqueViolation(err); dup {
				return ErrSSOConflict
			}
			if err != nil {
				return err
			}
			if err := sys.record(ctx, tx, audit.AdminUserCreated, audit.TargetUser, strconv.FormatInt(uid, 10), 0, map[string]any{
				"username": id.Username, "email": id.Email, "name": id.Name, "sign_in": "sso",
				"issuer": id.Issuer, "subject": id.Subject,
			}); err != nil {
				return err
			}
			u, err = tx.UserByID(ctx, uid)
		}
		if err != nil {
			return err
		}
		if err := s.syncSSO(ctx, tx, sys, u, id, grants); err != nil {
			return err
		}
		if u.Disabled {
			return ErrSSODisabled
		}
		sess, err = s.startSession(ctx, tx, u.ID, "oidc", client, map[string]any{"method": "oidc", "issuer": id.Issuer})
		return err
	})
	if errors.Is(err, ErrSSODisabled) || errors.Is(err, ErrSSOConflict) {
		reason := "disabled"
		if errors.Is(err, ErrSSOConflict) {
			reason = "username_or_email_taken"
		}
		a := Actor{Actor: audit.Actor{Name: "anonymous", ClientAddr: client.Addr, UserAgent: client.UserAgent}, Via: "sso"}
		if rerr := s.db.Tx(ctx, func(tx *postgres.DB) error {
			return a.record(ctx, tx, audit.SignInFailed, audit.TargetUser, "", 0, map[string]any{
				"username": id.Username, "reason": reason, "issuer": id.Issuer, "subject": id.Subject,
			})
		}); rerr != nil {
			return Session{}, rerr
		}
	}
	return sess, err
}

// syncSSO makes u's profile, roles and memberships match the claims.
func (s *Service) syncSSO(ctx context.Context, tx *postgres.DB, sys Actor, u postgres.User, id SSOIdentity, g Grants) error {
	uid := strconv.FormatInt(u.ID, 10)
	changes := map[string]any{}
	if id.Email != "" && id.Email != u.Email && validateEmail(id.Email) == "" {
		changes["email"] = map[string]any{"from": u.Email, "to": id.Email}
		u.Email = id.Email
	}
	if id.Name != u.DisplayName && validateName(id.Name) == "" {
		changes["name"] = map[string]any{"from": u.DisplayName, "to": id.Name}
		u.DisplayName = id.Name
	}
	if len(changes) > 0 {
		err := tx.Tx(ctx, func(tx *postgres.DB) error { return tx.SetUserProfile(ctx, u.ID, u.Email, u.DisplayName) })
		if _, dup := postgres.IsUniqueViolation(err); dup {
			return ErrSSOConflict
		}
		if err != nil {
			return err
		}
	}
	// An admin claim waits for an admin here to confirm it, like a grant
	// from the web pages; losing the claim revokes the role at once.
	roles, err := s.changeRoles(ctx, tx, 0, u, g.Admin, g.Auditor)
	if err != nil {
		return err
	}
	maps.Copy(changes, roles)
	if len(changes) > 0 {
		if err := sys.record(ctx, tx, audit.AdminUserUpdated, audit.TargetUser, uid, 0,
			map[string]any{"username": u.Username, "changes": changes}); err != nil {
			return err
		}
	}

	current, err := postgres.LoadUser(ctx, tx.Conn(), u.ID)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(g.Teams))
	for name := range g.Teams {
		names = append(names, name)
	}
	sort.Strings(names)
	teams, err := tx.TeamsByName(ctx, names)
	if err != nil {
		return err
	}
	for _, m := range current.Teams {
		if _, keep := teams[m.TeamName]; !keep {
			if _, err := s.changeMembership(ctx, tx, sys, u.ID, m.TeamID, false, false); err != nil {
				return err
			}
		}
	}
	for _, name := range names {
		t, ok := teams[name]
		if !ok {
			continue
		}
		if _, err := s.changeMembership(ctx, tx, sys, u.ID, t.ID, true, g.Teams[name]); err != nil {
			return err
		}
	}
	return nil
}
