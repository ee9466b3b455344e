package oidc

import (
	"net/http"

	"github.com/sesame-id/sesame/internal/token"
)

// Revocation serves RFC 7009 token revocation (spec V1-V6). It answers 200
// for revoked, unknown and already revoked tokens alike (contract.md: 200,
// not 204).
func (p *Provider) Revocation(w http.ResponseWriter, r *http.Request) {
	form, c, ok := p.clientRequest(w, r)
	if !ok {
		return
	}
	value := form.Get("token")
	if value == "" {
		writeJSONError(w, invalidRequest("token is required"))
		return
	}
	if err := p.Tokens.Revoke(r.Context(), c, value); err != nil {
		e := fromDomain(err)
		if e == errServer || e == errUnavailable {
			p.logError(r, "revoke token", err)
		}
		writeJSONError(w, e)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Introspection serves RFC 7662 token introspection to authenticated
// clients, about their own tokens (spec I1-I5).
func (p *Provider) Introspection(w http.ResponseWriter, r *http.Request) {
	form, c, ok := p.clientRequest(w, r)
	if !ok {
		return
	}
	value := form.Get("token")
	if value == "" {
		writeJSONError(w, invalidRequest("token is required"))
		return
	}
	res, err := p.Tokens.Introspect(r.Context(), c, value, token.Hint(form.Get("token_type_hint")))
	if err != nil {
		p.logError(r, "introspect token", err)
		writeJSONError(w, fromDomain(err))
		return
	}
	writeJSON(w, http.StatusOK, res)
}
