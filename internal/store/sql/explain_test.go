package sql

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/storetest"
)

// TestStatementsUseIndexes: every statement the store runs on SQLite
// finds its rows through an index, so none holds the write lock (or a
// reader) for a scan of a table that grows with use. The statements are
// those the conformance suite makes the store prepare (onPrepare), which
// is every operation of the interface; each is planned by EXPLAIN QUERY
// PLAN as SQLite runs it, translated.
func TestStatementsUseIndexes(t *testing.T) {
	var mu sync.Mutex
	prepared := map[string]bool{}
	onPrepare = func(query string) {
		mu.Lock()
		prepared[query] = true
		mu.Unlock()
	}
	t.Run("suite", func(t *testing.T) {
		defer func() { onPrepare = nil }()
		storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, sqliteDialect, Options{}) })
	})
	onPrepare = nil

	// The statements this test matters most for were among them: those
	// that hold the writer longest, and the queue's.
	// So were both forms of every token statement: by a key that
	// carries its expiry, and by an older token's digest.
	must := append(slices.Clone(sweepQueries[sqliteDialect]), qClaimDeliveries, qLeaseDelivery)
	for _, c := range tokenStatements(nil) {
		must = append(must, c.query.current, c.query.legacy)
	}
	for _, q := range must {
		if !prepared[q] {
			t.Errorf("the suite never ran\n%s", q)
		}
	}

	// What may read a table whole, and why.
	mayScan := map[string]string{
		qClients:      "lists every client, a table of a few rows",
		qSigningKeys:  "lists every signing key, a table of a few rows",
		qAPIResources: "lists every API resource, a table of a few rows read whole into memory",
		qRoles:        "lists every role and permission, tables of a few rows read whole into memory",
	}
	s := openTest(t, sqliteDialect, Options{})
	db, err := openPool(t.Context(), s.e.(*liteEngine).path, readerParams, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	queries := make([]string, 0, len(prepared))
	for q := range prepared {
		queries = append(queries, q)
	}
	slices.Sort(queries)
	for _, q := range queries {
		if mayScan[q] != "" {
			continue
		}
		text := sqliteText(q)
		// EXPLAIN needs no values, but the driver wants one per
		// parameter; NULL will do.
		rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+text, make([]any, paramCount(text))...)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if testing.Verbose() {
			t.Logf("%s\n  plan: %s", text, strings.Join(plan, "; "))
		}
		for _, detail := range plan {
			// SCAN CONSTANT ROW is the one row of a SELECT without FROM
			// (PutAuthorization's INSERT ... SELECT $1, ... WHERE EXISTS):
			// no table.
			if strings.HasPrefix(detail, "SCAN") && detail != "SCAN CONSTANT ROW" {
				t.Errorf("%s\n  reads a table whole: %s", text, detail)
			}
		}
	}
	t.Logf("%d statements planned", len(queries))
}

// paramCount is how many values q takes: one per bare ?, or the highest
// ?N.
func paramCount(q string) int {
	n := 0
	for _, m := range regexp.MustCompile(`\?(\d*)`).FindAllStringSubmatch(q, -1) {
		if m[1] == "" {
			n++
		} else if k, _ := strconv.Atoi(m[1]); k > n {
			n = k
		}
	}
	return n
}

// explainRows is how many rows the big PostgreSQL tables get: a million,
// the size at which a plan that reads a table whole would hurt, so
// PostgreSQL's plans are the ones production gets. Filling them takes
// about two minutes, on two connections at once.
const explainRows = 1_000_000

// populate fills every table a hot path reads with explainRows rows (the
// token tables three times as many) and updates the planner's statistics.
// One delivery in a hundred is pending, as in a queue that mostly keeps
// up. The tables are filled in two halves of about equal time, each on a
// connection of its own, so the server fills them on two cores; a table
// another references is filled before it, in the same half.
func populate(ctx context.Context, t *testing.T, conn *pgx.Conn) {
	t.Helper()
	n := fmt.Sprint(explainRows)
	run := func(c *pgx.Conn, statements ...string) error {
		for _, sql := range statements {
			if _, err := c.Exec(ctx, sql); err != nil {
				return fmt.Errorf("populate: %w\n%s", err, sql)
			}
		}
		return nil
	}
	if err := run(conn,
		// Up to a day and a half, in no order: rows expire, are touched
		// and are revoked in another order than the one they were
		// written in, and a planner that knew them in order would favour
		// scans that production would not.
		`CREATE FUNCTION scatter(i bigint) RETURNS interval LANGUAGE SQL IMMUTABLE
			AS $$ SELECT ((i * 7919) % 131071) * interval '1 s' $$`,
	); err != nil {
		t.Fatal(err)
	}
	other, err := pgx.ConnectConfig(ctx, conn.Config().Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.WithoutCancel(ctx))
	halves := [2][]string{{
		`INSERT INTO refresh_tokens (hash, grant_id, client_id, expires_at)
			SELECT sha256(('rt ' || i)::bytea), 'g' || (i % ` + n + `), 'app',
				now() + interval '14 days' + scatter(i) FROM generate_series(1, 3 * ` + n + `) i`,
		`INSERT INTO sessions (id, cookie_hash, account_id, created_at, expires_at, max_expires_at)
			SELECT 's' || i, sha256(('cookie ' || i)::bytea), 'acct-' || (i % 5000), now() - i * interval '1 s',
				now() + interval '14 days' + scatter(i), now() + interval '90 days' + scatter(i) FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO authorizations (session_id, client_id, sid, grant_id, created_at)
			SELECT 's' || i, 'app-' || (i % 7), 'sid' || i, 'g' || i, now() FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO grants (id, account_id, client_id, created_at, expires_at, revoked_at)
			SELECT 'g' || i, 'acct-' || (i % 5000), 'app-' || (i % 7), now() - i * interval '1 s',
				now() + interval '180 days' + scatter(i), CASE WHEN i % 50 = 0 THEN now() - scatter(i) END
			FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO receipts (id, account_id, created_at)
			SELECT 'r' || i, 'acct-' || (i % 5000), now() - scatter(i) FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO accounts (id, username, email) SELECT 'acct-' || i, 'user' || i, 'User' || i || '@Example.com'
			FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO events (at, kind) SELECT now() - scatter(i), 'sign_in' FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO used_codes (expires_at, hash)
			SELECT now() + interval '1 min' + scatter(i), sha256(('code ' || i)::bytea) FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO throttles (key, failures, expires_at)
			SELECT 'acct:192.0.2.1|user' || i, 1, now() + (i % 100) * interval '1 min' FROM generate_series(1, ` + n + `) i`,
	}, {
		`INSERT INTO access_tokens (hash, grant_id, client_id, expires_at)
			SELECT sha256(('at ' || i)::bytea), 'g' || (i % ` + n + `), 'app',
				now() + interval '1 hour' + scatter(i) FROM generate_series(1, 3 * ` + n + `) i`,
		`INSERT INTO audit_log (at, actor_kind, actor_id, action, target_kind, target_id, account_id)
			SELECT now() - scatter(i), 'admin_client', 'robot-' || (i % 10),
				(ARRAY['account.update', 'session.revoke', 'grant.revoke', 'client.update'])[i % 4 + 1],
				'account', 'acct-' || (i % 5000), 'acct-' || (i % 5000) FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO deliveries (id, receipt_id, client_id, state, created_at, updated_at, due_at)
			SELECT 'd' || i, 'r' || (i / 2), 'app-' || (i % 7),
				CASE WHEN i % 100 = 0 THEN 'pending' WHEN i % 3 = 0 THEN 'failed' ELSE 'delivered' END,
				now() - i * interval '1 s', now() - scatter(i), CASE WHEN i % 100 = 0 THEN now() - scatter(i) END
			FROM generate_series(1, ` + n + `) i`,
		// One attempt per delivery, a second for one in three.
		`INSERT INTO delivery_attempts (delivery_id, attempt, started_at, took_us, status)
			SELECT 'd' || i, a, now() - scatter(i), 1000 + i % 5000, CASE WHEN a = 1 AND i % 3 = 0 THEN 503 ELSE 200 END
			FROM generate_series(1, ` + n + `) i, generate_series(1, 2) a WHERE a = 1 OR i % 3 = 0`,
		`INSERT INTO logout_requests (xsrf_hash, session_id, expires_at)
			SELECT sha256(('xsrf ' || i)::bytea), CASE WHEN i % 4 = 0 THEN '' ELSE 's' || i END, now() + interval '1 hour' + scatter(i)
			FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO jwt_access_tokens (jti, grant_id, client_id, subject, resource, created_at, expires_at)
			SELECT substring(sha256(('jwt ' || i)::bytea) for 16), 'g' || i, 'app', 'acct-' || (i % 5000),
				'https://api.example.com/orders', now(), now() + interval '1 hour' + scatter(i) FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO auth_requests (id, client_id, params, created_at, expires_at)
			SELECT 'ar' || i, 'app', '{}', now(), now() + interval '10 min' + scatter(i) FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO client_roles (client_id, role) SELECT 'app-' || i, 'reader' FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO account_roles (account_id, role) SELECT 'acct-' || i, 'reader' FROM generate_series(1, ` + n + `) i`,
		`INSERT INTO hourly_counters (hour, measure, count, sum)
			SELECT date_trunc('hour', now()) - h * interval '1 hour', 'measure-' || m, 1, 0
			FROM generate_series(0, 40 * 24) h, generate_series(1, 12) m`,
	}}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, c := range []*pgx.Conn{conn, other} {
		wg.Go(func() { errs[i] = run(c, halves[i]...) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := run(conn, `DROP FUNCTION scatter`, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
}

// TestHotPathsUseIndexes EXPLAINs, on PostgreSQL, the lookups made on
// every request (a JWT access token's record and a holder's roles among
// them), the writes that find rows by a key, the queue's claim and
// attempts,
// the sweeper's deletes and the admin lists (accounts, the audit log), on
// tables of many rows: none may read a table whole. Each is planned twice, as pgx's prepared statements may
// be: with its arguments (a custom plan) and without (the generic plan
// PostgreSQL may switch to after five executions, which guesses at ranges
// and cannot use a partial index unless the statement itself implies the
// index's condition).
func TestHotPathsUseIndexes(t *testing.T) {
	s := openTest(t, postgresDialect, Options{})
	ctx := t.Context()
	conn, err := pgx.ConnectConfig(ctx, s.e.(*pgEngine).pool.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Taken before the tables are filled, which takes minutes: the rows
	// that expire a minute after they were written have not, at now.
	now := time.Now().UTC()
	populate(ctx, t, conn)

	h := func(s string) []byte { b := sha256.Sum256([]byte(s)); return b[:] }
	type explained struct {
		name  string
		query string
		args  []any
	}
	cases := []explained{
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
		{"Grants", qGrants, append([]any{"g77", "g78"}, make([]any, grantsBatch-2)...)},
		{"RevokeGrants", qRevokeGrants, append([]any{now, "test", "g77", "g78"}, make([]any, grantsBatch-2)...)},
		{"RevokeClientGrants", qRevokeClientGrants, []any{"app-1", now}},
		{"RevokeClientCredentialGrants", qRevokeClientCredentialGrants, []any{now, "test", "app-1"}},
		{"AuthRequest", qAuthRequest, []any{"ar77"}},
		{"UseAuthCode", qUseAuthCode, []any{now, h("code 77")}},
		{"LogoutRequest", qLogoutRequest, []any{h("xsrf 77")}},
		{"DeleteLogoutRequest", qDeleteLogoutRequest, []any{h("xsrf 77")}},
		{"ReceiptsByAccount", qReceiptsByAccount, []any{"acct-77", 20}},
		{"Delivery", qDelivery, []any{"d77"}},
		{"DeliveriesByReceipt", qDeliveriesByReceipt, []any{"r77"}},
		{"DeliveryCountsByReceipts", qDeliveryCountsByReceipts, append([]any{"r77", "r78", "r79"}, make([]any, receiptsBatch-3)...)},
		{"DeliveriesByClientIn", qDeliveriesByClientIn, []any{"app-1", "failed", 20}},
		{"LeaseDelivery", qLeaseDelivery, []any{"d77", now, now.Add(time.Minute)}},
		{"ClaimDeliveries", qClaimDeliveries, []any{now, now.Add(time.Minute), 16}},
		{"ClaimUndatedDeliveries", qClaimUndatedDeliveries, []any{now, now.Add(time.Minute), 16}},
		{"RecordAttempt", qRecordAttempt, []any{"d77", "pending", 503, "503", now, now.Add(time.Second), now.Add(-time.Second)}},
		{"AddAttempt", qAddAttempt, []any{"d77", now, int64(1500), 503, "503"}},
		{"DeliveryAttempts", qDeliveryAttempts, []any{"d77", 20}},
		{"UpdateGrantResources", qUpdateGrantResources, []any{"", "g77"}},
		{"AccountRoles", qAccountRoles, []any{"acct-77"}},
		{"DeleteAccountRoles", qDeleteAccountRoles, []any{"acct-77"}},
		{"ClientRoles", qClientRoles, []any{"app-77"}},
		{"DeleteClientRoles", qDeleteClientRoles, []any{"app-77"}},
		{"Throttle", qThrottle, []any{"acct:192.0.2.1|user77"}},
		{"Events", qEvents, []any{int64(math.MaxInt64), 20}},
		{"EventsByAccount", qEventsByAccount, []any{"acct-77", int64(math.MaxInt64), 20}},
		{"EventsByAccountOfKinds", qEventsByAccountOfKinds, append([]any{"acct-77", int64(math.MaxInt64), 10, "sign_in", "sign_in_failed"}, make([]any, store.MaxEventKinds-2)...)},
		{"ListAccounts", searchAccountsQueries[0], []any{"", 20}},
		{"SearchAccountsByUsername", searchAccountsQueries[1], []any{"", "user12", prefixEnd("user12"), 20}},
		{"SearchAccountsByEmail", searchAccountsQueries[2], []any{"", "user12", prefixEnd("user12"), 20}},
		{"SearchAccountsByEither", searchAccountsQueries[3], []any{"user12", "user12", prefixEnd("user12"), "user12", prefixEnd("user12"), 20}},
	}
	// Each token lookup in both its forms: by a key that carries its
	// expiry (the primary key), and by an older token's digest (the
	// legacy index, which only older rows enter).
	for _, c := range tokenStatements(now) {
		keys := map[string][]byte{"": store.NewTokenKey(now.Add(time.Hour), h("token 77")), " (older token)": h("token 77")}
		if strings.Contains(c.name, "JWT") {
			jti := append(binary.BigEndian.AppendUint32(nil, uint32(now.Add(time.Hour).Unix())), h("jwt 77")[:16]...)
			keys = map[string][]byte{"": jti, " (older token)": h("jwt 77")[:16]}
		}
		for form, key := range keys {
			q, args := c.query.with(key, c.args...)
			for i, a := range args {
				if tm, ok := a.(timeArg); ok {
					args[i] = time.Time(tm) // the simple protocol writes a time, not a Valuer
				}
			}
			cases = append(cases, explained{c.name + form, q, args})
		}
	}
	for _, c := range []struct {
		name string
		f    store.AuditFilter
	}{
		{"all", store.AuditFilter{}},
		{"actor", store.AuditFilter{ActorID: "robot-3"}},
		{"actor kind", store.AuditFilter{ActorKind: "admin_client"}},
		{"target", store.AuditFilter{TargetID: "acct-77"}},
		{"account", store.AuditFilter{AccountID: "acct-77"}},
		{"action", store.AuditFilter{Action: "grant.revoke"}},
		{"since", store.AuditFilter{Since: now.Add(-time.Hour)}},
		{"actor, action, since", store.AuditFilter{ActorID: "robot-3", Action: "grant.revoke", Since: now.Add(-time.Hour)}},
	} {
		c.f.Limit = 20
		q, args := auditQuery(c.f)
		for i, a := range args {
			if tm, ok := a.(timeArg); ok {
				args[i] = time.Time(tm) // the simple protocol writes a time, not a Valuer
			}
		}
		cases = append(cases, explained{"AuditEntries by " + c.name, q, args})
	}
	cases = append(cases, explained{"SweepAuditLog", auditSweep[postgresDialect], []any{now.Add(-90 * 24 * time.Hour), 32}})
	for i, st := range sweepSteps {
		cases = append(cases, explained{"Sweep " + st.what, sweepQueries[postgresDialect][i], []any{now.Add(-st.keep), 200}})
	}
	for _, c := range cases {
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

// tokenStatement is a token statement in its two forms (byKey) with the
// arguments it takes before the key.
type tokenStatement struct {
	name  string
	query byKey
	args  []any
}

// tokenStatements are every token statement the store runs by key.
func tokenStatements(now any) []tokenStatement {
	return []tokenStatement{
		{"AccessToken", qAccessToken, nil},
		{"AccessTokenGrant", qAccessTokenGrant, nil},
		{"RevokeAccessToken", qRevokeAccessToken, []any{now}},
		{"RefreshToken", qRefreshToken, nil},
		{"RefreshTokenGrant", qRefreshTokenGrant, nil},
		{"ConsumeRefreshToken", qConsumeRefreshToken, []any{now}},
		{"RevokeRefreshToken", qRevokeRefreshToken, []any{now}},
		{"JWTAccessToken", qJWTAccessToken, nil},
		{"DeleteJWTAccessToken", qDeleteJWTAccessToken, nil},
	}
}
