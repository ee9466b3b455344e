package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// explainRows is how many rows the big tables get: a million, the size at
// which a plan that reads a table whole would hurt, so PostgreSQL's plans
// are the ones production gets. Filling them takes about two minutes.
const explainRows = 1_000_000

// populate fills every table a hot path reads with explainRows rows (the
// token tables three times as many) and updates the planner's statistics.
func populate(ctx context.Context, t *testing.T, conn *pgx.Conn) {
	t.Helper()
	n := fmt.Sprint(explainRows)
	for _, sql := range []string{
		`INSERT INTO sessions (id, cookie_hash, account_id, created_at, expires_at, max_expires_at)
			SELECT 's' || i, sha256(('cookie ' || i)::bytea), 'acct-' || (i % 5000), now() - i * interval '1 s',
				now() + interval '14 days', now() + interval '90 days' FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO authorizations (session_id, client_id, sid, grant_id, created_at)
			SELECT 's' || i, 'app-' || (i % 7), 'sid' || i, 'g' || i, now() FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO grants (id, account_id, client_id, created_at, expires_at, revoked_at)
			SELECT 'g' || i, 'acct-' || (i % 5000), 'app-' || (i % 7), now() - i * interval '1 s',
				now() + interval '180 days', CASE WHEN i % 50 = 0 THEN now() END FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO auth_codes (hash, client_id, grant_id, account_id, expires_at)
			SELECT sha256(('code ' || i)::bytea), 'app', 'g' || i, 'acct', now() + interval '1 min'
			FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO access_tokens (hash, grant_id, client_id, family_id, expires_at)
			SELECT sha256(('at ' || i)::bytea), 'g' || (i % ` + n + `), 'app', CASE WHEN i % 3 = 0 THEN '' ELSE 'f' || (i / 3) END,
				now() + interval '1 hour' FROM generate_series(1, 3 * ` + n + `) i`,
		`INSERT INTO refresh_tokens (hash, grant_id, client_id, family_id, expires_at)
			SELECT sha256(('rt ' || i)::bytea), 'g' || (i % ` + n + `), 'app', CASE WHEN i % 3 = 0 THEN '' ELSE 'f' || (i / 3) END,
				now() + interval '14 days' FROM generate_series(1, 3 * ` + n + `) i`,
		`INSERT INTO logout_requests (xsrf_hash, session_id, expires_at)
			SELECT sha256(('xsrf ' || i)::bytea), CASE WHEN i % 4 = 0 THEN '' ELSE 's' || i END, now() + interval '1 hour'
			FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO receipts (id, account_id, created_at)
			SELECT 'r' || i, 'acct-' || (i % 5000), now() - i * interval '1 s' FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO deliveries (id, receipt_id, client_id, state, created_at, updated_at)
			SELECT 'd' || i, 'r' || (i / 2), 'app-' || (i % 7), (ARRAY['pending', 'delivered', 'failed'])[1 + i % 3],
				now() - i * interval '1 s', now() FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO throttles (key, failures, expires_at)
			SELECT 'acct:192.0.2.1|user' || i, 1, now() + (i % 100) * interval '1 min' FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO events (at, kind) SELECT now() - i * interval '1 s', 'sign_in' FROM generate_series(1, ` + n + `) i`,
		`ANALYZE`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("populate: %v\n%s", err, sql)
		}
	}
}

// TestHotPathsUseIndexes EXPLAINs the lookups made on every request, the
// writes that find rows by a key, and the sweeper's deletes, on tables of
// many rows: none may read a table whole. Each is planned twice, as pgx's
// prepared statements may be: with its arguments (a custom plan) and
// without (the generic plan PostgreSQL may switch to after five
// executions, which guesses at ranges and cannot use a partial index
// unless the statement itself implies the index's condition).
func TestHotPathsUseIndexes(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	populate(ctx, t, conn)

	now := time.Now().UTC()
	h := func(s string) []byte { b := sha256.Sum256([]byte(s)); return b[:] }
	for _, c := range []struct {
		name  string
		query string
		args  []any
	}{
		{"SessionByCookie", qSessionByCookie, []any{h("cookie 77")}},
		{"Session", qSession, []any{"s77"}},
		{"SessionsByAccount", qSessionsByAccount, []any{"acct-77"}},
		{"TouchSession", qTouchSession, []any{now, now, "s77"}},
		{"DeleteSession", qDeleteSession, []any{"s77"}},
		{"DeleteAuthorization", qDeleteAuthorization, []any{"s77", "app-1"}},
		{"Grant", qGrant, []any{"g77"}},
		{"GrantsByAccount", qGrantsByAccount, []any{"acct-77"}},
		{"LiveGrants", qLiveGrants, []any{"acct-77", "app-0", now}},
		{"RevokeGrant", qRevokeGrant, []any{now, "test", "g77"}},
		{"AuthCode", qAuthCode, []any{h("code 77")}},
		{"ConsumeAuthCode", qConsumeAuthCode, []any{now, h("code 77")}},
		{"AccessToken", qAccessToken, []any{h("at 77")}},
		{"RefreshToken", qRefreshToken, []any{h("rt 77")}},
		{"ConsumeRefreshToken", qConsumeRefreshToken, []any{now, h("rt 77")}},
		{"RevokeAccessFamily", qRevokeAccessFamily, []any{now, "f77"}},
		{"RevokeRefreshFamily", qRevokeRefreshFamily, []any{now, "f77"}},
		{"LogoutRequest", qLogoutRequest, []any{h("xsrf 77")}},
		{"ReceiptsByAccount", qReceiptsByAccount, []any{"acct-77", 20}},
		{"Delivery", qDelivery, []any{"d77"}},
		{"DeliveriesByReceipt", qDeliveriesByReceipt, []any{"r77"}},
		{"DeliveriesByClientIn", qDeliveriesByClientIn, []any{"app-1", "failed", 20}},
		{"LeaseDelivery", qLeaseDelivery, []any{"d77", now, now.Add(time.Minute)}},
		{"Throttle", qThrottle, []any{"acct:192.0.2.1|user77"}},
		{"Events", qEvents, []any{int64(math.MaxInt64), 20}},
		{"SweepSessions", qSweepSessions, []any{now}},
		{"SweepSessionsAtMax", qSweepSessionsAtMax, []any{now}},
		{"SweepAccessTokens", qSweepAccessTokens, []any{now}},
		{"SweepRefreshTokens", qSweepRefreshTokens, []any{now}},
		{"SweepDeadAccessTokens", qSweepDeadAccessTokens, []any{now}},
		{"SweepDeadRefreshTokens", qSweepDeadRefreshTokens, []any{now}},
		{"SweepGrants", qSweepGrants, []any{now}},
		{"SweepRevokedGrants", qSweepRevokedGrants, []any{now.Add(-revokedGrantKeep)}},
		{"SweepThrottles", qSweepThrottles, []any{now}},
		{"SweepDeliveries", qSweepDeliveries, []any{now.Add(-finishedKeep)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
				plan := explain(ctx, t, conn, mode, c.query, c.args)
				if testing.Verbose() {
					t.Logf("%s:\n%s", mode, plan)
				}
				if strings.Contains(plan, "Seq Scan") {
					t.Errorf("%s reads a table whole (%s):\n%s", c.name, mode, plan)
				}
			}
		})
	}
}

// explain prepares query, plans it in mode and returns the plan. The
// arguments are sent in the simple protocol, which writes them into the
// EXECUTE as literals.
func explain(ctx context.Context, t *testing.T, conn *pgx.Conn, mode, query string, args []any) string {
	t.Helper()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "PREPARE explained AS "+query); err != nil {
		t.Fatalf("prepare: %v\n%s", err, query)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DEALLOCATE explained")
	placeholders := make([]string, len(args))
	for i := range args {
		placeholders[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := conn.Query(ctx, "EXPLAIN EXECUTE explained("+strings.Join(placeholders, ", ")+")",
		append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	return strings.Join(lines, "\n")
}
