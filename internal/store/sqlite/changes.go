package sqlite

import (
	"context"

	"github.com/sesame-id/sesame/internal/store"
)

// changed notes c, for the watchers once the transaction commits.
func (t *tx) changed(c store.Change) { t.changes = append(t.changes, c) }

// Lock is a no-op: SQLite's single writer connection already runs one
// transaction at a time.
func (t *tx) Lock(context.Context, string) error { return nil }

// TryLock always succeeds, for the same reason.
func (t *tx) TryLock(context.Context, string) (bool, error) { return true, nil }

// Watch reports the changes this process commits. Another process on the
// same file (the CLI) is not heard: caches expire on their own
// (WatchesOtherProcesses is false).
func (s *Store) Watch(ctx context.Context, fn func(store.Change)) { s.changes.Watch(ctx, fn) }

// WatchesOtherProcesses is false: SQLite has no notifications between
// processes.
func (s *Store) WatchesOtherProcesses() bool { return false }
