package jdcloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Algorithm is the signature algorithm name JD Cloud's OpenAPI gateway expects.
const Algorithm = "JDCLOUD2-HMAC-SHA256"

const (
	// DateLayout is the time layout of the x-jdcloud-date header (UTC, no separators).
	DateLayout = "20060102T150405Z"

	// HeaderDate, HeaderNonce and HeaderRequestID are the JD Cloud header names, lower case
	// as they are signed.
	HeaderDate      = "x-jdcloud-date"
	HeaderNonce     = "x-jdcloud-nonce"
	HeaderRequestID = "x-jdcloud-request-id"

	keyPrefix  = "JDCLOUD2"
	terminator = "jdcloud2_request"
)

// ClientSignedHeaders is the signed-header set of our client, the same as the official Go
// and Java SDKs (docs/jdcloud.md, Which headers are signed). The JS SDK adds accept; a verifier follows whatever list the
// Authorization header names.
var ClientSignedHeaders = []string{"content-type", "host", HeaderDate, HeaderNonce}

// emptyBodyHash is the SHA-256 of an empty body, signed for GET and DELETE.
const emptyBodyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// signingInput is everything a signature covers, gathered once so that Sign and Verify
// build the canonical request with the same code.
type signingInput struct {
	method        string
	path          string // as sent, escaped or not
	rawQuery      string
	headers       []string // lower-case signed header names, sorted
	headerValues  []string // canonical values, in the order of headers
	body          []byte
	date          string // x-jdcloud-date value
	region        string
	service       string
	accessKey     string
	secret        string
	signedHeaders string // headers joined with ';'
}

// canonicalRequest renders the six-line canonical request of docs/jdcloud.md (Canonical request).
func (in *signingInput) canonicalRequest() string {
	var b strings.Builder
	b.WriteString(in.method)
	b.WriteByte('\n')
	b.WriteString(canonicalPath(in.path))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(in.rawQuery))
	b.WriteByte('\n')
	for i, h := range in.headers {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(in.headerValues[i])
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(in.signedHeaders)
	b.WriteByte('\n')
	b.WriteString(hashHex(in.body))
	return b.String()
}

// scope is the credential scope <yyyymmdd>/<region>/<service>/jdcloud2_request.
func (in *signingInput) scope() string {
	return in.date[:8] + "/" + in.region + "/" + in.service + "/" + terminator
}

// stringToSign renders the four lines of docs/jdcloud.md (String to sign).
func (in *signingInput) stringToSign() string {
	return Algorithm + "\n" + in.date + "\n" + in.scope() + "\n" + hashHex([]byte(in.canonicalRequest()))
}

// signature is the lower-case hex HMAC of the string to sign under the derived key.
func (in *signingInput) signature() string {
	key := signingKey(in.secret, in.date[:8], in.region, in.service)
	return hex.EncodeToString(hmacSHA256(key, []byte(in.stringToSign())))
}

// authorization renders the Authorization header value of docs/jdcloud.md (String to sign, key and header).
func (in *signingInput) authorization() string {
	return Algorithm + " Credential=" + in.accessKey + "/" + in.scope() +
		", SignedHeaders=" + in.signedHeaders + ", Signature=" + in.signature()
}

// signingKeys returns kDate, kRegion, kService and kSigning (docs/jdcloud.md, String to sign, key and header).
func signingKeys(secret, yyyymmdd, region, service string) (kDate, kRegion, kService, kSigning []byte) {
	kDate = hmacSHA256([]byte(keyPrefix+secret), []byte(yyyymmdd))
	kRegion = hmacSHA256(kDate, []byte(region))
	kService = hmacSHA256(kRegion, []byte(service))
	kSigning = hmacSHA256(kService, []byte(terminator))
	return kDate, kRegion, kService, kSigning
}

func signingKey(secret, yyyymmdd, region, service string) []byte {
	_, _, _, k := signingKeys(secret, yyyymmdd, region, service)
	return k
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func hashHex(b []byte) string {
	if len(b) == 0 {
		return emptyBodyHash
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// normaliseSignedHeaders lower-cases, de-duplicates and sorts a signed-header list.
func normaliseSignedHeaders(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, strings.ToLower(strings.TrimSpace(n)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Sign signs r in place for the given region and service (the credential scope): it sets
// x-jdcloud-date from now and x-jdcloud-nonce, then computes the signature over the method,
// r.URL's path and query exactly as they will be sent, the listed headers and body, and sets
// Authorization. body must be the exact bytes r will send. signedHeaders must include
// x-jdcloud-date and x-jdcloud-nonce (the docs require both); "host" is taken from r.Host, or
// r.URL.Host when that is empty. Our client passes ClientSignedHeaders.
//
// Sign returns an error when a listed header has no value or the inputs are unusable; it
// never includes the secret key in an error.
func Sign(r *http.Request, body []byte, cred Credential, region, service string, signedHeaders []string, now time.Time, nonce string) error {
	if region == "" || service == "" {
		return errors.New("sign: region and service are required")
	}
	if cred.AccessKey == "" || cred.secretKey() == "" {
		return errors.New("sign: access key and secret key are required")
	}
	date := now.UTC().Format(DateLayout)
	r.Header.Set(HeaderDate, date)
	r.Header.Set(HeaderNonce, nonce)
	in, err := newSigningInput(r, body, normaliseSignedHeaders(signedHeaders))
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	in.date, in.region, in.service = date, region, service
	in.accessKey, in.secret = cred.AccessKey, cred.secretKey()
	r.Header.Set("Authorization", in.authorization())
	return nil
}

// newSigningInput gathers method, path, query, signed header values and body from r. names
// are used in the order given: Sign sorts them first, Verify uses the client's list as sent.
func newSigningInput(r *http.Request, body []byte, names []string) (*signingInput, error) {
	in := &signingInput{
		method:        r.Method,
		path:          r.URL.EscapedPath(),
		rawQuery:      r.URL.RawQuery,
		headers:       names,
		headerValues:  make([]string, len(names)),
		body:          body,
		signedHeaders: strings.Join(names, ";"),
	}
	if in.method == "" {
		in.method = http.MethodGet
	}
	for i, name := range names {
		if name == "" {
			return nil, errors.New("empty signed header name")
		}
		v, ok := headerValue(r, name)
		if !ok {
			return nil, fmt.Errorf("signed header %q is missing", name)
		}
		in.headerValues[i] = v
	}
	return in, nil
}
