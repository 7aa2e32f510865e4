package jdcloud

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// redacted is what every printed form of a secret shows instead.
const redacted = "[REDACTED]"

// Credential is a JD Cloud access key pair. Its secret half never prints: String, GoString,
// Format, LogValue and MarshalJSON all redact it, and it is held inside a closure so that even
// reflection-based printing of a struct that embeds a Credential (fmt's %+v of an unexported
// field) shows a function address, not the key.
type Credential struct {
	// AccessKey is the public key id. It is not a secret, but the client does not log it
	// either.
	AccessKey string
	secret    func() string
}

// NewCredential returns the credential for the given key pair.
func NewCredential(accessKey, secretKey string) Credential {
	return Credential{AccessKey: accessKey, secret: func() string { return secretKey }}
}

// secretKey returns the secret key, or "" for a zero Credential.
func (c Credential) secretKey() string {
	if c.secret == nil {
		return ""
	}
	return c.secret()
}

// String returns the access key and a redacted secret.
func (c Credential) String() string {
	return fmt.Sprintf("jdcloud.Credential{AccessKey: %q, SecretKey: %s}", c.AccessKey, redacted)
}

// GoString is String, so %#v redacts too.
func (c Credential) GoString() string { return c.String() }

// Format makes every fmt verb print the redacted String.
func (c Credential) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue makes slog print the access key and a redacted secret.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key", c.AccessKey), slog.String("secret_key", redacted))
}

// MarshalJSON redacts the secret, in case a Credential ends up in a JSON log or event.
func (c Credential) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}{c.AccessKey, redacted})
}
