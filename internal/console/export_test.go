package console

import (
	"log/slog"

	"github.com/sesame-id/sesame/internal/store"
)

// ReadThrough makes c read through wrap(its store): its own reads and
// those of the account operations it calls, so that a test can make one
// read fail. It copies the account operations rather than change them,
// since the rest of the server shares them. Call it before c serves the
// requests that are to see it.
func ReadThrough(c *Console, wrap func(store.Store) store.Store) {
	c.cfg.Store = wrap(c.cfg.Store)
	accounts := *c.cfg.Accounts
	service := *accounts.Accounts
	accounts.Store, service.Store = wrap(accounts.Store), wrap(service.Store)
	accounts.Accounts = &service
	c.cfg.Accounts = &accounts
}

// LogTo makes c log to l.
func LogTo(c *Console, l *slog.Logger) { c.cfg.Logger = l }
