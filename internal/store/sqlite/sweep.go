package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// revokedGrantKeep is how long a revoked grant stays after revocation, so
// the account page and admins can still see why an app lost access.
const revokedGrantKeep = 24 * time.Hour

// deadGrants selects the grants whose tokens are no use any more: revoked
// or expired (design G2). A UNION rather than an OR, so each half searches
// its own index instead of scanning every grant.
const deadGrants = `SELECT id FROM grants WHERE revoked_at IS NOT NULL
	UNION ALL SELECT id FROM grants WHERE expires_at < ?1`

// The sweep's statements. ?1 is now; tokens go before grants, as they are
// found through them.
var (
	qSweepSessions      = statement(`DELETE FROM sessions WHERE expires_at < ?1 OR max_expires_at < ?1`)
	qSweepAuthRequests  = statement(`DELETE FROM auth_requests WHERE expires_at < ?`)
	qSweepAuthCodes     = statement(`DELETE FROM auth_codes WHERE expires_at < ?`)
	qSweepAccessTokens  = statement(`DELETE FROM access_tokens WHERE expires_at < ?1 OR grant_id IN (` + deadGrants + `)`)
	qSweepRefreshTokens = statement(`DELETE FROM refresh_tokens WHERE expires_at < ?1 OR grant_id IN (` + deadGrants + `)`)
	// ?2 is the revoked-grant cutoff.
	qSweepGrants    = statement(`DELETE FROM grants WHERE expires_at < ?1 OR revoked_at < ?2`)
	qSweepThrottles = statement(`DELETE FROM throttles WHERE expires_at < ?`)
)

// Sweep deletes what expired strictly before now: sessions past ExpiresAt
// or MaxExpiresAt (their authorizations cascade, uncounted), auth requests,
// codes and tokens past ExpiresAt, tokens whose grant is revoked or
// expired, grants expired or revoked more than a day ago, and throttle
// keys past ExpiresAt. It returns how many rows went. Rows with no
// expiry (a zero ExpiresAt) are kept.
//
// Every step finds its rows through an index, so the write lock is held
// for the rows deleted, not for a scan of every table.
func (t *tx) Sweep(ctx context.Context, now time.Time) (int64, error) {
	if now.IsZero() {
		return 0, errors.New("sweep: zero time")
	}
	cutoff := timeArg(now)
	steps := []struct {
		what, query string
		args        []any
	}{
		{"sessions", qSweepSessions, []any{cutoff}},
		{"auth requests", qSweepAuthRequests, []any{cutoff}},
		{"auth codes", qSweepAuthCodes, []any{cutoff}},
		{"access tokens", qSweepAccessTokens, []any{cutoff}},
		{"refresh tokens", qSweepRefreshTokens, []any{cutoff}},
		{"grants", qSweepGrants, []any{cutoff, timeArg(now.Add(-revokedGrantKeep))}},
		{"throttles", qSweepThrottles, []any{cutoff}},
		{"logout requests", qSweepLogoutRequests, []any{cutoff}},
		{"receipts", qSweepReceipts, []any{timeArg(now.Add(-finishedKeep))}},
		{"finished deliveries", qSweepDeliveries, []any{timeArg(now.Add(-finishedKeep))}},
		{"events", qSweepEvents, []any{timeArg(now.Add(-eventKeep))}},
	}
	var total int64
	for _, step := range steps {
		n, err := exec(ctx, t.q, step.query, step.args...)
		if err != nil {
			return total, fmt.Errorf("sweep %s: %w", step.what, err)
		}
		total += n
	}
	return total, nil
}
