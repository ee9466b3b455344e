package resource

import (
	"context"
	"slices"
	"time"
)

// Claims are a verified JWT access token's claims (RFC 9068 §2.2).
type Claims struct {
	Issuer string
	// Subject is the person (sub), or, for a machine-to-machine token,
	// the client itself (then Subject == ClientID and AuthTime is zero).
	Subject  string
	ClientID string
	// Audience is every aud value; the API's indicator is one of them.
	Audience []string
	// Scopes are the scope claim's values, as granted for this API.
	Scopes []string
	// AuthTime is when the person last authenticated (auth_time);
	// SessionID is sid, their session with the app. Both are unset in a
	// machine-to-machine token.
	AuthTime  time.Time
	SessionID string
	ExpiresAt time.Time
	IssuedAt  time.Time
	// ID is jti, unique per token.
	ID string
}

// HasScope reports whether the token grants scope.
func (c *Claims) HasScope(scope string) bool {
	return c != nil && slices.Contains(c.Scopes, scope)
}

// claimsKey keys the verified claims in a request's context.
type claimsKey struct{}

// ClaimsFrom returns the claims Require verified for the request whose
// context ctx is, and false outside a Require'd handler.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

func withClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}
