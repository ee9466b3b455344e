// Package backend opens the store a database URL names: sqlite:// for the
// embedded database, postgres:// (or postgresql://) for PostgreSQL. It is
// the one place that maps a configuration's database key to a store.Store.
package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/postgres"
	"github.com/sesame-id/sesame/internal/store/sqlite"
)

// Open opens the database dbURL names and runs its migrations.
func Open(ctx context.Context, dbURL string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dbURL, "sqlite:"):
		return sqlite.OpenURL(ctx, dbURL)
	case strings.HasPrefix(dbURL, "postgres:"), strings.HasPrefix(dbURL, "postgresql:"):
		return postgres.Open(ctx, dbURL)
	}
	return nil, fmt.Errorf("database: unsupported URL %q", dbURL)
}
