package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestCacheIsBounded: however many distinct records are read, the cache
// holds at most Max, and a failed read (an unknown id) is never kept.
func TestCacheIsBounded(t *testing.T) {
	c := &Cache[string]{Max: 16}
	load := func(_ context.Context, id string) (string, error) { return "v-" + id, nil }
	for i := range 100 {
		if v, err := c.Get(t.Context(), fmt.Sprint(i), time.Minute, load); err != nil || v != fmt.Sprint("v-", i) {
			t.Fatalf("Get(%d) = %q, %v", i, v, err)
		}
		if len(c.records) > c.Max {
			t.Fatalf("%d records cached, bound %d", len(c.records), c.Max)
		}
	}
	missing := errors.New("no such record")
	for i := range 10 {
		id := fmt.Sprint("unknown-", i)
		if _, err := c.Get(t.Context(), id, time.Minute, func(context.Context, string) (string, error) { return "", missing }); !errors.Is(err, missing) {
			t.Fatalf("unknown record: %v", err)
		}
		if _, ok := c.records[id]; ok {
			t.Fatalf("unknown record %s cached", id)
		}
	}
}

// TestCacheForget: a record is reused until it is forgotten, then read
// again.
func TestCacheForget(t *testing.T) {
	var c Cache[int]
	reads := 0
	load := func(context.Context, string) (int, error) { reads++; return reads, nil }
	for range 3 {
		if v, _ := c.Get(t.Context(), "a", time.Minute, load); v != 1 {
			t.Fatalf("cached read = %d, want 1", v)
		}
	}
	c.Forget("a")
	if v, _ := c.Get(t.Context(), "a", time.Minute, load); v != 2 {
		t.Fatalf("after Forget = %d, want 2", v)
	}
	c.ForgetAll()
	if v, _ := c.Get(t.Context(), "a", time.Minute, load); v != 3 {
		t.Fatalf("after ForgetAll = %d, want 3", v)
	}
}
