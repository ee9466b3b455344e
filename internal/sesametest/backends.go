package sesametest

import (
	"testing"

	"github.com/sesame-id/sesame/internal/store/postgres/pgtest"
)

// EachBackend runs fn as two sub-tests, "sqlite" and "postgres", with the
// Options that start a Sesame on that database: the domain's rules must
// hold on both, enforced by the database. The PostgreSQL one skips with a
// message without SESAME_TEST_POSTGRES, except in CI, where it fails.
func EachBackend(t *testing.T, fn func(t *testing.T, opts Options)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, Options{}) })
	t.Run("postgres", func(t *testing.T) { fn(t, Options{Database: pgtest.FreshDB(t)}) })
}
