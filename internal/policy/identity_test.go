package policy_test

import (
	"testing"

	"restoredesk/internal/policy"
)

func TestIdentityRules(t *testing.T) {
	t.Parallel()
	admin := &policy.User{ID: 1, Admin: true}
	other := &policy.User{ID: 2}
	lead := &policy.User{ID: 3, Teams: []policy.Membership{{TeamID: 10, Lead: true}}}
	disabledAdmin := &policy.User{ID: 4, Admin: true, Disabled: true}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"admin administers", policy.CanAdminister(admin), true},
		{"lead does not administer", policy.CanAdminister(lead), false},
		{"anonymous does not administer", policy.CanAdminister(nil), false},
		{"disabled admin does not administer", policy.CanAdminister(disabledAdmin), false},
		{"admin changes another's access", policy.CanChangeAccess(admin, other.ID), true},
		{"admin never changes their own access", policy.CanChangeAccess(admin, admin.ID), false},
		{"lead changes nobody's access", policy.CanChangeAccess(lead, other.ID), false},
		{"user signs themselves out everywhere", policy.CanRevokeSessions(other, other.ID), true},
		{"admin signs someone out everywhere", policy.CanRevokeSessions(admin, other.ID), true},
		{"user cannot sign someone else out", policy.CanRevokeSessions(other, lead.ID), false},
		{"disabled is not active", policy.Active(disabledAdmin), false},
		// A lead who requested may not decide, whatever else they are.
		{"requester-lead-admin cannot decide own request", policy.CanDecide(
			&policy.User{ID: 5, Admin: true, Auditor: true, Teams: []policy.Membership{{TeamID: 10, Lead: true}}},
			policy.Request{TeamID: 10, RequesterID: 5, Pending: true}), false},
		{"admin who does not lead the team cannot decide", policy.CanDecide(admin, policy.Request{TeamID: 10, RequesterID: 2, Pending: true}), false},
		{"lead decides another's request", policy.CanDecide(lead, policy.Request{TeamID: 10, RequesterID: 2, Pending: true}), true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
