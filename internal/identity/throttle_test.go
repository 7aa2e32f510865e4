package identity_test

import (
	"testing"

	"restoredesk/internal/identity"
)

// TestAddrGroup: IPv6 clients are counted by their /64, IPv4 by address,
// and anything else by itself, cut short.
func TestAddrGroup(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an address", "not an address"},
	}
	for _, tt := range tests {
		if got := identity.AddrGroup(tt.in); got != tt.want {
			t.Errorf("AddrGroup(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
