// Package sqltest gives the tests of the packages above the store a fresh
// SQLite store of their own, so that each does not carry its own copy of
// opening and closing one. The store's own tests (package sql) cannot use
// it: it imports that package.
package sqltest

import (
	"path/filepath"
	"testing"

	"github.com/sesame-id/sesame/internal/store"
	sqlstore "github.com/sesame-id/sesame/internal/store/sql"
)

// Open opens an empty, migrated SQLite store in a directory of tb's own,
// fails tb if it cannot, and closes the store when tb ends. A fuzz test
// opens it before f.Fuzz, so its inputs share one store; each worker of
// go test -fuzz, a process of its own, opens its own.
func Open(tb testing.TB) store.Store {
	tb.Helper()
	st, err := sqlstore.OpenSQLite(tb.Context(), filepath.Join(tb.TempDir(), "sesame.db"), sqlstore.Options{})
	if err != nil {
		tb.Fatalf("open a fresh SQLite store: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}
