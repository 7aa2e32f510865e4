package notify

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
)

// MinSecretKeyLen is the shortest NOTIFY_SECRET_KEY accepted.
const MinSecretKeyLen = 32

// ErrNoSecretKey: channels with secrets cannot be stored or used without the key.
var ErrNoSecretKey = errors.New("NOTIFY_SECRET_KEY is not set, so channel secrets cannot be stored or read")

// Secrets are the parts of a channel that are never shown back: robot and
// webhook URLs (they carry tokens) and signing secrets.
type Secrets struct {
	URL    string `json:"url,omitempty"`
	Secret string `json:"secret,omitempty"`
}

// Box seals channel secrets with AES-256-GCM under a key derived from
// NOTIFY_SECRET_KEY. A nil Box has no key and refuses.
type Box struct{ aead cipher.AEAD }

// NewBox derives the key from key (at least MinSecretKeyLen characters).
func NewBox(key string) (*Box, error) {
	if len(key) < MinSecretKeyLen {
		return nil, fmt.Errorf("NOTIFY_SECRET_KEY is %d characters; it needs at least %d (generate one with: openssl rand -base64 48)", len(key), MinSecretKeyLen)
	}
	k := sha256.Sum256(append([]byte("restoredesk channel secrets\x00"), key...))
	block, _ := aes.NewCipher(k[:])
	aead, _ := cipher.NewGCM(block)
	return &Box{aead: aead}, nil
}

// additional data binds a sealed value to its use.
var boxAD = []byte("restoredesk channel v1")

// Seal encrypts s.
func (b *Box) Seal(s Secrets) ([]byte, error) {
	if b == nil {
		return nil, ErrNoSecretKey
	}
	plain, _ := json.Marshal(s)
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	return b.aead.Seal(nonce, nonce, plain, boxAD), nil
}

// Open decrypts what Seal returned.
func (b *Box) Open(sealed []byte) (Secrets, error) {
	var s Secrets
	if b == nil {
		return s, ErrNoSecretKey
	}
	if len(sealed) == 0 {
		return s, nil
	}
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return s, errors.New("channel secrets are damaged")
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], boxAD)
	if err != nil {
		return s, errors.New("channel secrets cannot be decrypted: NOTIFY_SECRET_KEY is not the key they were stored with")
	}
	err = json.Unmarshal(plain, &s)
	return s, err
}
