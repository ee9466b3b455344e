package grant

import (
	"slices"
	"strings"
)

// Supported lists the scopes Sesame knows. Others in a request are dropped,
// as RFC 6749 §3.3 lets the server grant less than asked.
var Supported = []string{"openid", "profile", "email", ScopeOfflineAccess}

// Request is what a client asked for, with what decides offline_access.
type Request struct {
	Scopes []string
	// PromptConsent is true when the request carried prompt=consent.
	PromptConsent bool
	// RefreshAllowed is true when the client may use the refresh_token
	// grant type.
	RefreshAllowed bool
}

// Grantable returns the scopes that may be granted for r: known scopes,
// each once, in request order, and offline_access only with prompt=consent
// and a client allowed refresh tokens (G3, spec A14).
func Grantable(r Request) []string {
	var out []string
	for _, s := range r.Scopes {
		if !slices.Contains(Supported, s) || slices.Contains(out, s) {
			continue
		}
		if s == ScopeOfflineAccess && (!r.PromptConsent || !r.RefreshAllowed) {
			continue
		}
		out = append(out, s)
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
