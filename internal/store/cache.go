package store

import (
	"context"
	"sync"
	"time"
)

// Cache keeps records read by id in memory for a while (design §2: each
// instance may cache clients, keys and accounts). It is kept true by
// Forget and ForgetAll, which the server calls for every Change it hears:
// both databases report every instance's and process's commits (Watch),
// so the time a record is reused only bounds the damage of a
// notification that never came.
//
// It holds at most Max records; past that it starts again empty, so
// nothing a flood of requests sends can grow it (only records that exist
// get in).
type Cache[T any] struct {
	// Max bounds the number of records kept (default 1024).
	Max int

	mu      sync.Mutex
	records map[string]cached[T]
}

type cached[T any] struct {
	v       T
	expires time.Time
}

// Get returns the record id from the cache if it was read less than ttl
// ago (a zero ttl is one second), or else from load, whose error is
// returned as is and whose result is kept only when it succeeds.
func (c *Cache[T]) Get(ctx context.Context, id string, ttl time.Duration, load func(ctx context.Context, id string) (T, error)) (T, error) {
	now := time.Now() // the cache runs on the wall clock, whatever the domain's clock
	c.mu.Lock()
	hit, ok := c.records[id]
	c.mu.Unlock()
	if ok && now.Before(hit.expires) {
		return hit.v, nil
	}
	v, err := load(ctx, id)
	if err != nil {
		return v, err
	}
	limit := c.Max
	if ttl <= 0 {
		ttl = time.Second
	}
	if limit <= 0 {
		limit = 1024
	}
	c.mu.Lock()
	if c.records == nil || len(c.records) >= limit {
		c.records = map[string]cached[T]{}
	}
	c.records[id] = cached[T]{v: v, expires: now.Add(ttl)}
	c.mu.Unlock()
	return v, nil
}

// Forget drops one record, after it changed.
func (c *Cache[T]) Forget(id string) {
	c.mu.Lock()
	delete(c.records, id)
	c.mu.Unlock()
}

// ForgetAll empties the cache, after changes may have been missed.
func (c *Cache[T]) ForgetAll() {
	c.mu.Lock()
	clear(c.records)
	c.mu.Unlock()
}
