package policy

// Active reports whether u is signed in and not disabled: the condition of
// every page but the sign-in page.
func Active(u *User) bool { return active(u) }

// CanAdminister reports whether u may open the administration pages and
// create users and teams.
func CanAdminister(u *User) bool { return active(u) && u.Admin }

// CanChangeAccess reports whether u may change what user target may do: grant
// or revoke the admin and auditor roles, add or remove memberships, make or
// unmake leads, disable or re-enable the account, reset its password. Only
// an admin may, and never on themselves: another admin must.
func CanChangeAccess(u *User, target int64) bool {
	return CanAdminister(u) && u.ID != target
}

// CanRevokeSessions reports whether u may end every session of user target
// ("sign out everywhere"): the user themselves, or an admin.
func CanRevokeSessions(u *User, target int64) bool {
	return active(u) && (u.ID == target || u.Admin)
}
