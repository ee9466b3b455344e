package sql

import (
	"bytes"
	"crypto/sha256"
	dbsql "database/sql"
	"encoding/base64"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/sesame-id/sesame/internal/account/username"
	"github.com/sesame-id/sesame/internal/store"
)

// rawDB opens the database dbURL names through database/sql, as goose and
// an operator's SQL shell reach it: no Store, no migration. It is closed
// when t ends.
func rawDB(t testing.TB, d dialect, dbURL string) *dbsql.DB {
	t.Helper()
	var db *dbsql.DB
	var err error
	if d == sqliteDialect {
		db, err = openPool(t.Context(), strings.TrimPrefix(dbURL, "sqlite:"), writerParams, 1)
	} else {
		db, err = dbsql.Open("pgx", dbURL) // registered by pgx's stdlib, which migrate.go uses
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rawExec runs query, in PostgreSQL's syntax as the store's own are, on
// db.
func rawExec(t testing.TB, d dialect, db *dbsql.DB, query string, args ...any) {
	t.Helper()
	if d == sqliteDialect {
		query = sqliteText(query)
	}
	if _, err := db.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
}

// rawTime is a time as the dialect's time columns hold it.
func rawTime(d dialect, tm time.Time) any {
	if d == sqliteDialect {
		return tm.UnixNano()
	}
	return tm
}

// migrationVersion is the version of d's migration whose file name ends
// in suffix (its number, so the tests follow a renumbering).
func migrationVersion(t testing.TB, d dialect, suffix string) int64 {
	t.Helper()
	entries, err := fs.ReadDir(migrations, "migrations/"+d.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if num, ok := strings.CutSuffix(e.Name(), "_"+suffix+".sql"); ok {
			v, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("%s: no migration named *_%s.sql", d, suffix)
	return 0
}

// databaseAt makes a fresh database at schema version v, as a release
// that stopped there left it, and returns its URL and a raw connection to
// it.
func databaseAt(t *testing.T, d dialect, v int64) (string, *dbsql.DB) {
	t.Helper()
	dbURL := freshURL(t, d)
	db := rawDB(t, d, dbURL)
	fsys, err := fs.Sub(migrations, "migrations/"+d.String())
	if err != nil {
		t.Fatal(err)
	}
	goDialect := goose.DialectSQLite3
	if d == postgresDialect {
		goDialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(goDialect, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), v); err != nil {
		t.Fatal(err)
	}
	return dbURL, db
}

// databaseBeforeCanonicalUsernames makes a database as the version before
// canonical usernames left it, holding accounts.
func databaseBeforeCanonicalUsernames(t *testing.T, d dialect, accounts ...username.Stored) (string, *dbsql.DB) {
	t.Helper()
	dbURL, db := databaseAt(t, d, canonicalUsernames[d]-1)
	for _, a := range accounts {
		rawExec(t, d, db, `INSERT INTO accounts (id, username) VALUES ($1, $2)`, a.ID, a.Username)
	}
	return dbURL, db
}

// wantAccounts fails the test unless each username finds its account.
func wantAccounts(t *testing.T, s *Store, byName map[string]string) {
	t.Helper()
	for name, id := range byName {
		if a, err := s.AccountByUsername(t.Context(), name); err != nil || a.ID != id {
			t.Errorf("%s: %+v, %v; want account %s", name, a, err, id)
		}
	}
}

// A1: the migration that introduces canonical usernames rewrites the
// accounts' usernames into their canonical form, keeping their ids.
func TestMigrationMakesUsernamesCanonical(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect) {
		dbURL, _ := databaseBeforeCanonicalUsernames(t, d,
			username.Stored{ID: "id-alice", Username: "Alice"},
			username.Stored{ID: "id-bob", Username: "bob"},
			username.Stored{ID: "id-carol", Username: "ＣＡＲＯＬ"})
		s, err := Open(t.Context(), dbURL, Options{})
		if err != nil {
			t.Fatalf("migrate: %v", err)
		}
		defer s.Close()
		wantAccounts(t, s, map[string]string{"alice": "id-alice", "bob": "id-bob", "carol": "id-carol"})
	})
}

// A1: when two accounts would share one canonical username, or one has
// none, the migration stops, lists every one of them with its id, and
// changes nothing until the operator resolves them.
func TestMigrationStopsOnCollidingUsernames(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect) {
		ctx := t.Context()
		dbURL, db := databaseBeforeCanonicalUsernames(t, d,
			username.Stored{ID: "id-1", Username: "Alice"},
			username.Stored{ID: "id-2", Username: "alice"},
			username.Stored{ID: "id-3", Username: "ａｌｉｃｅ"},
			username.Stored{ID: "id-4", Username: "dave smith"},
			username.Stored{ID: "id-5", Username: "Erin"})
		_, err := Open(ctx, dbURL, Options{})
		var conflict *username.ConflictError
		if !errors.As(err, &conflict) {
			t.Fatalf("Open = %v, want a *username.ConflictError", err)
		}
		t.Logf("the operator reads:\n%v", err)
		for _, want := range []string{`"Alice" (id id-1)`, `"alice" (id id-2)`, `"ａｌｉｃｅ" (id id-3)`, `"dave smith" (id id-4)`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not list %s:\n%v", want, err)
			}
		}
		if strings.Contains(err.Error(), "id-5") {
			t.Errorf("the error lists an account that is in no one's way:\n%v", err)
		}

		// Nothing changed: Erin is still Erin, and the schema is where it
		// was.
		var name string
		if err := db.QueryRowContext(ctx, `SELECT username FROM accounts WHERE id = 'id-5'`).Scan(&name); err != nil || name != "Erin" {
			t.Errorf("a username changed though the migration stopped: %q, %v", name, err)
		}
		var version int64
		if err := db.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version`).Scan(&version); err != nil {
			t.Fatal(err)
		}
		if version != canonicalUsernames[d]-1 {
			t.Errorf("schema version %d after the stopped migration, want %d", version, canonicalUsernames[d]-1)
		}
		// The operator resolves them, and the migration goes through.
		rawExec(t, d, db, `DELETE FROM accounts WHERE id IN ('id-2', 'id-3')`)
		rawExec(t, d, db, `UPDATE accounts SET username = 'dave' WHERE id = 'id-4'`)
		s, err := Open(ctx, dbURL, Options{})
		if err != nil {
			t.Fatalf("migrate after the operator's fix: %v", err)
		}
		defer s.Close()
		wantAccounts(t, s, map[string]string{"alice": "id-1", "dave": "id-4", "erin": "id-5"})
	})
}

// riverSchema is what River v0.51.2, the job queue the deliveries table
// replaced, left in a database it had migrated (its migrations 001 to
// 008, columns trimmed): the objects the queue migration must remove.
var riverSchema = map[dialect][]string{
	sqliteDialect: {
		`CREATE TABLE river_migration (line TEXT NOT NULL, version INTEGER NOT NULL,
			created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (line, version))`,
		`CREATE TABLE river_job (id INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL DEFAULT 'available',
			kind TEXT NOT NULL, args BLOB NOT NULL DEFAULT '{}')`,
		`CREATE INDEX river_job_kind ON river_job (kind)`,
		`CREATE TABLE river_leader (name TEXT PRIMARY KEY NOT NULL DEFAULT 'default', leader_id TEXT NOT NULL)`,
		`CREATE TABLE river_queue (name TEXT PRIMARY KEY NOT NULL, metadata BLOB NOT NULL DEFAULT '{}')`,
		`CREATE TABLE river_notification (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, topic TEXT NOT NULL)`,
		`INSERT INTO river_job (kind, args) VALUES ('backchannel_delivery', '{"delivery_id":"d-pending"}')`,
	},
	postgresDialect: {
		`CREATE TYPE river_job_state AS ENUM ('available', 'cancelled', 'completed', 'discarded', 'pending',
			'retryable', 'running', 'scheduled')`,
		`CREATE TABLE river_migration (line text NOT NULL, version bigint NOT NULL,
			created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (line, version))`,
		`CREATE TABLE river_job (id bigserial PRIMARY KEY, state river_job_state NOT NULL DEFAULT 'available',
			kind text NOT NULL, args jsonb NOT NULL DEFAULT '{}')`,
		`CREATE INDEX river_job_kind ON river_job (kind)`,
		`CREATE FUNCTION river_job_state_in_bitmask(bitmask bit(8), state river_job_state) RETURNS boolean
			LANGUAGE SQL IMMUTABLE AS $$ SELECT get_bit(bitmask, 7) = 1 AND state IS NOT NULL $$`,
		`CREATE UNLOGGED TABLE river_leader (name text PRIMARY KEY DEFAULT 'default', leader_id text NOT NULL)`,
		`CREATE TABLE river_queue (name text PRIMARY KEY, metadata jsonb NOT NULL DEFAULT '{}')`,
		`CREATE TABLE river_notification (id bigserial PRIMARY KEY, payload text NOT NULL, topic text NOT NULL)`,
		`INSERT INTO river_job (kind, args) VALUES ('backchannel_delivery', '{"delivery_id":"d-pending"}')`,
	},
}

// riverLeft lists what of River's is still in the database: tables on
// both, and types and functions on PostgreSQL.
func riverLeft(t *testing.T, d dialect, db *dbsql.DB) []string {
	t.Helper()
	queries := []string{`SELECT name FROM sqlite_master WHERE name LIKE 'river%'`}
	if d == postgresDialect {
		queries = []string{
			`SELECT 'table ' || table_name FROM information_schema.tables
				WHERE table_schema = current_schema() AND table_name LIKE 'river%'`,
			`SELECT 'type ' || typname FROM pg_type WHERE typname LIKE 'river%' OR typname LIKE '\_river%'`,
			`SELECT 'function ' || proname FROM pg_proc WHERE proname LIKE 'river%'`,
		}
	}
	var left []string
	for _, q := range queries {
		rows, err := db.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			left = append(left, name)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return left
}

// TestMigrationReplacesRiver (B3): migrating a database River's queue
// used removes every table (and on PostgreSQL type and function) of
// River's, and makes the deliveries table the queue: every pending
// delivery due at once, without the lease a crashed attempt may have
// left, so the workers claim it; finished ones are never due. A new
// database has nothing of River's either.
func TestMigrationReplacesRiver(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect) {
		ctx := t.Context()
		t.Run("new", func(t *testing.T) {
			dbURL := freshURL(t, d)
			s, err := Open(ctx, dbURL, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if left := riverLeft(t, d, rawDB(t, d, dbURL)); len(left) > 0 {
				t.Errorf("a new database has River's %v", left)
			}
		})

		dbURL, db := databaseAt(t, d, migrationVersion(t, d, "deliveries_queue")-1)
		for _, q := range riverSchema[d] {
			rawExec(t, d, db, q)
		}
		created := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
		updated, leased := created.Add(time.Minute), created.Add(2*time.Minute)
		for _, r := range []struct {
			id, state      string
			updated, lease any
		}{
			{"d-pending", "pending", rawTime(d, updated), rawTime(d, leased)}, // a crashed attempt's lease
			{"d-never-tried", "pending", nil, nil},
			{"d-delivered", "delivered", rawTime(d, updated), nil},
		} {
			rawExec(t, d, db, `INSERT INTO deliveries (id, state, created_at, updated_at, lease_until) VALUES ($1, $2, $3, $4, $5)`,
				r.id, r.state, rawTime(d, created), r.updated, r.lease)
		}

		s, err := Open(ctx, dbURL, Options{})
		if err != nil {
			t.Fatalf("migrate: %v", err)
		}
		defer s.Close()
		if left := riverLeft(t, d, db); len(left) > 0 {
			t.Errorf("River's %v survived the migration", left)
		}
		for id, due := range map[string]time.Time{"d-pending": updated, "d-never-tried": created, "d-delivered": {}} {
			got, err := s.Delivery(ctx, id)
			if err != nil {
				t.Fatalf("delivery %s after the migration: %v", id, err)
			}
			if !got.DueAt.Equal(due) || !got.LeaseUntil.IsZero() {
				t.Errorf("delivery %s: due %v, lease until %v; want due %v and no lease", id, got.DueAt, got.LeaseUntil, due)
			}
		}
		var claimed []string
		err = s.InTx(ctx, store.Durable, func(tx store.Tx) error {
			list, err := tx.ClaimDeliveries(ctx, updated, updated.Add(time.Minute), 10)
			for _, d := range list {
				claimed = append(claimed, d.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(claimed, " ") != "d-never-tried d-pending" {
			t.Errorf("claimed %v after the migration, want d-never-tried then d-pending", claimed)
		}
	})
}

// TestMigrationMakesListsWords: scopes and amr written as JSON arrays
// (SQLite) or text[] (PostgreSQL) by an earlier release read back the same
// once stored as words, empty lists included, and a grant's scopes can be
// widened afterwards.
func TestMigrationMakesListsWords(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect) {
		ctx := t.Context()
		dbURL, db := databaseAt(t, d, migrationVersion(t, d, "word_lists")-1)
		list := func(l ...string) any {
			if d == sqliteDialect {
				if len(l) == 0 {
					return "[]"
				}
				return `["` + strings.Join(l, `","`) + `"]`
			}
			return "{" + strings.Join(l, ",") + "}"
		}
		now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
		rawExec(t, d, db, `INSERT INTO sessions (id, cookie_hash, account_id, amr, created_at, expires_at, max_expires_at)
			VALUES ('s1', $1, 'acct', $2, $3, $4, $4)`, []byte("cookie"), list("pwd", "otp"), rawTime(d, now), rawTime(d, now.Add(time.Hour)))
		rawExec(t, d, db, `INSERT INTO grants (id, account_id, client_id, scopes, created_at, expires_at)
			VALUES ('g1', 'acct', 'app', $1, $2, $3)`, list("openid", "offline_access"), rawTime(d, now), rawTime(d, now.Add(time.Hour)))
		rawExec(t, d, db, `INSERT INTO grants (id, account_id, client_id, scopes, created_at, expires_at)
			VALUES ('g-empty', 'acct', 'app', $1, $2, $3)`, list(), rawTime(d, now), rawTime(d, now.Add(time.Hour)))
		rawExec(t, d, db, `INSERT INTO access_tokens (hash, grant_id, client_id, scopes, expires_at)
			VALUES ($1, 'g1', 'app', $2, $3)`, []byte("at"), list("openid"), rawTime(d, now.Add(time.Hour)))
		rawExec(t, d, db, `INSERT INTO refresh_tokens (hash, grant_id, client_id, amr, scopes, expires_at)
			VALUES ($1, 'g1', 'app', $2, $3, $4)`, []byte("rt"), list("pwd"), list("openid", "offline_access"), rawTime(d, now.Add(time.Hour)))

		s, err := Open(ctx, dbURL, Options{})
		if err != nil {
			t.Fatalf("migrate: %v", err)
		}
		defer s.Close()
		sess, err := s.Session(ctx, "s1")
		if err != nil || strings.Join(sess.AMR, " ") != "pwd otp" {
			t.Errorf("session amr %q, %v", sess.AMR, err)
		}
		g, err := s.Grant(ctx, "g1")
		if err != nil || strings.Join(g.Scopes, " ") != "openid offline_access" {
			t.Errorf("grant scopes %q, %v", g.Scopes, err)
		}
		if g, err := s.Grant(ctx, "g-empty"); err != nil || g.Scopes != nil {
			t.Errorf("empty grant scopes %q, %v", g.Scopes, err)
		}
		if at, err := s.AccessToken(ctx, []byte("at")); err != nil || strings.Join(at.Scopes, " ") != "openid" {
			t.Errorf("access token scopes %q, %v", at.Scopes, err)
		}
		rt, err := s.RefreshToken(ctx, []byte("rt"))
		if err != nil || strings.Join(rt.AMR, " ") != "pwd" || strings.Join(rt.Scopes, " ") != "openid offline_access" {
			t.Errorf("refresh token amr %q scopes %q, %v", rt.AMR, rt.Scopes, err)
		}
		err = s.InTx(ctx, store.Routine, func(tx store.Tx) error {
			return tx.UpdateGrantScopes(ctx, "g1", []string{"openid", "offline_access", "profile"})
		})
		if g, _ := s.Grant(ctx, "g1"); err != nil || strings.Join(g.Scopes, " ") != "openid offline_access profile" {
			t.Errorf("widened scopes %q, %v", g.Scopes, err)
		}
	})
}

// F1: a client stored before front-channel logout existed reads back
// without a frontchannel_logout_uri, everything else as it was, and can
// be given one afterwards.
func TestMigrationAddsFrontchannelToClients(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect) {
		ctx := t.Context()
		dbURL, db := databaseAt(t, d, migrationVersion(t, d, "clients_frontchannel")-1)
		rawExec(t, d, db, `INSERT INTO clients (id, type, backchannel_logout_uri) VALUES ('app', 'web', 'https://app.example/bc')`)

		s, err := Open(ctx, dbURL, Options{})
		if err != nil {
			t.Fatalf("migrate: %v", err)
		}
		defer s.Close()
		c, err := s.Client(ctx, "app")
		if err != nil || c.FrontchannelLogoutURI != "" || c.FrontchannelLogoutSessionRequired || c.BackchannelLogoutURI != "https://app.example/bc" {
			t.Fatalf("client after migration: %+v, %v", c, err)
		}
		c.FrontchannelLogoutURI, c.FrontchannelLogoutSessionRequired = "https://app.example/fc", true
		if err := s.InTx(ctx, store.Routine, func(tx store.Tx) error { return tx.UpsertClient(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Client(ctx, "app"); err != nil || got.FrontchannelLogoutURI != "https://app.example/fc" || !got.FrontchannelLogoutSessionRequired {
			t.Errorf("client given a front-channel URI: %+v, %v", got, err)
		}
	})
}

// TestMigrationKeysTokensByExpiry: tokens an earlier release stored by the
// digest of their value are found by it after tokens came to be keyed by
// their expiry, beside tokens keyed the new way, and both go at their
// expiry; a token row without an expiry (never issued by Sesame) is not
// kept, since the expiry leads the key.
func TestMigrationKeysTokensByExpiry(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect) {
		ctx := t.Context()
		dbURL, db := databaseAt(t, d, migrationVersion(t, d, "tokens_keyed_by_expiry")-1)
		now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
		older := sha256.Sum256([]byte("older"))
		rawExec(t, d, db, `INSERT INTO grants (id, account_id, client_id, scopes, created_at, expires_at)
			VALUES ('g1', 'acct', 'app', 'openid offline_access', $1, $2)`, rawTime(d, now), rawTime(d, now.Add(time.Hour)))
		rawExec(t, d, db, `INSERT INTO access_tokens (hash, grant_id, client_id, scopes, expires_at)
			VALUES ($1, 'g1', 'app', 'openid', $2)`, older[:], rawTime(d, now.Add(time.Hour)))
		rawExec(t, d, db, `INSERT INTO refresh_tokens (hash, grant_id, client_id, scopes, expires_at)
			VALUES ($1, 'g1', 'app', 'openid offline_access', $2)`, older[:], rawTime(d, now.Add(2*time.Hour)))
		rawExec(t, d, db, `INSERT INTO refresh_tokens (hash, grant_id, client_id, scopes)
			VALUES ($1, 'g1', 'app', 'openid')`, []byte("no expiry"))
		rawExec(t, d, db, `INSERT INTO jwt_access_tokens (jti, grant_id, client_id, resource, expires_at)
			VALUES ($1, 'g1', 'app', 'urn:api', $2)`, older[:16], rawTime(d, now.Add(time.Hour)))

		s, err := Open(ctx, dbURL, Options{})
		if err != nil {
			t.Fatalf("migrate: %v", err)
		}
		defer s.Close()
		newer := store.NewTokenKey(now.Add(time.Hour), []byte("0123456789abcdef0123456789abcdef"))
		err = s.InTx(ctx, store.Routine, func(tx store.Tx) error {
			return tx.CreateAccessToken(ctx, store.AccessToken{Hash: newer, GrantID: "g1", ClientID: "app", ExpiresAt: now.Add(time.Hour)})
		})
		if err != nil {
			t.Fatal(err)
		}
		if at, g, err := s.AccessTokenGrant(ctx, older[:]); err != nil || at.GrantID != "g1" || g.ID != "g1" {
			t.Errorf("older access token %+v with grant %q: %v", at, g.ID, err)
		}
		if rt, err := s.RefreshToken(ctx, older[:]); err != nil || !rt.ExpiresAt.Equal(now.Add(2*time.Hour)) {
			t.Errorf("older refresh token %+v: %v", rt, err)
		}
		olderJTI := base64.RawURLEncoding.EncodeToString(older[:16])
		if jwt, err := s.JWTAccessToken(ctx, olderJTI); err != nil || jwt.GrantID != "g1" || !jwt.ExpiresAt.Equal(now.Add(time.Hour)) {
			t.Errorf("older JWT access token record %+v: %v", jwt, err)
		}
		if _, err := s.RefreshToken(ctx, []byte("no expiry")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refresh token without an expiry: %v, want ErrNotFound", err)
		}
		if at, err := s.AccessToken(ctx, newer); err != nil || !bytes.Equal(at.Hash, newer) {
			t.Errorf("new access token %+v: %v", at, err)
		}
		err = s.InTx(ctx, store.Routine, func(tx store.Tx) error {
			_, err := tx.Sweep(ctx, now.Add(time.Hour+time.Second), store.DefaultAuditRetention, 100)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for what, key := range map[string][]byte{"older": older[:], "new": newer} {
			if _, err := s.AccessToken(ctx, key); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s access token past its expiry: %v, want swept", what, err)
			}
		}
		if _, err := s.JWTAccessToken(ctx, olderJTI); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("older JWT access token record past its expiry: %v, want swept", err)
		}
		if _, err := s.RefreshToken(ctx, older[:]); err != nil {
			t.Errorf("older refresh token before its expiry: %v", err)
		}
	})
}
