package store

import (
	"context"
	"time"
)

// Event kinds of the audit log.
const (
	EventSignIn         = "sign_in"
	EventSignInFailed   = "sign_in_failed"
	EventSignOut        = "sign_out"
	EventGrantRevoked   = "grant_revoked"
	EventRefreshReuse   = "refresh_token_reuse"
	EventDeliveryFailed = "delivery_failed"
)

// Event is one line of the audit log admins read (issue: account page and
// admin API). Seq orders events and is the pagination cursor.
type Event struct {
	Seq       int64
	At        time.Time
	Kind      string
	AccountID string
	ClientID  string
	// Detail is a short, secret-free description: a username, a reason,
	// a receipt or delivery id.
	Detail string
}

// MaxEventKinds is how many kinds one EventsByAccount may ask for: more
// than there are kinds, and few enough that the statement is one text
// whatever the caller asks for.
const MaxEventKinds = 8

// eventReader lists events; Reader embeds it.
type eventReader interface {
	// Events lists events with Seq below before (all when 0), newest
	// first, at most limit.
	Events(ctx context.Context, before int64, limit int) ([]Event, error)
	// EventsByAccount lists accountID's events of the given kinds (any
	// kind when kinds is empty, at most MaxEventKinds), with Seq below
	// before (all when 0), newest first, at most limit. It reads that
	// account's events only, however many others the log holds.
	EventsByAccount(ctx context.Context, accountID string, kinds []string, before int64, limit int) ([]Event, error)
}

// eventWriter records events; Writer embeds it.
type eventWriter interface {
	// AddEvent appends an event; Seq is assigned by the store.
	AddEvent(ctx context.Context, e Event) error
}
