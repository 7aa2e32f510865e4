package jdcloud

import (
	"net/http"
	"sort"
	"strings"
)

// This file holds the canonicalisation steps of JDCLOUD2-HMAC-SHA256 (docs/jdcloud.md, Canonical request). The
// signer and the verifier both call them, so the two sides cannot drift apart.

// escape percent-encodes s the RFC 3986 way: only A–Z a–z 0–9 - _ . ~ stay as they are,
// every other byte becomes %XX with upper-case hex. Space is %20, never '+'.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// unescape decodes %XX sequences. Unlike url.PathUnescape it never fails: a '%' that does
// not start a valid escape stays a literal '%' (the official doc vector signs "o=%" as
// "o=%25"). With plusIsSpace, '+' decodes to a space, as query parsers in the SDKs do.
func unescape(s string, plusIsSpace bool) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c == '+' && plusIsSpace:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// escapePath escapes each path segment and joins them with '/'. The client builds every path
// this way, once, so a '/' or ':' inside a value stays escaped and the string it signs is the
// string it sends.
func escapePath(segments []string) string {
	parts := make([]string, len(segments))
	for i, s := range segments {
		parts[i] = escape(s)
	}
	return strings.Join(parts, "/")
}

// canonicalPath turns the path as sent (escaped or not) into its canonical form: every
// segment decoded and re-encoded with escape, separators kept, trailing slash kept. This
// accepts both the JS/Go form (instances%3Aaction) and clients that send a raw ':', and
// yields the escaped form the official SDKs sign. An empty path is "/".
func canonicalPath(escapedPath string) string {
	if escapedPath == "" {
		return "/"
	}
	segs := strings.Split(escapedPath, "/")
	for i, s := range segs {
		segs[i] = escape(unescape(s, false))
	}
	return strings.Join(segs, "/")
}

// queryPair is one name=value of a query string, unescaped.
type queryPair struct{ name, value string }

// parseQuery splits a raw query string into unescaped pairs in wire order, tolerating bad
// escapes and treating '+' as a space. Empty pieces ("a=1&&b=2") are skipped; a piece without
// '=' is a name with an empty value.
func parseQuery(raw string) []queryPair {
	var pairs []queryPair
	for piece := range strings.SplitSeq(raw, "&") {
		if piece == "" {
			continue
		}
		name, value, _ := strings.Cut(piece, "=")
		pairs = append(pairs, queryPair{unescape(name, true), unescape(value, true)})
	}
	return pairs
}

// encodeQuery renders pairs as a canonical query string: names and values escaped, sorted by
// escaped name in byte order and then by escaped value, joined with '&'. The client sends
// exactly this string, so what it signs is what goes on the wire.
func encodeQuery(pairs []queryPair) string {
	if len(pairs) == 0 {
		return ""
	}
	enc := make([]queryPair, len(pairs))
	for i, p := range pairs {
		enc[i] = queryPair{escape(p.name), escape(p.value)}
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].name != enc[j].name {
			return enc[i].name < enc[j].name
		}
		return enc[i].value < enc[j].value
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// canonicalQuery re-parses a raw query and renders it canonically. A server must do this
// instead of trusting the raw string: the JS SDK sends its query unsorted and only partly
// escaped, and signs the canonical form.
func canonicalQuery(raw string) string {
	return encodeQuery(parseQuery(raw))
}

// canonicalHeaderValue trims spaces and tabs at both ends and collapses inner runs of them
// to one space, as the Go SDK (spaces) and the JS SDK (all whitespace) do.
func canonicalHeaderValue(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	pendingSpace := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			pendingSpace = b.Len() > 0
			continue
		}
		if pendingSpace {
			b.WriteByte(' ')
			pendingSpace = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// headerValue returns the value a signer or verifier sees for a signed header name: the
// request's Host for "host" (Go keeps it out of r.Header), otherwise every value of the
// header joined with ',' . ok is false when the header is absent.
func headerValue(r *http.Request, name string) (string, bool) {
	if name == "host" {
		h := r.Host
		if h == "" && r.URL != nil {
			h = r.URL.Host
		}
		return h, h != ""
	}
	vals := r.Header.Values(name)
	if len(vals) == 0 {
		// Values only finds canonically keyed entries; a key set directly in the map (such
		// as a lower-case one) is found by a case-insensitive scan.
		for k, v := range r.Header {
			if strings.EqualFold(k, name) {
				vals = append(vals, v...)
			}
		}
	}
	if len(vals) == 0 {
		return "", false
	}
	// Copy: Values returns the header's own slice, which must not change.
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = canonicalHeaderValue(v)
	}
	return strings.Join(out, ","), true
}
