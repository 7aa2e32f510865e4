package policy

// Request is what the policy needs to know about a restore request.
type Request struct {
	TeamID      int64
	RequesterID int64
	Pending     bool // still waiting for a decision
}

// CanCreateRequest reports whether u may ask for a restore for team: members
// and leads of the team only.
func CanCreateRequest(u *User, team int64) bool {
	return active(u) && u.MemberOf(team)
}

// CanViewRequest reports whether u may see r: the team's members and leads,
// auditors and admins.
func CanViewRequest(u *User, r Request) bool {
	return active(u) && (u.MemberOf(r.TeamID) || u.Auditor || u.Admin)
}

// CanDecide reports whether u may approve or reject r: a lead of r's team who
// is not its requester. Being an admin or auditor grants nothing here.
func CanDecide(u *User, r Request) bool {
	return active(u) && r.Pending && u.LeadOf(r.TeamID) && u.ID != r.RequesterID
}

// CanCancel reports whether u may cancel r: its requester, while it is pending.
func CanCancel(u *User, r Request) bool {
	return active(u) && r.Pending && u.ID == r.RequesterID
}

// CanRequestAgain reports whether u may start a new request pre-filled from
// r: anyone who may see r and may create requests for its team.
func CanRequestAgain(u *User, r Request) bool {
	return CanViewRequest(u, r) && CanCreateRequest(u, r.TeamID)
}

func active(u *User) bool { return u != nil && !u.Disabled }

// RequestTimelineScope is what u may see of the audit events of a request of
// team: everything for auditors, admins and the team's leads; for its other
// members, everything but other people's addresses and user agents; nothing
// for anyone else.
// It is decided per team, so a lead of one team who is a plain member of
// another sees each request's timeline as that team's role allows.
func RequestTimelineScope(u *User, team int64) AuditScope {
	switch {
	case !active(u):
		return AuditScope{TeamIDs: []int64{}, HidePersonal: true}
	case u.Admin || u.Auditor:
		return AuditScope{All: true}
	case u.LeadOf(team):
		return AuditScope{TeamIDs: []int64{team}}
	case u.MemberOf(team):
		return AuditScope{TeamIDs: []int64{team}, HidePersonal: true, Self: u.ID}
	}
	return AuditScope{TeamIDs: []int64{}, HidePersonal: true}
}

// CanManageCopy reports whether u may extend or delete now the copy a
// request made: its requester while still a member of the team, or a lead
// of the team.
func CanManageCopy(u *User, r Request) bool {
	return active(u) && (u.LeadOf(r.TeamID) || (u.ID == r.RequesterID && u.MemberOf(r.TeamID)))
}

// CanViewAllCopies reports whether u sees every team's copies on the Live
// copies page (otherwise only those of u's teams).
func CanViewAllCopies(u *User) bool { return active(u) && (u.Admin || u.Auditor) }
