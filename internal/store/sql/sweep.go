package sql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// revokedGrantKeep is how long a revoked grant stays after revocation, so
// the account page and admins can still see why an app lost access.
const revokedGrantKeep = 24 * time.Hour

// sweepStep is one kind of row the sweeper deletes: the rows of table
// whose key is in the rows that where selects ($1 is its cutoff), at most
// $2 of them per statement. Each where searches an index of its own (no
// OR of two conditions: a prepared statement's generic plan would read
// the table whole), so a batch costs its rows, not a scan.
type sweepStep struct {
	what, table, key, where string
	// keep is how long before now the cutoff lies.
	keep time.Duration
	// retained steps keep their rows for the operator's retention
	// (audit_retention) instead of keep.
	retained bool
}

// sweepSteps in order. A step is only reached once the steps before it
// have nothing left at this now. Tokens go when they expire, not with
// their grant: a token of a revoked or deleted grant is dead already
// (every check reads the grant, G2), and it expires soon (an access token
// within the hour, a refresh token never after its grant), so no index by
// grant is kept for the sweeper's sake.
var sweepSteps = []sweepStep{
	{what: "sessions", table: "sessions", key: "id", where: "expires_at < $1"},
	{what: "auth requests", table: "auth_requests", key: "id", where: "expires_at < $1"},
	{what: "used codes", table: "used_codes", key: "expires_at", where: "expires_at < $1"},
	// The expiry leads a token's key: a batch is the start of the table.
	{what: "access tokens", table: "access_tokens", key: "expires_at, hash", where: "expires_at < $1"},
	{what: "refresh tokens", table: "refresh_tokens", key: "expires_at, hash", where: "expires_at < $1"},
	{what: "JWT access tokens", table: "jwt_access_tokens", key: "expires_at, jti", where: "expires_at < $1"},
	{what: "expired grants", table: "grants", key: "id", where: "expires_at < $1"},
	{what: "revoked grants", table: "grants", key: "id", where: "revoked_at < $1", keep: revokedGrantKeep},
	{what: "throttles", table: "throttles", key: "key", where: "expires_at < $1"},
	{what: "logout requests", table: "logout_requests", key: "xsrf_hash", where: "expires_at < $1"},
	{what: "receipts", table: "receipts", key: "id", where: "created_at < $1", retained: true},
	// A receipt shows its deliveries' outcome: they go together. A
	// delivery's attempts (delivery_attempts) cascade, uncounted, found
	// by the leading column of their key: a few rows next to one another
	// (some forty at most, for a delivery retried its whole 24 hours).
	{what: "finished deliveries", table: "deliveries", key: "id", where: "state <> 'pending' AND updated_at < $1", retained: true},
	{what: "events", table: "events", key: "seq", where: "at < $1", retained: true},
	// Rows of a few dozen bytes, a dozen an hour, next to one another in
	// their key's order: a batch of them is a few pages.
	{what: "hourly counters", table: "hourly_counters", key: "hour, measure", where: "hour < $1", keep: store.CounterRetention},
}

// query is the step's DELETE.
func (st sweepStep) query(d dialect) string {
	batch := `SELECT ` + st.key + ` FROM ` + st.table + ` WHERE ` + st.where
	if col, _, ok := strings.Cut(st.where, " < $1"); ok && !strings.Contains(col, "(") {
		// In the order of the column's index: a LIMIT the planner cannot
		// see then still reads that index rather than the table.
		batch += ` ORDER BY ` + col[strings.LastIndex(col, " ")+1:]
	}
	batch += ` LIMIT $2`
	if strings.Contains(st.key, ",") {
		// A key of several columns. On PostgreSQL, a row value IN the
		// batch is planned, generically, as a hash join over the whole
		// table; the batch's row addresses (ctid) are read by a TID scan
		// instead. A row a concurrent update moved meanwhile is left for
		// the next sweep, which is harmless. SQLite searches its primary
		// key for each row value.
		if d == postgresDialect {
			batch = strings.Replace(batch, `SELECT `+st.key, `SELECT ctid`, 1)
			return `DELETE FROM ` + st.table + ` WHERE ctid = ANY (ARRAY(` + batch + `))`
		}
		return `DELETE FROM ` + st.table + ` WHERE (` + st.key + `) IN (` + batch + `)`
	}
	if d == postgresDialect {
		// As for the dead grants: with IN, the generic plan, which cannot
		// see the LIMIT, would hash the batch and read the table whole.
		return `DELETE FROM ` + st.table + ` WHERE ` + st.key + ` = ANY (ARRAY(` + batch + `))`
	}
	return `DELETE FROM ` + st.table + ` WHERE ` + st.key + ` IN (` + batch + `)`
}

// sweepQueries are the steps' statements, built once per dialect.
var sweepQueries = func() map[dialect][]string {
	m := map[dialect][]string{}
	for _, d := range []dialect{sqliteDialect, postgresDialect} {
		for _, st := range sweepSteps {
			m[d] = append(m[d], st.query(d))
		}
	}
	return m
}()

// Sweep deletes at most limit rows that expired strictly before now, and
// returns how many went; the caller calls it again, in a new transaction,
// until it returns less than limit. What goes: sessions past ExpiresAt
// (never past MaxExpiresAt; their authorizations cascade, uncounted), auth
// requests, used codes, tokens and JWT access token records past
// ExpiresAt (a dead grant's tokens too, at their own expiry), grants
// expired or revoked more than a day ago, throttle keys and logout
// requests past ExpiresAt, receipts, finished deliveries (their attempts
// cascade, uncounted) and events older than retention, and hourly counters older than
// store.CounterRetention. Rows with no expiry (a zero ExpiresAt) are kept.
//
// The limit is what keeps the writer free: a batch holds it for its own
// rows only, and requests go on between batches.
func (t *tx) Sweep(ctx context.Context, now time.Time, retention time.Duration, limit int) (int64, error) {
	if now.IsZero() {
		return 0, errors.New("sweep: zero time")
	}
	if retention <= 0 {
		return 0, fmt.Errorf("sweep: retention %v", retention)
	}
	if limit <= 0 {
		return 0, fmt.Errorf("sweep: limit %d", limit)
	}
	var total int64
	for i, st := range sweepSteps {
		keep := st.keep
		if st.retained {
			keep = retention
		}
		n, err := exec(ctx, t.q, sweepQueries[t.d][i], timeArg(now.Add(-keep)), int64(limit)-total)
		if err != nil {
			return total, fmt.Errorf("sweep %s: %w", st.what, err)
		}
		total += n
		if total >= int64(limit) {
			break
		}
	}
	return total, nil
}
