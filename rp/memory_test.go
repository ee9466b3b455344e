package rp

import (
	"context"
	"sync"
	"testing"
	"time"
)

// The SDK's own memory holds only what is live: refresh locks go when
// their last holder leaves; unfinished sign-ins go after an hour and
// sessions after MaxAge; the cookie store forgets ended ids and latest
// tokens once their cookies could no longer open.
func TestMemoryIsBounded(t *testing.T) {
	c := &Client{refreshes: map[string]*refreshLock{}}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			unlock, err := c.lockRefresh(context.Background(), []string{"s1", "s2", "s3"}[i%3])
			if err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
			unlock()
		})
	}
	wg.Wait()
	if n := len(c.refreshes); n != 0 {
		t.Errorf("%d refresh locks left after every refresh ended", n)
	}
	// A waiter whose context ends gives up, and leaves nothing behind.
	unlock, _ := c.lockRefresh(context.Background(), "s1")
	waiting, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	if _, err := c.lockRefresh(waiting, "s1"); err != context.DeadlineExceeded {
		t.Errorf("a waiter past its deadline: %v", err)
	}
	cancel()
	unlock()
	if n := len(c.refreshes); n != 0 {
		t.Errorf("%d refresh locks left after a waiter gave up", n)
	}

	ctx := context.Background()
	m := NewMemoryStore()
	old := time.Now().Add(-2 * time.Hour)
	_ = m.Put(ctx, &Session{ID: "abandoned", Created: old, State: "s"})
	_ = m.Put(ctx, &Session{ID: "signed-in", Created: old, Subject: "alice"})
	_ = m.Put(ctx, &Session{ID: "ancient", Created: time.Now().Add(-15 * 24 * time.Hour), Subject: "bob"})
	if _, err := m.Get(ctx, "abandoned"); err != ErrNoSession {
		t.Errorf("a sign-in left for 2 h still opens: %v", err)
	}
	m.swept = time.Time{}
	_ = m.Put(ctx, &Session{ID: "new", Created: time.Now()})
	if _, ok := m.sessions["abandoned"]; ok {
		t.Error("the sweep kept an abandoned sign-in")
	}
	if _, ok := m.sessions["ancient"]; ok {
		t.Error("the sweep kept a session past MaxAge")
	}
	if _, err := m.Get(ctx, "signed-in"); err != nil {
		t.Errorf("the sweep took a live session: %v", err)
	}
	if _, ok := m.bySub["bob"]; ok {
		t.Error("the sub index still names a swept session")
	}
	_ = m.Put(ctx, &Session{ID: "signed-in", Created: time.Now(), Subject: "alice", SID: "sid-9"})
	if n, _ := m.EndBySubject(ctx, "alice"); n != 1 || len(m.bySID) != 0 || len(m.bySub) != 0 || len(m.sessions) != 1 {
		t.Errorf("ending alice's session: %d ended, indexes %v %v, %d sessions left (want only \"new\")", n, m.bySID, m.bySub, len(m.sessions))
	}

	cs, err := NewCookieStore([]byte("a cookie secret of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	cs.MaxAge = time.Hour
	_ = cs.Put(ctx, &Session{ID: "live", Created: time.Now(), Subject: "alice"})
	_ = cs.Put(ctx, &Session{ID: "stale", Created: time.Now().Add(-2 * time.Hour), Subject: "bob"})
	_ = cs.Delete(ctx, "gone")
	cs.ended["id:long-gone"] = time.Now().Add(-2 * time.Hour)
	cs.swept = time.Time{}
	_ = cs.Put(ctx, &Session{ID: "another", Created: time.Now(), Subject: "carol"})
	if _, ok := cs.latest["stale"]; ok {
		t.Error("the cookie store kept tokens of a session past MaxAge")
	}
	if _, ok := cs.ended["id:long-gone"]; ok {
		t.Error("the cookie store kept an ended id past MaxAge")
	}
	if _, ok := cs.latest["live"]; !ok {
		t.Error("the cookie store forgot a live session's tokens")
	}
	if _, ok := cs.ended["id:gone"]; !ok {
		t.Error("the cookie store forgot a recent sign-out")
	}
}
