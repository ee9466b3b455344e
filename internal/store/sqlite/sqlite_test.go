package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sqlite"
	"github.com/sesame-id/sesame/internal/store/storetest"
)

// open opens a fresh database in a temporary directory and closes it when
// t ends.
func open(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sesame.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// TestConformance runs the store suite on SQLite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// TestReopenMigratesIdempotently: opening a database that is already up to
// date (a restart, `sesame migrate` then `sesame serve`) changes nothing
// and loses nothing.
func TestReopenMigratesIdempotently(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sesame.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.UpsertAccount(ctx, store.Account{ID: "a1", Username: "alice"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate an up-to-date database: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		s, err = sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if _, err := s.Account(ctx, "a1"); err != nil {
			t.Errorf("account after reopen: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenURL accepts the configuration's forms of a SQLite URL and
// refuses the others.
func TestOpenURL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, c := range []struct {
		url     string
		file    string // created, relative to dir; "" when refused
		wantErr string
	}{
		{url: "sqlite://relative.db", file: "relative.db"},
		{url: "sqlite://" + filepath.Join(dir, "absolute.db"), file: "absolute.db"},
		{url: "sqlite:opaque.db", file: "opaque.db"},
		{url: "sqlite://with?question#mark.db", file: "with?question#mark.db"},
		{url: "sqlite://", wantErr: "empty database path"},
		{url: "sqlite://:memory:", wantErr: "give a file path"},
		{url: "postgres://localhost/sesame", wantErr: "not a sqlite:// URL"},
		{url: "sqlite://missing-dir/x.db", wantErr: "open"},
	} {
		t.Run(c.url, func(t *testing.T) {
			s, err := sqlite.OpenURL(t.Context(), c.url)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("OpenURL(%q) = %v, want an error with %q", c.url, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenURL(%q): %v", c.url, err)
			}
			defer s.Close()
			if err := s.Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
			if !fileExists(filepath.Join(dir, c.file)) {
				t.Errorf("OpenURL(%q) did not create %s", c.url, c.file)
			}
		})
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
