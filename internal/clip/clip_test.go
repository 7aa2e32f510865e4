package clip_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"restoredesk/internal/clip"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short stays", "curl/8", 10, "curl/8"},
		{"ascii cut", "abcdef", 3, "abc"},
		{"cut inside a rune backs off", "aé", 2, "a"}, // é is 2 bytes
		{"cut inside a 3-byte rune", "ab中", 4, "ab"},  // 中 is 3 bytes
		{"invalid bytes replaced", "a\xffb", 10, "a\uFFFDb"},
		{"empty", "", 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clip.String(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("String(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if !utf8.ValidString(got) || len(got) > tt.n {
				t.Errorf("String(%q, %d) = %q: invalid or too long", tt.in, tt.n, got)
			}
		})
	}
	big := strings.Repeat("€", 200_000) // 600 KB
	if got := clip.String(big, clip.UserAgent); len(got) > clip.UserAgent || !utf8.ValidString(got) {
		t.Errorf("600 KB cut to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}
