package account

import (
	"fmt"
	"testing"
	"time"
)

// TestClientHintsAreBounded: ClientThrottle's in-memory hints never hold
// more than maxClientHints keys however many sources fail (A4, design §5:
// memory stays bounded), and the hints that ended go first.
func TestClientHintsAreBounded(t *testing.T) {
	var c ClientThrottle
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for i := range maxClientHints + 500 {
		c.remember(fmt.Sprint("live-", i), now.Add(time.Minute), now)
		if len(c.blocked) > maxClientHints {
			t.Fatalf("%d hints kept, bound %d", len(c.blocked), maxClientHints)
		}
	}

	// Full of hints that have ended by later: a new one drops them, and
	// a live one made meanwhile stays.
	c = ClientThrottle{}
	for i := range maxClientHints - 1 {
		c.remember(fmt.Sprint("ended-", i), now.Add(time.Second), now)
	}
	later := now.Add(time.Minute)
	c.remember("still-live", later.Add(time.Hour), now)
	c.remember("new", later.Add(time.Minute), later)
	if _, ok := c.blocked["still-live"]; !ok || len(c.blocked) != 2 {
		t.Errorf("after the ended hints went: %d kept, still-live kept %v; want 2 and true", len(c.blocked), ok)
	}
}
