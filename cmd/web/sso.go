package main

import "restoredesk/internal/handlers"

// ssoConfig is single sign-on as configured by OIDC_* and BASE_URL; its
// Issuer is empty when single sign-on is off.
func ssoConfig(cfg config) handlers.SSOConfig {
	if cfg.OIDCIssuer == "" {
		return handlers.SSOConfig{}
	}
	return handlers.SSOConfig{
		Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
		GroupsClaim: cfg.OIDCGroupsClaim,
		RedirectURL: cfg.BaseURL.JoinPath("/auth/oidc/callback").String(),
	}
}
