package oidc

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// Revocation serves RFC 7009 token revocation (spec V1-V6). It answers 200
// for revoked, unknown and already revoked tokens alike (docs/endpoints.md: 200,
// not 204).
func (p *Provider) Revocation(w http.ResponseWriter, r *http.Request) {
	_, c, value, ok := p.tokenRequest(w, r)
	if !ok {
		return
	}
	if err := p.Tokens.Revoke(r.Context(), c, value); err != nil {
		p.failJSON(w, r, "revoke token", err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Introspection serves RFC 7662 token introspection to authenticated
// clients, about their own tokens (spec I1-I5).
func (p *Provider) Introspection(w http.ResponseWriter, r *http.Request) {
	form, c, value, ok := p.tokenRequest(w, r)
	if !ok {
		return
	}
	res, err := p.Tokens.Introspect(r.Context(), c, value, token.Hint(form.Get("token_type_hint")))
	if err != nil {
		p.failJSON(w, r, "introspect token", err)
		return
	}
	// Only Sesame's own opaque tokens (base64url, no dots) carry the admin
	// API's scope; a JWT for an API never opens the admin API, and an API
	// may define a scope of that name for itself.
	if res.Active && !strings.Contains(value, ".") && slices.Contains(grant.Parse(res.Scope), grant.ScopeAdmin) {
		var err error
		if res, err = p.adminIntrospection(r, c, res); err != nil {
			p.logError(r, "read the roles of the token's holder", err)
			writeJSONError(w, errUnavailable)
			return
		}
	}
	writeJSON(w, http.StatusOK, res)
}

// adminIntrospection is what introspection says of an active token
// carrying sesame:admin once its holder's admin role is read again (C5):
// a client's token (m2m) is inactive once the client lost the role (as a
// role, by its flag, or by its place in admin_clients, which no write
// records); a person's token stays active for what else it grants, without
// sesame:admin once the account lost the role or its app may no longer
// carry it (client.MayGrantAdmin). c is the token's client: introspection
// answers a client about its own tokens only.
func (p *Provider) adminIntrospection(r *http.Request, c store.Client, res token.Introspection) (token.Introspection, error) {
	if res.Subject == "" {
		admin, err := client.HoldsAdmin(r.Context(), c, p.AdminClients, p.roleHolders())
		if err != nil || admin {
			return res, err
		}
		return token.Introspection{}, nil
	}
	if p.Resources != nil && client.MayGrantAdmin(c) {
		admin, err := p.Resources.HasRole(r.Context(), resource.Account(res.Subject), resource.RoleAdmin)
		if err != nil || admin {
			return res, err
		}
	}
	res.Scope = grant.Format(slices.DeleteFunc(grant.Parse(res.Scope), func(s string) bool { return s == grant.ScopeAdmin }))
	return res, nil
}

// tokenRequest authenticates the client of a revocation or introspection
// request and reads its token parameter, answering the error itself when
// either is missing.
func (p *Provider) tokenRequest(w http.ResponseWriter, r *http.Request) (url.Values, store.Client, string, bool) {
	form, c, ok := p.clientRequest(w, r)
	if !ok {
		return nil, store.Client{}, "", false
	}
	value := form.Get("token")
	if value == "" {
		writeJSONError(w, invalidRequest("token is required"))
		return nil, store.Client{}, "", false
	}
	return form, c, value, true
}
