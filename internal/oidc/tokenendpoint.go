package oidc

import (
	"net/http"
	"strings"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/token"
)

// Token serves the token endpoint (RFC 6749 §3.2, Core §3.1.3): the
// authorization_code, refresh_token and client_credentials grant types. Every answer carries
// Cache-Control: no-store (spec T1). With resource (RFC 8707 §2.2), each
// answers an RFC 9068 JWT access token for that API instead of the opaque
// one (R3); a request names one resource, since the token's aud is one.
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
	res, perr := resources(form)
	if perr == nil && len(res) > 1 {
		perr = &Error{Code: CodeInvalidTarget, Description: "name one resource per token request: a JWT access token is for one API", Status: 400}
	}
	if perr != nil {
		writeJSONError(w, perr)
		return
	}
	var indicator string
	if len(res) == 1 {
		indicator = res[0]
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
		if indicator == "" {
			admin, err := client.HoldsAdmin(r.Context(), c, p.AdminClients, p.roleHolders())
			if err != nil {
				p.logError(r, "read the client's roles", err)
				writeJSONError(w, errUnavailable)
				return
			}
			if admin {
				allowed = []string{grant.ScopeAdmin}
			}
		}
		resp, err = p.Tokens.ClientCredentials(r.Context(), c, token.ClientCredentialsRequest{
			Scopes: strings.Fields(form.Get("scope")), Allowed: allowed, Resource: indicator,
		})
	case "authorization_code":
		if form.Get("code") == "" {
			writeJSONError(w, invalidRequest("code is required"))
			return
		}
		req := token.ExchangeRequest{Code: form.Get("code"), RedirectURI: form.Get("redirect_uri"), CodeVerifier: form.Get("code_verifier")}
		if indicator != "" { // without resource, scope has no meaning here (RFC 6749 §4.1.3)
			req.Resource, req.Scopes = indicator, strings.Fields(form.Get("scope"))
		}
		resp, err = p.Tokens.Exchange(r.Context(), c, req)
	default:
		if form.Get("refresh_token") == "" {
			writeJSONError(w, invalidRequest("refresh_token is required"))
			return
		}
		resp, err = p.Tokens.Refresh(r.Context(), c, token.RefreshRequest{
			RefreshToken: form.Get("refresh_token"), Scopes: strings.Fields(form.Get("scope")), Resource: indicator,
		})
	}
	if err != nil {
		p.failJSON(w, r, "token request", err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// roleHolders is the registry as client.HoldsAdmin reads it: nil when
// there is none, so that only the deprecated ways are read.
func (p *Provider) roleHolders() client.RoleHolders {
	if p.Resources == nil {
		return nil
	}
	return p.Resources
}
