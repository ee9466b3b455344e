package postgres

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
	UNION ALL SELECT id FROM grants WHERE expires_at < $1`

// The sweep's statements. $1 is now; tokens go before grants, as they are
// found through them.
//
// No statement has an OR of two conditions: each condition is a statement
// of its own on its own index, and the counts add up (a row the first
// deleted, the second no longer sees). With an OR, the generic plan of the
// prepared statement, which guesses that a third of the rows match each
// range, reads the table whole.
//
// The tokens of dead grants are found by "grant_id = ANY (ARRAY(...))":
// the dead grants' ids are computed first, then each is one search of the
// grant_id index. With a join, the planner, which counts every grant
// revoked in the last day (their tokens mostly swept already), would
// rather read every token (TestHotPathsUseIndexes).
const (
	qSweepSessions          = `DELETE FROM sessions WHERE expires_at < $1`
	qSweepSessionsAtMax     = `DELETE FROM sessions WHERE max_expires_at < $1`
	qSweepAuthRequests      = `DELETE FROM auth_requests WHERE expires_at < $1`
	qSweepAuthCodes         = `DELETE FROM auth_codes WHERE expires_at < $1`
	qSweepAccessTokens      = `DELETE FROM access_tokens WHERE expires_at < $1`
	qSweepDeadAccessTokens  = `DELETE FROM access_tokens WHERE grant_id = ANY (ARRAY(` + deadGrants + `))`
	qSweepRefreshTokens     = `DELETE FROM refresh_tokens WHERE expires_at < $1`
	qSweepDeadRefreshTokens = `DELETE FROM refresh_tokens WHERE grant_id = ANY (ARRAY(` + deadGrants + `))`
	qSweepGrants            = `DELETE FROM grants WHERE expires_at < $1`
	qSweepRevokedGrants     = `DELETE FROM grants WHERE revoked_at < $1` // $1: the revoked-grant cutoff
	qSweepThrottles         = `DELETE FROM throttles WHERE expires_at < $1`
)

// Sweep deletes what expired strictly before now: sessions past ExpiresAt
// or MaxExpiresAt (their authorizations cascade, uncounted), auth requests,
// codes and tokens past ExpiresAt, tokens whose grant is revoked or
// expired, grants expired or revoked more than a day ago, throttle keys
// past ExpiresAt, logout requests past ExpiresAt, receipts and finished
// deliveries older than 30 days and events older than 90. It returns how
// many rows went. Rows with no expiry (a zero ExpiresAt) are kept.
//
// Every step finds its rows through an index, so the transaction locks
// the rows it deletes, not whole tables, and requests go on meanwhile.
func (t *tx) Sweep(ctx context.Context, now time.Time) (int64, error) {
	if now.IsZero() {
		return 0, errors.New("sweep: zero time")
	}
	cutoff := timeArg(now)
	finished := timeArg(now.Add(-finishedKeep))
	steps := []struct {
		what, query string
		args        []any
	}{
		{"sessions", qSweepSessions, []any{cutoff}},
		{"sessions at their longest", qSweepSessionsAtMax, []any{cutoff}},
		{"auth requests", qSweepAuthRequests, []any{cutoff}},
		{"auth codes", qSweepAuthCodes, []any{cutoff}},
		{"access tokens", qSweepAccessTokens, []any{cutoff}},
		{"access tokens of dead grants", qSweepDeadAccessTokens, []any{cutoff}},
		{"refresh tokens", qSweepRefreshTokens, []any{cutoff}},
		{"refresh tokens of dead grants", qSweepDeadRefreshTokens, []any{cutoff}},
		{"expired grants", qSweepGrants, []any{cutoff}},
		{"revoked grants", qSweepRevokedGrants, []any{timeArg(now.Add(-revokedGrantKeep))}},
		{"throttles", qSweepThrottles, []any{cutoff}},
		{"logout requests", qSweepLogoutRequests, []any{cutoff}},
		{"receipts", qSweepReceipts, []any{finished}},
		{"finished deliveries", qSweepDeliveries, []any{finished}},
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
