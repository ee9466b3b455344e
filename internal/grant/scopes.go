package grant

import (
	"slices"
	"strings"
)

// Supported lists the scopes Sesame knows. Others in a request are dropped,
// as RFC 6749 §3.3 lets the server grant less than asked.
var Supported = []string{"openid", "profile", "email", ScopeOfflineAccess}

// ScopeAdmin opens the admin API (C5). An m2m client holding the admin
// role gets it by client_credentials; a person holding the role gets it on
// their own access tokens only through a first-party app (Request.Admin).
const ScopeAdmin = "sesame:admin"

// Request is what a client asked for, with what decides offline_access.
type Request struct {
	Scopes []string
	// PromptConsent is true when the request carried prompt=consent.
	PromptConsent bool
	// RefreshAllowed is true when the client may use the refresh_token
	// grant type.
	RefreshAllowed bool
	// Admin is true when sesame:admin may be granted: the account holds
	// the admin role and the client is a first-party web app (C5). A
	// third-party app never gets it, whatever the person consents to.
	Admin bool
}

// Grantable returns the scopes that may be granted for r: known scopes,
// each once, in request order, offline_access only with prompt=consent
// and a client allowed refresh tokens (G3, spec A14), and sesame:admin
// only when r.Admin and never with offline_access (C5): admin authority
// ends with the session it was signed in with, where an offline grant
// may survive sign-out (O4).
func Grantable(r Request) []string {
	var out []string
	for _, s := range r.Scopes {
		known := slices.Contains(Supported, s) || (s == ScopeAdmin && r.Admin)
		if !known || slices.Contains(out, s) {
			continue
		}
		if s == ScopeOfflineAccess && (!r.PromptConsent || !r.RefreshAllowed) {
			continue
		}
		out = append(out, s)
	}
	if slices.Contains(out, ScopeOfflineAccess) {
		out = slices.DeleteFunc(out, func(s string) bool { return s == ScopeAdmin })
	}
	return out
}

// Parse splits a space-separated scope parameter.
func Parse(scope string) []string {
	return strings.Fields(scope)
}

// Format joins scopes for a response's scope member.
func Format(scopes []string) string {
	return strings.Join(scopes, " ")
}
