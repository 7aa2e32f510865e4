// Package clip cuts text that clients send us (user agents, typed usernames,
// addresses) to the length we store or log, so no client text can make a
// write fail or fill a table. SECURITY.md lists the lengths.
package clip

import (
	"strings"
	"unicode/utf8"
)

// Stored lengths, in bytes, of client text.
const (
	UserAgent = 500 // user agents, in the sessions table and the audit trail
	Addr      = 64  // client addresses (an IPv6 address with a zone fits)
	Username  = 200 // a typed username of an existing account, in auth.sign_in_failed
)

// String returns s as valid UTF-8 (invalid bytes become U+FFFD) of at most n
// bytes, cut at a rune boundary.
func String(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
