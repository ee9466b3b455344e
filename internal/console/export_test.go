package console

import (
	"log/slog"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/store"
)

// ReadThrough makes c read through wrap(its store): its own reads and
// those of the account operations and client registry it calls, so that
// a test can make one read fail. It copies the account operations and
// makes a registry of its own rather than change them, since the rest of
// the server shares them; the new registry starts with an empty cache, so
// its first read of each app goes through wrap, and it hears no Forget
// the server's registry is told. Call it before c serves the requests
// that are to see it.
func ReadThrough(c *Console, wrap func(store.Store) store.Store) {
	c.cfg.Store = wrap(c.cfg.Store)
	reg := c.cfg.Registry
	c.cfg.Registry = &client.Registry{Store: wrap(reg.Store), Hasher: reg.Hasher, Pool: reg.Pool, Now: reg.Now,
		AllowPrivateDelivery: reg.AllowPrivateDelivery, CacheFor: reg.CacheFor}
	accounts := *c.cfg.Accounts
	service := *accounts.Accounts
	accounts.Store, service.Store = wrap(accounts.Store), wrap(service.Store)
	accounts.Accounts = &service
	c.cfg.Accounts = &accounts
}

// LogTo makes c log to l.
func LogTo(c *Console, l *slog.Logger) { c.cfg.Logger = l }
