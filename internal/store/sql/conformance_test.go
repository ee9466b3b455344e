package sql

import (
	"context"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/pgtest"
	"github.com/sesame-id/sesame/internal/store/storetest"
)

// dialects are the databases the store speaks; tests of behaviour both
// share run on each.
var dialects = []dialect{sqliteDialect, postgresDialect}

// eachDialect runs fn as one sub-test per dialect. The PostgreSQL one
// skips when SESAME_TEST_POSTGRES is unset (fails in CI: pgtest).
func eachDialect(t *testing.T, fn func(t *testing.T, d dialect)) {
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) { fn(t, d) })
	}
}

// freshURL names a new, empty database for t, removed when t ends: a file
// in a temporary directory, or a database of its own on the test server.
func freshURL(t testing.TB, d dialect) string {
	t.Helper()
	if d == postgresDialect {
		return pgtest.FreshDB(t)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "sesame.db")
}

// withParam is dbURL with its query parameter key set to value.
func withParam(t testing.TB, dbURL, key, value string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// openTest opens a Store on a fresh database and closes it when t ends
// (before a PostgreSQL database is dropped: cleanups run last registered
// first).
func openTest(t testing.TB, d dialect, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), freshURL(t, d), opts)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// TestConformanceSQLite runs the store suite on SQLite.
func TestConformanceSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, sqliteDialect, Options{}) })
}

// TestConformancePostgres runs the store suite on PostgreSQL, each
// sub-test on a database of its own.
func TestConformancePostgres(t *testing.T) {
	pgtest.ServerURL(t)
	var opened atomic.Int64
	start := time.Now()
	storetest.Run(t, func(t *testing.T) store.Store {
		opened.Add(1)
		return openTest(t, postgresDialect, Options{})
	})
	t.Logf("%d conformance sub-tests ran on PostgreSQL in %v", opened.Load(), time.Since(start).Round(time.Millisecond))
}
