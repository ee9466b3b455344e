package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/sesame-id/sesame/internal/account/username"
)

// databaseBefore makes a database at path as the version before canonical
// usernames left it, holding accounts.
func databaseBefore(t *testing.T, path string, accounts ...username.Stored) {
	t.Helper()
	ctx := t.Context()
	db, err := openPool(ctx, path, writerParams, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, canonicalUsernamesVersion-1); err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		if _, err := db.ExecContext(ctx, `INSERT INTO accounts (id, username) VALUES (?, ?)`, a.ID, a.Username); err != nil {
			t.Fatal(err)
		}
	}
}

// A1: the migration that introduces canonical usernames rewrites the
// accounts' usernames into their canonical form, keeping their ids.
func TestMigrationMakesUsernamesCanonical(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sesame.db")
	databaseBefore(t, path,
		username.Stored{ID: "id-alice", Username: "Alice"},
		username.Stored{ID: "id-bob", Username: "bob"},
		username.Stored{ID: "id-carol", Username: "ＣＡＲＯＬ"})
	s, err := Open(t.Context(), path)
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
	path := filepath.Join(t.TempDir(), "sesame.db")
	databaseBefore(t, path,
		username.Stored{ID: "id-1", Username: "Alice"},
		username.Stored{ID: "id-2", Username: "alice"},
		username.Stored{ID: "id-3", Username: "ａｌｉｃｅ"},
		username.Stored{ID: "id-4", Username: "dave smith"},
		username.Stored{ID: "id-5", Username: "Erin"})
	_, err := Open(ctx, path)
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

	// Nothing changed: Erin is still Erin, and the version is the old one.
	db, err := openPool(ctx, path, writerParams, 1)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.QueryRowContext(ctx, `SELECT username FROM accounts WHERE id = 'id-5'`).Scan(&name); err != nil || name != "Erin" {
		t.Errorf("a username changed though the migration stopped: %q, %v", name, err)
	}
	// The operator resolves them, and the migration goes through.
	for _, q := range []string{
		`DELETE FROM accounts WHERE id IN ('id-2', 'id-3')`,
		`UPDATE accounts SET username = 'dave' WHERE id = 'id-4'`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate after the operator's fix: %v", err)
	}
	defer s.Close()
	for name, id := range map[string]string{"alice": "id-1", "dave": "id-4", "erin": "id-5"} {
		if a, err := s.AccountByUsername(context.Background(), name); err != nil || a.ID != id {
			t.Errorf("%s: %+v, %v; want account %s", name, a, err, id)
		}
	}
}
