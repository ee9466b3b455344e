package postgres

import (
	"database/sql"
	"errors"
	"io/fs"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"

	"github.com/sesame-id/sesame/internal/account/username"
	"github.com/sesame-id/sesame/internal/store/postgres/pgtest"
)

// databaseBefore makes a fresh database as the version before canonical
// usernames left it, holding accounts, and returns its URL.
func databaseBefore(t *testing.T, accounts ...username.Stored) string {
	t.Helper()
	ctx := t.Context()
	dbURL := pgtest.FreshDB(t)
	db := openSQL(t, dbURL)
	defer db.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, canonicalUsernamesVersion-1); err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		if _, err := db.ExecContext(ctx, `INSERT INTO accounts (id, username) VALUES ($1, $2)`, a.ID, a.Username); err != nil {
			t.Fatal(err)
		}
	}
	return dbURL
}

// A1: the migration that introduces canonical usernames rewrites the
// accounts' usernames into their canonical form, keeping their ids.
func TestMigrationMakesUsernamesCanonical(t *testing.T) {
	dbURL := databaseBefore(t,
		username.Stored{ID: "id-alice", Username: "Alice"},
		username.Stored{ID: "id-bob", Username: "bob"},
		username.Stored{ID: "id-carol", Username: "ＣＡＲＯＬ"})
	s, err := Open(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer s.Close()
	for name, id := range map[string]string{"alice": "id-alice", "bob": "id-bob", "carol": "id-carol"} {
		if a, err := s.AccountByUsername(t.Context(), name); err != nil || a.ID != id {
			t.Errorf("%s: %+v, %v; want account %s", name, a, err, id)
		}
	}
}

// A1: when two accounts would share one canonical username, or one has
// none, the migration stops, lists every one of them with its id, and
// changes nothing until the operator resolves them.
func TestMigrationStopsOnCollidingUsernames(t *testing.T) {
	ctx := t.Context()
	dbURL := databaseBefore(t,
		username.Stored{ID: "id-1", Username: "Alice"},
		username.Stored{ID: "id-2", Username: "alice"},
		username.Stored{ID: "id-3", Username: "ａｌｉｃｅ"},
		username.Stored{ID: "id-4", Username: "dave smith"},
		username.Stored{ID: "id-5", Username: "Erin"})
	_, err := Open(ctx, dbURL)
	var conflict *username.ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("Open = %v, want a *username.ConflictError", err)
	}
	for _, want := range []string{`"Alice" (id id-1)`, `"alice" (id id-2)`, `"ａｌｉｃｅ" (id id-3)`, `"dave smith" (id id-4)`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not list %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "id-5") {
		t.Errorf("the error lists an account that is in no one's way:\n%v", err)
	}

	// Nothing changed: Erin is still Erin.
	db := openSQL(t, dbURL)
	var name string
	if err := db.QueryRowContext(ctx, `SELECT username FROM accounts WHERE id = 'id-5'`).Scan(&name); err != nil || name != "Erin" {
		t.Errorf("a username changed though the migration stopped: %q, %v", name, err)
	}
	closeDB(t, db)
	// The operator resolves them, and the migration goes through.
	pgtest.Exec(t, dbURL,
		`DELETE FROM accounts WHERE id IN ('id-2', 'id-3')`,
		`UPDATE accounts SET username = 'dave' WHERE id = 'id-4'`)
	s, err := Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("migrate after the operator's fix: %v", err)
	}
	defer s.Close()
	for name, id := range map[string]string{"alice": "id-1", "dave": "id-4", "erin": "id-5"} {
		if a, err := s.AccountByUsername(ctx, name); err != nil || a.ID != id {
			t.Errorf("%s: %+v, %v; want account %s", name, a, err, id)
		}
	}
}

// openSQL opens dbURL through database/sql, as goose speaks it.
func openSQL(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func closeDB(t *testing.T, db *sql.DB) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
