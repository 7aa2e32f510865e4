package policy

import "slices"

// Active reports whether u is signed in and not disabled: the condition of
// every page but the sign-in page.
func Active(u *User) bool { return active(u) }

// CanAdminister reports whether u may open the administration pages and
// create users and teams.
func CanAdminister(u *User) bool { return active(u) && u.Admin }

// CanChangeAccess reports whether u may change what user target may do: grant
// or revoke the admin and auditor roles, add or remove memberships, make or
// unmake leads, disable or re-enable the account, reset its password. Only
// an admin may, never on themselves (another admin must), and never on an
// admin who created or elevated them: a second admin made by the first
// cannot turn around and give the first one other powers.
func CanChangeAccess(u *User, target int64) bool {
	return CanAdminister(u) && u.ID != target && !slices.Contains(u.Patrons, target)
}

// CanConfirmAdmin reports whether u may confirm the admin role asked for
// user target by requestedBy (0: the identity provider): an admin other than
// the one who asked, and other than target.
func CanConfirmAdmin(u *User, target, requestedBy int64) bool {
	return CanAdminister(u) && u.ID != target && u.ID != requestedBy
}

// CanRevokeSessions reports whether u may end every session of user target
// ("sign out everywhere"): the user themselves, or an admin.
func CanRevokeSessions(u *User, target int64) bool {
	return active(u) && (u.ID == target || u.Admin)
}
