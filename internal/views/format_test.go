package views

import "testing"

func TestCountUpTo(t *testing.T) {
	for _, tc := range []struct {
		n, upTo int
		want    string
	}{
		{0, 1000, "0"}, {999, 1000, "999"}, {1000, 1000, "1,000"}, {1001, 1000, "more than 1,000"},
		{1204, 10_000, "1,204"}, {10_001, 10_000, "more than 10,000"},
	} {
		if got := CountUpTo(tc.n, tc.upTo); got != tc.want {
			t.Errorf("CountUpTo(%d, %d) = %q, want %q", tc.n, tc.upTo, got, tc.want)
		}
	}
}
