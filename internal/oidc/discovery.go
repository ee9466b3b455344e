package oidc

import (
	"net/http"

	"github.com/sesame-id/sesame/internal/grant"
)

// Discovery serves {issuer}/.well-known/openid-configuration (Disc §4,
// spec D1-D9).
func (p *Provider) Discovery(w http.ResponseWriter, r *http.Request) {
	doc := map[string]any{
		"issuer":                                        p.Issuer,
		"authorization_endpoint":                        p.URL("/auth"),
		"token_endpoint":                                p.URL("/token"),
		"userinfo_endpoint":                             p.URL("/me"),
		"jwks_uri":                                      p.URL("/jwks"),
		"revocation_endpoint":                           p.URL("/token/revocation"),
		"introspection_endpoint":                        p.URL("/token/introspection"),
		"end_session_endpoint":                          p.URL("/session/end"),
		"backchannel_logout_supported":                  true,
		"backchannel_logout_session_supported":          true,
		"frontchannel_logout_supported":                 true,
		"frontchannel_logout_session_supported":         true,
		"scopes_supported":                              grant.Supported,
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"grant_types_supported":                         []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                       []string{"public"},
		"id_token_signing_alg_values_supported":         p.Keys.Algs(),
		"token_endpoint_auth_methods_supported":         authMethods,
		"revocation_endpoint_auth_methods_supported":    authMethods,
		"introspection_endpoint_auth_methods_supported": authMethods,
		"code_challenge_methods_supported":              []string{"S256"},
		"claims_supported": []string{
			"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "at_hash",
			"name", "preferred_username", "updated_at", "email", "email_verified",
		},
		"prompt_values_supported":                        []string{"none", "login", "consent"},
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"authorization_response_iss_parameter_supported": true,
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, doc)
}

var authMethods = []string{"client_secret_basic", "client_secret_post", "none"}

// JWKS serves the public signing keys (spec D10).
func (p *Provider) JWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(p.Keys.JWKS())
}
