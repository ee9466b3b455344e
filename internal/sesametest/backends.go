package sesametest

import (
	"os"
	"testing"

	"github.com/sesame-id/sesame/internal/store/sql/pgtest"
)

// EachBackend runs fn as two sub-tests, "sqlite" and "postgres", with the
// Options that start a Sesame on that database: the domain's rules must
// hold on both, enforced by the database. The PostgreSQL one skips with a
// message without SESAME_TEST_POSTGRES, except in CI, where it fails.
func EachBackend(t *testing.T, fn func(t *testing.T, opts Options)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, Options{}) })
	t.Run("postgres", func(t *testing.T) { fn(t, Options{Database: pgtest.FreshDB(t)}) })
}

// BenchOptions are the Options of a benchmark's Sesame: SQLite, or
// PostgreSQL on a fresh database when SESAME_BENCH_DB=postgres (with
// SESAME_TEST_POSTGRES naming the server), so the figures of both
// backends come from the same benchmark.
func BenchOptions(b *testing.B) Options {
	switch db := os.Getenv("SESAME_BENCH_DB"); db {
	case "", "sqlite":
		return Options{}
	case "postgres":
		return Options{Database: pgtest.FreshDB(b)}
	default:
		b.Fatalf("SESAME_BENCH_DB=%q: want sqlite or postgres", db)
		return Options{}
	}
}
