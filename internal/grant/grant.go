package grant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// ScopeOfflineAccess is the scope that asks for a refresh token (G3).
const ScopeOfflineAccess = "offline_access"

// Errors a grant check returns.
var (
	// ErrRevoked means the grant was revoked; every token on it is dead (G2).
	ErrRevoked = errors.New("grant revoked")
	// ErrExpired means the grant outlived grant_ttl.
	ErrExpired = errors.New("grant expired")
)

// Reasons recorded on a revoked grant.
const (
	ReasonRefreshReuse store.RevokeReason = "refresh_token_reuse"
	ReasonCodeReplay   store.RevokeReason = "code_replay"
	ReasonRevocation   store.RevokeReason = "revocation_endpoint"
	ReasonSignOut      store.RevokeReason = "sign_out"
	ReasonAdmin        store.RevokeReason = "admin"
	// ReasonPasswordChange: a new password signs the account out of every
	// device, and the grants that do not survive sign-out go (O6).
	ReasonPasswordChange store.RevokeReason = "password_change"
)

// RevokeUnlogged revokes the grants of ids not yet revoked, as Revoke
// does each, for an operation that records its own event for every grant
// it ends: a sign-out's receipt lists each grant it revoked and its one
// event names the receipt, so the audit log need not repeat them one by
// one in the sign-out's transaction. They go in one statement, not one
// per grant; an id of no grant (swept already) is passed over.
func RevokeUnlogged(ctx context.Context, tx store.Tx, ids []string, at time.Time, reason store.RevokeReason) error {
	if len(ids) == 0 {
		return nil
	}
	if err := tx.RevokeGrants(ctx, ids, at, reason); err != nil {
		return fmt.Errorf("revoke grants: %w", err)
	}
	return nil
}

// Check reports whether g may still back codes and tokens at now (G2).
func Check(g store.Grant, now time.Time) error {
	if !g.RevokedAt.IsZero() {
		return fmt.Errorf("grant %s: %w", g.ID, ErrRevoked)
	}
	if !now.Before(g.ExpiresAt) {
		return fmt.Errorf("grant %s: %w", g.ID, ErrExpired)
	}
	return nil
}

// Load reads a grant and checks it in one step.
func Load(ctx context.Context, r store.Reader, id string, now time.Time) (store.Grant, error) {
	g, err := r.Grant(ctx, id)
	if err != nil {
		return store.Grant{}, fmt.Errorf("grant %s: %w", id, err)
	}
	return g, Check(g, now)
}

// Covers reports whether the grant already holds every scope asked for, so a
// third-party client need not see the consent page again (C1a).
func Covers(g store.Grant, scopes []string) bool { return holdsAll(g.Scopes, scopes) }

// holdsAll reports whether have holds every scope of want.
func holdsAll(have, want []string) bool {
	for _, s := range want {
		if !slices.Contains(have, s) {
			return false
		}
	}
	return true
}

// HasOffline reports whether the grant holds offline_access.
func HasOffline(g store.Grant) bool {
	return slices.Contains(g.Scopes, ScopeOfflineAccess)
}

// Union returns the scopes of a followed by those of b not already in it.
func Union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Revoke revokes grant g (its ID, AccountID and ClientID are read) inside
// tx and records it in the audit log. Its tokens die with it at once,
// since every token check reads the grant (G2). It reports whether this
// call did the revoking.
func Revoke(ctx context.Context, tx store.Tx, g store.Grant, at time.Time, reason store.RevokeReason) (bool, error) {
	done, err := tx.RevokeGrant(ctx, g.ID, at, reason)
	if err != nil {
		return false, fmt.Errorf("revoke grant %s: %w", g.ID, err)
	}
	if done {
		err = tx.AddEvent(ctx, store.Event{At: at, Kind: store.EventGrantRevoked, AccountID: g.AccountID,
			ClientID: g.ClientID, Detail: "grant " + g.ID + ": " + string(reason)})
		if err != nil {
			return false, err
		}
	}
	return done, nil
}
