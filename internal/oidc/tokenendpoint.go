package oidc

import (
	"net/http"
	"strings"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/token"
)

// ScopeAdmin is the scope of the admin API, granted by client_credentials
// to the clients named in admin_clients only.
const ScopeAdmin = "sesame:admin"

// Token serves the token endpoint (RFC 6749 §3.2, Core §3.1.3): the
// authorization_code, refresh_token and client_credentials grant types. Every answer carries
// Cache-Control: no-store (spec T1).
func (p *Provider) Token(w http.ResponseWriter, r *http.Request) {
	form, c, ok := p.clientRequest(w, r)
	if !ok {
		return
	}
	gt := form.Get("grant_type")
	switch gt {
	case "":
		writeJSONError(w, invalidRequest("grant_type is required"))
		return
	case "authorization_code", "refresh_token", "client_credentials":
	default:
		writeJSONError(w, &Error{Code: CodeUnsupportedGrantType, Description: "grant_type " + gt + " is not supported", Status: 400})
		return
	}
	if !client.AllowsGrantType(c, gt) {
		writeJSONError(w, &Error{Code: CodeUnauthorizedClient, Description: "the client may not use grant_type " + gt, Status: 400})
		return
	}
	var (
		resp token.Response
		err  error
	)
	switch gt {
	case "client_credentials":
		if client.IsPublic(c) {
			writeJSONError(w, &Error{Code: CodeUnauthorizedClient, Description: "a public client cannot use client_credentials", Status: 400})
			return
		}
		var allowed []string
		if client.HoldsAdminRole(c, p.AdminClients) {
			allowed = []string{ScopeAdmin}
		}
		resp, err = p.Tokens.ClientCredentials(r.Context(), c, token.ClientCredentialsRequest{
			Scopes: strings.Fields(form.Get("scope")), Allowed: allowed,
		})
	case "authorization_code":
		if form.Get("code") == "" {
			writeJSONError(w, invalidRequest("code is required"))
			return
		}
		resp, err = p.Tokens.Exchange(r.Context(), c, token.ExchangeRequest{
			Code: form.Get("code"), RedirectURI: form.Get("redirect_uri"), CodeVerifier: form.Get("code_verifier"),
		})
	default:
		if form.Get("refresh_token") == "" {
			writeJSONError(w, invalidRequest("refresh_token is required"))
			return
		}
		resp, err = p.Tokens.Refresh(r.Context(), c, token.RefreshRequest{
			RefreshToken: form.Get("refresh_token"), Scopes: strings.Fields(form.Get("scope")),
		})
	}
	if err != nil {
		p.failJSON(w, r, "token request", err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
