package views

import "testing"

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {1204, "1,204"}, {10_000, "10,000"}, {10_001, "more than 10,000"},
	} {
		if got := Count(tc.n); got != tc.want {
			t.Errorf("Count(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := CountUpTo(1001, 1000); got != "more than 1,000" {
		t.Errorf("CountUpTo(1001, 1000) = %q", got)
	}
}
