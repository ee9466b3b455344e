package account

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// ClientThrottle throttles failed client authentication per client and
// source address (C3, A3): a stranger who floods wrong secrets for a public
// client_id from one address is refused there, with 429 and Retry-After
// and without the secret being evaluated, while the app's own requests
// from its own address go on.
//
// Honest clients pay nothing: Check reads only this instance's memory of
// the keys it has seen fail, and only a wrong secret writes (Failed: one
// atomic store step, whose count holds across instances). An instance
// that has not seen a key fail yet learns of a block another instance
// counted at its first failure of that key, so each instance evaluates at
// most one secret per blocked period.
type ClientThrottle struct {
	Store  store.Store
	Now    func() time.Time
	Logger *slog.Logger
	// Rule is the throttling of one client from one source; zero is
	// DefaultClientRule.
	Rule Rule

	mu sync.Mutex
	// blocked is when each key this instance saw fail may try again.
	blocked map[string]time.Time
}

// maxClientHints bounds ClientThrottle's memory under a flood from many
// addresses: past it, hints that ended are dropped, and if that is not
// enough, all are (a forgotten block is learned again at the next
// failure).
const maxClientHints = 10_000

// Check returns a *ThrottledError when clientID, from the client address
// ip, must wait before its secret is evaluated again. A nil ClientThrottle
// throttles nothing.
func (c *ClientThrottle) Check(clientID, ip string) error {
	if c == nil {
		return nil
	}
	key := clientKey(Source(ip), clientID)
	c.mu.Lock()
	until, ok := c.blocked[key]
	c.mu.Unlock()
	if !ok {
		return nil
	}
	if wait := until.Sub(c.Now()); wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

// Failed counts a wrong secret of clientID from ip, in one atomic store
// step with the key locked, and records a failure event at most once a
// minute per client and source (A3). A nil ClientThrottle counts nothing.
func (c *ClientThrottle) Failed(ctx context.Context, clientID, ip string) error {
	if c == nil {
		return nil
	}
	src := Source(ip)
	key := clientKey(src, clientID)
	rule := c.Rule.or(DefaultClientRule)
	now := c.Now()
	var th store.Throttle
	err := c.Store.InTx(ctx, store.Routine, func(tx store.Tx) error {
		before, err := tx.LockThrottle(ctx, key)
		if err != nil {
			return err
		}
		var due bool
		th, due = rule.fail(before, now, true)
		if err := tx.PutThrottle(ctx, th); err != nil {
			return err
		}
		if !due {
			return nil
		}
		return tx.AddEvent(ctx, store.Event{At: now, Kind: store.EventClientAuthFailed, ClientID: clientID,
			Detail: fmt.Sprintf("from %s: %s", sourceOrUnknown(src), recentFailures(th.Failures))})
	})
	if err != nil {
		return fmt.Errorf("count failed authentication of client %s: %w", clientID, err)
	}
	c.remember(key, th.BlockedUntil, now)
	c.Logger.DebugContext(ctx, "client authentication failed", "event", "client_auth_failed", "client_id", clientID,
		"source", src, "failures", th.Failures)
	return nil
}

// remember keeps key's block for Check.
func (c *ClientThrottle) remember(key string, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !until.After(now) {
		delete(c.blocked, key)
		return
	}
	if c.blocked == nil {
		c.blocked = map[string]time.Time{}
	}
	if len(c.blocked) >= maxClientHints {
		for k, t := range c.blocked {
			if !t.After(now) {
				delete(c.blocked, k)
			}
		}
		if len(c.blocked) >= maxClientHints {
			clear(c.blocked)
		}
	}
	c.blocked[key] = until
}
