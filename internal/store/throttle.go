package store

import (
	"context"
	"time"
)

// EventClientAuthFailed is an event kind: a client's secret was wrong
// (C3). Like EventSignInFailed, at most one is written per client and
// source address per minute; Detail says how many failures it stands for.
const EventClientAuthFailed = "client_auth_failed"

// Throttle is the failure count of one throttle key (design A3): an
// account from one source address, a source address alone, or a client
// from one source address. It is a counter, not a row per failure, and
// the domain (package account) decides what its fields mean for the next
// attempt; the store only keeps it, and serialises the transactions that
// change one key (LockThrottle).
type Throttle struct {
	// Key names what is counted, e.g. "acct:<source>|<username>".
	Key string
	// Failures is the count as of DecayFrom: one failure is forgotten
	// per period of the key's rule after it.
	Failures  int
	DecayFrom time.Time
	// BlockedUntil: no attempt is evaluated before it.
	BlockedUntil time.Time
	// EventAt is when the key last wrote a failure event, so it writes
	// at most one a minute.
	EventAt time.Time
	// ExpiresAt is when the row means nothing any more (every failure
	// forgotten, no block): the sweeper deletes it after.
	ExpiresAt time.Time
}

// throttleReader reads throttle keys; Reader embeds it.
type throttleReader interface {
	// Throttle reads key's count as committed. A key with no failures
	// is a zero Throttle with Key set, not ErrNotFound: a check that
	// finds nothing to refuse writes nothing.
	Throttle(ctx context.Context, key string) (Throttle, error)
}

// throttleWriter changes throttle keys inside a transaction; Writer
// embeds it.
type throttleWriter interface {
	// LockThrottle reads key's count and holds it until the transaction
	// ends: another transaction's LockThrottle of the same key, on this
	// instance or another, waits until this one commits, then reads what
	// it wrote. So a check and the count of an attempt are one step and a
	// burst is counted exactly (A3). A key with no row reads as a zero
	// Throttle with Key set. Transactions that lock several keys lock
	// them in ascending order.
	LockThrottle(ctx context.Context, key string) (Throttle, error)
	// PutThrottle stores t, replacing key's previous count.
	PutThrottle(ctx context.Context, t Throttle) error
	// DeleteThrottle forgets key (a successful sign-in); a key with no
	// row is not an error.
	DeleteThrottle(ctx context.Context, key string) error
}
