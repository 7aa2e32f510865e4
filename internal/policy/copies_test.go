package policy_test

import (
	"testing"

	"restoredesk/internal/policy"
)

// TestCopyRules: a copy is extended or deleted by its requester while still
// a member of the team, or by a lead of the team; admins and auditors see
// every copy but change none unless they lead the team.
func TestCopyRules(t *testing.T) {
	t.Parallel()
	req := policy.Request{TeamID: 10, RequesterID: 1}
	requester := &policy.User{ID: 1, Teams: []policy.Membership{{TeamID: 10}}}
	formerRequester := &policy.User{ID: 1, Teams: []policy.Membership{{TeamID: 20}}}
	lead := &policy.User{ID: 2, Teams: []policy.Membership{{TeamID: 10, Lead: true}}}
	member := &policy.User{ID: 3, Teams: []policy.Membership{{TeamID: 10}}}
	otherLead := &policy.User{ID: 4, Teams: []policy.Membership{{TeamID: 20, Lead: true}}}
	admin := &policy.User{ID: 5, Admin: true}
	auditor := &policy.User{ID: 6, Auditor: true}
	disabledLead := &policy.User{ID: 7, Disabled: true, Teams: []policy.Membership{{TeamID: 10, Lead: true}}}
	for _, tc := range []struct {
		name      string
		got, want bool
	}{
		{"requester manages", policy.CanManageCopy(requester, req), true},
		{"requester who left the team does not", policy.CanManageCopy(formerRequester, req), false},
		{"lead manages", policy.CanManageCopy(lead, req), true},
		{"another member does not", policy.CanManageCopy(member, req), false},
		{"another team's lead does not", policy.CanManageCopy(otherLead, req), false},
		{"admin does not", policy.CanManageCopy(admin, req), false},
		{"disabled lead does not", policy.CanManageCopy(disabledLead, req), false},
		{"admin sees all copies", policy.CanViewAllCopies(admin), true},
		{"auditor sees all copies", policy.CanViewAllCopies(auditor), true},
		{"lead sees their teams' copies only", policy.CanViewAllCopies(lead), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
