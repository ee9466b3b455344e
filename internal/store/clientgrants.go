package store

import (
	"context"
	"time"
)

// clientGrantWriter ends a machine client's own grants, and a person's
// grants that carry the admin API's scope; Writer embeds it.
type clientGrantWriter interface {
	// RevokeClientCredentialGrants revokes, at at and for reason, every
	// standing grant that client holds for itself (client_credentials:
	// grants with no account), so the tokens it got with a secret that
	// just changed stop working at once (C5, G2). Grants of people
	// signed in to the client are left alone. It returns how many it
	// revoked.
	RevokeClientCredentialGrants(ctx context.Context, clientID string, at time.Time, reason RevokeReason) (int, error)
	// RevokeAccountGrantsWithScope revokes, at at and for reason, every
	// standing grant of the account whose scopes hold scope (one word),
	// so that a person who lost the admin role keeps no grant, and no
	// refresh token, carrying sesame:admin, which a later return of the
	// role would bring back to life (C5). It returns how many it revoked.
	RevokeAccountGrantsWithScope(ctx context.Context, accountID, scope string, at time.Time, reason RevokeReason) (int, error)
}
