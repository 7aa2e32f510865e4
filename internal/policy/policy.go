// Package policy is the one place that decides who may do what (docs/architecture.md, Who may do what).
// Handlers, the worker and the command line ask it; nothing else decides.
// It works on users as loaded from the database on every request, so a change
// of role or membership takes effect at once.
package policy

// User is a signed-in user with their current roles and memberships.
type User struct {
	ID       int64
	Username string
	Name     string
	Email    string
	Admin    bool
	Auditor  bool
	Disabled bool
	Teams    []Membership
	// Patrons are the admins who created this account or asked for or
	// confirmed its admin role: it may never change their access.
	Patrons  []int64
	TimeZone string // the zone their pages use; "" for the browser's or the default
}

// Membership is a user's place in one team.
type Membership struct {
	TeamID   int64
	TeamName string
	Lead     bool
}

// MemberOf reports whether u belongs to team (as member or lead).
func (u *User) MemberOf(team int64) bool {
	for _, m := range u.Teams {
		if m.TeamID == team {
			return true
		}
	}
	return false
}

// LeadOf reports whether u leads team.
func (u *User) LeadOf(team int64) bool {
	for _, m := range u.Teams {
		if m.TeamID == team && m.Lead {
			return true
		}
	}
	return false
}

// TeamIDs returns the ids of u's teams.
func (u *User) TeamIDs() []int64 {
	ids := make([]int64, 0, len(u.Teams))
	for _, m := range u.Teams {
		ids = append(ids, m.TeamID)
	}
	return ids
}

// LedTeamIDs returns the ids of the teams u leads.
func (u *User) LedTeamIDs() []int64 {
	var ids []int64
	for _, m := range u.Teams {
		if m.Lead {
			ids = append(ids, m.TeamID)
		}
	}
	return ids
}

// AuditScope says which audit events a user may read.
type AuditScope struct {
	All          bool    // every event (auditors and admins)
	TeamIDs      []int64 // otherwise: events of these teams' requests only
	HidePersonal bool    // blank out client addresses and user agents…
	Self         int64   // …except on the viewer's own events (their user id)
}

// AuditScopeFor returns what u may see of the audit log: auditors and admins
// everything; leads the events of their teams' requests; engineers their
// teams' request timelines without addresses and user agents.
func AuditScopeFor(u *User) AuditScope {
	switch {
	case u == nil || u.Disabled:
		return AuditScope{TeamIDs: []int64{}, HidePersonal: true}
	case u.Admin || u.Auditor:
		return AuditScope{All: true}
	}
	if led := u.LedTeamIDs(); len(led) > 0 {
		return AuditScope{TeamIDs: led}
	}
	return AuditScope{TeamIDs: u.TeamIDs(), HidePersonal: true, Self: u.ID}
}

// CanViewAuditLog reports whether u may open the audit log page.
func CanViewAuditLog(u *User) bool {
	return u != nil && !u.Disabled && (u.Admin || u.Auditor || len(u.LedTeamIDs()) > 0)
}

// CanExportAudit reports whether u may export the audit log.
func CanExportAudit(u *User) bool {
	return u != nil && !u.Disabled && (u.Admin || u.Auditor)
}
