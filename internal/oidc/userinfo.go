package oidc

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sesame-id/sesame/internal/token"
)

// UserInfo serves {issuer}/me, GET and POST, with a bearer access token
// (Core §5.3, RFC 6750). Claims follow the granted scopes.
func (p *Provider) UserInfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	value, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sesame"`)
		writeJSON(w, http.StatusUnauthorized, struct {
			Error string `json:"error"`
		}{CodeInvalidRequest})
		return
	}
	a, err := p.Tokens.CheckAccess(r.Context(), value)
	if err != nil {
		e := fromDomain(err)
		if e == errServer || e == errUnavailable {
			p.logError(r, "userinfo", err)
			writeJSONError(w, e)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="sesame", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}{CodeInvalidToken, e.Description})
		return
	}
	if !slices.Contains(a.Token.Scopes, "openid") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sesame", error="insufficient_scope", scope="openid"`)
		writeJSON(w, http.StatusForbidden, struct {
			Error string `json:"error"`
		}{CodeInsufficientScope})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Subject string `json:"sub"`
		token.UserClaims
	}{a.Account.ID, token.ClaimsFor(a.Account, a.Token.Scopes)})
}

// bearer finds the access token in the Authorization header, or in a POSTed
// form (RFC 6750 §2.1, §2.2); never in the query.
func bearer(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, v, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(v) == "" {
			return "", false
		}
		return strings.TrimSpace(v), true
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err == nil {
			if v := r.PostForm.Get("access_token"); v != "" {
				return v, true
			}
		}
	}
	return "", false
}
