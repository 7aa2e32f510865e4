package policy

// RequestScope says which restore requests a user may list: every request
// (auditors and admins), or those of some teams.
type RequestScope struct {
	All     bool
	TeamIDs []int64 // when !All: these teams' requests; empty: none
}

// RequestScopeFor returns the requests u may list in the history: the same
// rule as CanViewRequest, for many requests at once.
func RequestScopeFor(u *User) RequestScope {
	switch {
	case !active(u):
		return RequestScope{TeamIDs: []int64{}}
	case u.Admin || u.Auditor:
		return RequestScope{All: true}
	}
	return RequestScope{TeamIDs: u.TeamIDs()}
}

// DecidableTeams returns the teams whose pending requests u may decide (those
// u leads), for the approvals queue; CanDecide still rules out u's own.
func DecidableTeams(u *User) []int64 {
	if !active(u) {
		return nil
	}
	return u.LedTeamIDs()
}
