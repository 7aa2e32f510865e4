package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"restoredesk/internal/identity"
	"restoredesk/internal/views"
)

// SSOConfig is single sign-on with OpenID Connect, from OIDC_* and BASE_URL.
type SSOConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	GroupsClaim  string // default "groups"
	RedirectURL  string // BASE_URL + /auth/oidc/callback
}

// SSO signs people in through an OpenID Connect provider: authorization code
// flow with state, nonce and PKCE. The provider's discovery document is read
// on first use (and again after a failure), so a provider that is briefly
// down does not stop Restore Desk from starting.
type SSO struct {
	cfg      SSOConfig
	mu       sync.Mutex
	provider *oidc.Provider
}

// NewSSO returns single sign-on for cfg.
func NewSSO(cfg SSOConfig) *SSO {
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	return &SSO{cfg: cfg}
}

func (s *SSO) discover(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	// The provider keeps the context for fetching signing keys later, so it
	// must outlive this request.
	p, err := oidc.NewProvider(context.WithoutCancel(ctx), s.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover OIDC issuer %s: %w", s.cfg.Issuer, err)
	}
	s.provider = p
	return p, nil
}

func (s *SSO) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, RedirectURL: s.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email", "groups"},
	}
}

// Cookie-session keys of a sign-in in progress.
const (
	ssoStateKey    = "oidc_state"
	ssoNonceKey    = "oidc_nonce"
	ssoVerifierKey = "oidc_verifier"
	ssoNextKey     = "oidc_next"
)

// ssoStart sends the browser to the identity provider, remembering state,
// nonce and PKCE verifier in the (signed, encrypted) cookie.
func (h *Handler) ssoStart(c echo.Context) error {
	if h.SSO == nil {
		return echo.ErrNotFound
	}
	p, err := h.SSO.discover(c.Request().Context())
	if err != nil {
		return err
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	s := h.cookieSession(c)
	s.Values[ssoStateKey], s.Values[ssoNonceKey], s.Values[ssoVerifierKey] = state, nonce, verifier
	s.Values[ssoNextKey] = safeNext(c.QueryParam("next"))
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	noStore(c)
	return c.Redirect(http.StatusFound, h.SSO.oauth(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// ssoCallback completes the sign-in: it checks state, exchanges the code
// with the PKCE verifier, verifies the ID token and its nonce, then signs in
// the account linked to the token's issuer and subject, whose roles and
// memberships follow the token's groups.
func (h *Handler) ssoCallback(c echo.Context) error {
	if h.SSO == nil {
		return echo.ErrNotFound
	}
	noStore(c)
	ctx := c.Request().Context()
	prev := h.sessionID(c) // a session this browser already had ends at sign-in
	s := h.cookieSession(c)
	state, _ := s.Values[ssoStateKey].(string)
	nonce, _ := s.Values[ssoNonceKey].(string)
	verifier, _ := s.Values[ssoVerifierKey].(string)
	next, _ := s.Values[ssoNextKey].(string)
	for _, k := range []string{ssoStateKey, ssoNonceKey, ssoVerifierKey, ssoNextKey} {
		delete(s.Values, k) // one use only
	}
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	refuse := func(msg string) error {
		return h.renderSignIn(c, http.StatusForbidden, views.SignInProps{Error: msg})
	}
	if state == "" || c.QueryParam("state") != state {
		return refuse("Single sign-on could not be completed (it may have taken too long). Please try again.")
	}
	if e := c.QueryParam("error"); e != "" {
		return refuse("The identity provider refused the sign-in: " + e)
	}
	p, err := h.SSO.discover(ctx)
	if err != nil {
		return err
	}
	tok, err := h.SSO.oauth(p).Exchange(ctx, c.QueryParam("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		h.Log.WarnContext(ctx, "OIDC code exchange failed", "err", err)
		return refuse("Single sign-on could not be completed. Please try again.")
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: h.SSO.cfg.ClientID}).Verify(ctx, raw)
	if err != nil || idt.Nonce != nonce {
		h.Log.WarnContext(ctx, "OIDC ID token refused", "err", err, "nonce_matches", err == nil && idt.Nonce == nonce)
		return refuse("Single sign-on could not be completed. Please try again.")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return err
	}
	id := identity.SSOIdentity{
		Issuer: idt.Issuer, Subject: idt.Subject,
		Username: claimString(claims, "preferred_username"),
		Email:    claimString(claims, "email"),
		Name:     claimString(claims, "name"),
		Groups:   claimStrings(claims, h.SSO.cfg.GroupsClaim),
	}
	if id.Username == "" {
		id.Username, _, _ = strings.Cut(id.Email, "@")
	}
	sess, err := h.Identity.SignInSSO(ctx, id, clientOf(c))
	switch {
	case errors.Is(err, identity.ErrSSODisabled):
		return refuse("Your account is disabled. Ask an admin.")
	case errors.Is(err, identity.ErrSSOConflict):
		return refuse("An account with your username or e-mail address already exists here; ask an admin to sort it out.")
	case err != nil:
		return err
	}
	// As with a password: the previous session's id leaves the cookie, and
	// a copy of that cookie elsewhere must not live on.
	if prev != "" {
		if err := h.Identity.SignOut(ctx, prev, clientOf(c)); err != nil {
			return err
		}
	}
	if err := h.startCookieSession(c, sess.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// claimStrings reads a claim that is a list of strings or a single string.
func claimStrings(claims map[string]any, name string) []string {
	switch v := claims[name].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
