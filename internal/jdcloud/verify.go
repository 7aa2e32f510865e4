package jdcloud

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// MaxClockSkew is how far a request's x-jdcloud-date may be from the verifier's clock, and
// how long a verifier should remember nonces. The real gateway's window is unconfirmed
// (docs/jdcloud.md, Clock skew and replay); 15 minutes is the assumed value.
const MaxClockSkew = 15 * time.Minute

// Errors Verify wraps, so a server can tell them apart with errors.Is. Their texts follow
// the gateway's own messages where those are known (docs/jdcloud.md, Errors).
var (
	ErrNoAuthorization   = errors.New("lack of header authorization")
	ErrBadAuthorization  = errors.New("invalid authorization header")
	ErrUnknownAccessKey  = errors.New("invalid access key")
	ErrClockSkew         = errors.New("request date is out of range")
	ErrSignatureMismatch = errors.New("sign result is not same")
)

// SignedRequest is what Verify learned from a request it accepted.
type SignedRequest struct {
	AccessKey     string
	Date          time.Time
	Region        string // credential scope region
	Service       string // credential scope service, e.g. "rds"
	Nonce         string
	SignedHeaders []string
}

// authHeader is a parsed Authorization header.
type authHeader struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

// parseAuthorization parses "JDCLOUD2-HMAC-SHA256 Credential=AK/yyyymmdd/region/service/
// jdcloud2_request, SignedHeaders=a;b, Signature=hex".
func parseAuthorization(v string) (authHeader, error) {
	var a authHeader
	rest, ok := strings.CutPrefix(v, Algorithm+" ")
	if !ok {
		return a, fmt.Errorf("%w: algorithm is not %s", ErrBadAuthorization, Algorithm)
	}
	var cred, signed string
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fmt.Errorf("%w: %q is not name=value", ErrBadAuthorization, part)
		}
		switch k {
		case "Credential":
			cred = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			a.signature = val
		default:
			return a, fmt.Errorf("%w: unexpected part %q", ErrBadAuthorization, k)
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != terminator || scope[0] == "" || len(scope[1]) != 8 || scope[2] == "" || scope[3] == "" {
		return a, fmt.Errorf("%w: credential must be AK/yyyymmdd/region/service/%s", ErrBadAuthorization, terminator)
	}
	a.accessKey, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	if signed == "" || a.signature == "" {
		return a, fmt.Errorf("%w: SignedHeaders and Signature are required", ErrBadAuthorization)
	}
	a.signedHeaders = strings.Split(signed, ";")
	for _, h := range a.signedHeaders {
		if h == "" || h != strings.ToLower(h) {
			return a, fmt.Errorf("%w: signed header names must be non-empty and lower case", ErrBadAuthorization)
		}
	}
	return a, nil
}

// Verify checks a request's JDCLOUD2-HMAC-SHA256 signature the way the gateway must: it parses
// the Authorization header, rebuilds the canonical request from the SignedHeaders list it
// names (the JS SDK signs accept as well, our client does not), canonicalises the path and
// query itself instead of trusting the raw strings, hashes body (which must be the exact bytes
// received) and compares signatures in constant time. It also requires x-jdcloud-date and
// x-jdcloud-nonce to be signed, the date to match the credential scope and to lie within
// MaxClockSkew of now, and lookupSecret to know the access key.
//
// Verify does not remember nonces: the caller checks SignedRequest.Nonce for replays after a
// successful verification, so an unsigned request cannot poison its nonce cache.
//
// Errors wrap ErrNoAuthorization, ErrBadAuthorization, ErrUnknownAccessKey, ErrClockSkew or
// ErrSignatureMismatch.
func Verify(r *http.Request, body []byte, lookupSecret func(accessKey string) (secretKey string, ok bool), now time.Time) (SignedRequest, error) {
	var sr SignedRequest
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return sr, ErrNoAuthorization
	}
	a, err := parseAuthorization(raw)
	if err != nil {
		return sr, err
	}
	if !slices.Contains(a.signedHeaders, HeaderDate) || !slices.Contains(a.signedHeaders, HeaderNonce) {
		return sr, fmt.Errorf("%w: %s and %s must be signed", ErrBadAuthorization, HeaderDate, HeaderNonce)
	}
	dateValue := r.Header.Get(HeaderDate)
	date, err := time.Parse(DateLayout, dateValue)
	if err != nil {
		return sr, fmt.Errorf("%w: %s %q is not %s", ErrBadAuthorization, HeaderDate, dateValue, DateLayout)
	}
	if dateValue[:8] != a.date {
		return sr, fmt.Errorf("%w: credential date %s differs from %s", ErrBadAuthorization, a.date, HeaderDate)
	}
	if d := now.Sub(date); d > MaxClockSkew || d < -MaxClockSkew {
		return sr, fmt.Errorf("%w: %s is %s away from server time", ErrClockSkew, HeaderDate, d.Round(time.Second))
	}
	nonce := r.Header.Get(HeaderNonce)
	if nonce == "" {
		return sr, fmt.Errorf("%w: %s is empty", ErrBadAuthorization, HeaderNonce)
	}
	secret, ok := lookupSecret(a.accessKey)
	if !ok {
		return sr, ErrUnknownAccessKey
	}
	in, err := newSigningInput(r, body, a.signedHeaders)
	if err != nil {
		return sr, fmt.Errorf("%w: %w", ErrBadAuthorization, err)
	}
	in.date, in.region, in.service = dateValue, a.region, a.service
	in.accessKey, in.secret = a.accessKey, secret
	if !hmac.Equal([]byte(in.signature()), []byte(a.signature)) {
		return sr, ErrSignatureMismatch
	}
	return SignedRequest{
		AccessKey:     a.accessKey,
		Date:          date,
		Region:        a.region,
		Service:       a.service,
		Nonce:         nonce,
		SignedHeaders: a.signedHeaders,
	}, nil
}
