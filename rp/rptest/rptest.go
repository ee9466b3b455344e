// Package rptest tests that an implementation of rp.SessionStore keeps
// the contract rp.Client relies on, as testing/fstest does for file
// systems. A store of the app's own (on its database, say) runs it from a
// test:
//
//	func TestMyStore(t *testing.T) {
//		rptest.TestSessionStore(t, func() rp.SessionStore { return newMyStore(t) })
//	}
//
// It checks that a session comes back as it was stored, every field
// (ResourceTokens included); that Get hands out a copy; that Update is
// conditional (a session deleted, or ended by sid or sub, stays ended:
// ErrSignedOut); that EndBySID and EndBySubject end exactly the sessions
// they name; that concurrent use is safe, and a Delete racing an Update
// always wins; and, for a store that is also an rp.RefreshLocker, that the
// lock excludes. Expiry is not part of the interface, so not tested here.
package rptest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/rp"
)

// TestSessionStore runs the conformance tests as subtests of t. newStore
// is called once per subtest and returns an empty store.
func TestSessionStore(t *testing.T, newStore func() rp.SessionStore) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore()) })
	t.Run("GetUnknown", func(t *testing.T) { testGetUnknown(t, newStore()) })
	t.Run("GetReturnsACopy", func(t *testing.T) { testGetReturnsACopy(t, newStore()) })
	t.Run("UpdateIsConditional", func(t *testing.T) { testUpdateIsConditional(t, newStore()) })
	t.Run("EndBySIDAndSubject", func(t *testing.T) { testEndBy(t, newStore()) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore()) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newStore()) })
	t.Run("DeleteRacingUpdate", func(t *testing.T) { testDeleteRacingUpdate(t, newStore()) })
	t.Run("RefreshLocker", func(t *testing.T) { testRefreshLocker(t, newStore()) })
}

// created is a session's start, a minute ago, to the second: stores may
// keep times to the microsecond only.
func created() time.Time { return time.Now().Add(-time.Minute).Truncate(time.Second) }

// signedIn is a signed-in session with every field set.
func signedIn(id, sid, sub string) *rp.Session {
	now := created()
	return &rp.Session{
		ID: id, Created: now, Subject: sub, SID: sid,
		Claims: rp.Claims{Issuer: "https://sesame.example/oidc", Subject: sub, SessionID: sid, AuthTime: now.Add(-time.Hour),
			AMR: []string{"pwd"}, ACR: "1", Name: "Alice Example", PreferredUsername: "alice", Email: "alice@example.com",
			EmailVerified: true, UpdatedAt: now.Add(-24 * time.Hour)},
		IDToken: "eyJ.id." + id, AccessToken: "at-" + id, RefreshToken: "rt-" + id, Expiry: now.Add(time.Hour),
		ResourceTokens: map[string]rp.ResourceToken{
			"https://api.example.com/orders":  {AccessToken: "jwt-orders-" + id, Expiry: now.Add(time.Hour), Scope: "read:orders"},
			"https://api.example.com/billing": {AccessToken: "jwt-billing-" + id, Expiry: now.Add(2 * time.Hour), Scope: "read:invoices write:invoices"},
		},
	}
}

// key is what the Client hands Get for s: the sealed session for a store
// that keeps it in the cookie (rp.Encoder), its ID otherwise.
func key(t *testing.T, store rp.SessionStore, s *rp.Session) string {
	t.Helper()
	enc, ok := store.(rp.Encoder)
	if !ok {
		return s.ID
	}
	v, err := enc.Encode(s)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return v
}

func put(t *testing.T, store rp.SessionStore, s *rp.Session) string {
	t.Helper()
	k := key(t, store, s)
	if err := store.Put(t.Context(), s); err != nil {
		t.Fatalf("Put %s: %v", s.ID, err)
	}
	return k
}

// same reports whether two sessions are equal, times compared as
// instants (a store may give them back in another location).
func same(a, b *rp.Session) bool {
	return reflect.DeepEqual(normal(a), normal(b))
}

func normal(s *rp.Session) rp.Session {
	n := *s
	n.Created, n.Expiry = n.Created.UTC(), n.Expiry.UTC()
	n.Claims.AuthTime, n.Claims.UpdatedAt = n.Claims.AuthTime.UTC(), n.Claims.UpdatedAt.UTC()
	if len(s.ResourceTokens) > 0 {
		n.ResourceTokens = map[string]rp.ResourceToken{}
		for k, v := range s.ResourceTokens {
			v.Expiry = v.Expiry.UTC()
			n.ResourceTokens[k] = v
		}
	} else {
		n.ResourceTokens = nil
	}
	if len(n.Claims.AMR) == 0 {
		n.Claims.AMR = nil
	}
	return n
}

func mustGet(t *testing.T, store rp.SessionStore, k string) *rp.Session {
	t.Helper()
	s, err := store.Get(t.Context(), k)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return s
}

func gone(t *testing.T, store rp.SessionStore, k, what string) {
	t.Helper()
	if s, err := store.Get(t.Context(), k); !errors.Is(err, rp.ErrNoSession) {
		t.Errorf("%s: Get gave %+v, %v; want ErrNoSession", what, s, err)
	}
}

// A signed-in session, and a sign-in in progress, come back as stored.
func testRoundTrip(t *testing.T, store rp.SessionStore) {
	s := signedIn("round-trip", "sid-rt", "sub-rt")
	k := put(t, store, s)
	if got := mustGet(t, store, k); !same(got, s) {
		t.Errorf("Get\n %+v\nwant\n %+v", normal(got), normal(s))
	}
	pending := &rp.Session{ID: "pending", Created: created(), State: "st", Nonce: "no", Verifier: "ve"}
	k = put(t, store, pending)
	if got := mustGet(t, store, k); !same(got, pending) {
		t.Errorf("a sign-in in progress: Get\n %+v\nwant\n %+v", normal(got), normal(pending))
	}
}

func testGetUnknown(t *testing.T, store rp.SessionStore) {
	if _, ok := store.(rp.Encoder); ok {
		gone(t, store, "not-a-sealed-session", "a value that does not open")
		return
	}
	gone(t, store, "no-such-session", "an unknown id")
}

// What Get returns is the caller's: changing it, maps and slices
// included, changes nothing stored until Update.
func testGetReturnsACopy(t *testing.T, store rp.SessionStore) {
	s := signedIn("copy", "sid-copy", "sub-copy")
	k := put(t, store, s)
	got := mustGet(t, store, k)
	got.AccessToken = "changed"
	got.ResourceTokens["https://api.example.com/orders"] = rp.ResourceToken{AccessToken: "changed"}
	got.ResourceTokens["https://new.example"] = rp.ResourceToken{AccessToken: "added"}
	got.Claims.AMR[0] = "changed"
	if again := mustGet(t, store, k); !same(again, s) {
		t.Errorf("changing what Get returned changed the store: %+v", normal(again))
	}
	// Nor does changing what was given to Put, after the call.
	s.ResourceTokens["https://api.example.com/orders"] = rp.ResourceToken{AccessToken: "changed after Put"}
	if again := mustGet(t, store, k); again.ResourceTokens["https://api.example.com/orders"].AccessToken != "jwt-orders-copy" {
		t.Errorf("changing the session after Put changed the store: %+v", again.ResourceTokens)
	}
}

// Update replaces a live session, and stores nothing for one that was
// deleted or ended by sid or sub in the meantime: that is what keeps a
// refresh in flight from undoing a sign-out.
func testUpdateIsConditional(t *testing.T, store rp.SessionStore) {
	ctx := t.Context()
	s := signedIn("update", "sid-update", "sub-update")
	k := put(t, store, s)
	s.AccessToken, s.RefreshToken = "at-2", "rt-2"
	s.ResourceTokens = map[string]rp.ResourceToken{"https://api.example.com/orders": {AccessToken: "jwt-2", Expiry: created().Add(time.Hour)}}
	if err := store.Update(ctx, s); err != nil {
		t.Fatalf("Update of a live session: %v", err)
	}
	if got := mustGet(t, store, k); !same(got, s) {
		t.Errorf("after Update: %+v, want %+v", normal(got), normal(s))
	}
	for name, end := range map[string]func(*rp.Session) error{
		"Delete":       func(x *rp.Session) error { return store.Delete(ctx, x.ID) },
		"EndBySID":     func(x *rp.Session) error { _, err := store.EndBySID(ctx, x.SID); return err },
		"EndBySubject": func(x *rp.Session) error { _, err := store.EndBySubject(ctx, x.Subject); return err },
	} {
		x := signedIn("ended-by-"+name, "sid-"+name, "sub-"+name)
		k := put(t, store, x)
		if err := end(x); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x.AccessToken = "refreshed"
		if err := store.Update(ctx, x); !errors.Is(err, rp.ErrSignedOut) {
			t.Errorf("Update after %s: %v, want ErrSignedOut", name, err)
		}
		gone(t, store, k, "after "+name+" and Update")
	}
}

// EndBySID and EndBySubject end exactly the sessions they name, never a
// sign-in in progress (which has neither), and report how many (a store
// that keeps sessions in the browser may report 0: it cannot know).
func testEndBy(t *testing.T, store rp.SessionStore) {
	ctx := t.Context()
	_, sealed := store.(rp.Encoder)
	a := put(t, store, signedIn("a", "sid-a", "alice"))
	b := put(t, store, signedIn("b", "sid-b", "alice"))
	c := put(t, store, signedIn("c", "sid-c", "bob"))
	p := put(t, store, &rp.Session{ID: "pending", Created: created(), State: "st"})
	count := func(what string, n int, err error, want int) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n != want && !(sealed && n == 0) {
			t.Errorf("%s ended %d sessions, want %d", what, n, want)
		}
	}
	n, err := store.EndBySID(ctx, "sid-a")
	count("EndBySID(sid-a)", n, err, 1)
	gone(t, store, a, "a, after EndBySID(sid-a)")
	mustGet(t, store, b)
	mustGet(t, store, c)
	n, err = store.EndBySubject(ctx, "alice")
	count("EndBySubject(alice)", n, err, 1)
	gone(t, store, b, "b, after EndBySubject(alice)")
	mustGet(t, store, c)
	n, err = store.EndBySID(ctx, "sid-unknown")
	count("EndBySID(unknown)", n, err, 0)
	n, err = store.EndBySID(ctx, "")
	count(`EndBySID("")`, n, err, 0)
	n, err = store.EndBySubject(ctx, "")
	count(`EndBySubject("")`, n, err, 0)
	mustGet(t, store, c)
	mustGet(t, store, p)
}

func testDelete(t *testing.T, store rp.SessionStore) {
	ctx := t.Context()
	k := put(t, store, signedIn("del", "sid-del", "sub-del"))
	if err := store.Delete(ctx, "del"); err != nil {
		t.Fatal(err)
	}
	gone(t, store, k, "after Delete")
	if err := store.Delete(ctx, "never-stored"); err != nil {
		t.Errorf("Delete of an unknown session: %v, want nil (signing out twice is no error)", err)
	}
}

// Many sessions used at once, each through its whole life.
func testConcurrent(t *testing.T, store rp.SessionStore) {
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			id := fmt.Sprintf("c-%d", i)
			s := signedIn(id, "sid-"+id, "sub-"+id)
			k := key(t, store, s)
			if err := store.Put(ctx, s); err != nil {
				t.Errorf("Put %s: %v", id, err)
				return
			}
			got, err := store.Get(ctx, k)
			if err != nil || !same(got, s) {
				t.Errorf("Get %s: %+v %v", id, got, err)
				return
			}
			got.AccessToken = "at-2-" + id
			if err := store.Update(ctx, got); err != nil {
				t.Errorf("Update %s: %v", id, err)
			}
			if again, err := store.Get(ctx, k); err != nil || again.AccessToken != "at-2-"+id {
				t.Errorf("Get %s after Update: %+v %v", id, again, err)
			}
			if i%2 == 0 {
				_ = store.Delete(ctx, id)
			} else {
				_, _ = store.EndBySID(ctx, "sid-"+id)
			}
			if _, err := store.Get(ctx, k); !errors.Is(err, rp.ErrNoSession) {
				t.Errorf("Get %s after it ended: %v", id, err)
			}
		})
	}
	wg.Wait()
}

// A sign-out racing a refresh's Update, in either order, leaves the
// session ended.
func testDeleteRacingUpdate(t *testing.T, store rp.SessionStore) {
	ctx := t.Context()
	for round := range 50 {
		id := fmt.Sprintf("race-%d", round)
		s := signedIn(id, "sid-"+id, "sub-"+id)
		k := put(t, store, s)
		refreshed := mustGet(t, store, k)
		refreshed.RefreshToken = "rotated"
		var wg sync.WaitGroup
		wg.Go(func() { _ = store.Update(ctx, refreshed) })
		wg.Go(func() {
			if round%2 == 0 {
				_ = store.Delete(ctx, id)
			} else {
				_, _ = store.EndBySID(ctx, "sid-"+id)
			}
		})
		wg.Wait()
		if got, err := store.Get(ctx, k); !errors.Is(err, rp.ErrNoSession) {
			t.Fatalf("round %d: a sign-out raced an Update and the session is back: %+v %v", round, got, err)
		}
	}
}

// A RefreshLocker's lock on one session excludes a second holder until
// released, and does not hold up another session.
func testRefreshLocker(t *testing.T, store rp.SessionStore) {
	l, ok := store.(rp.RefreshLocker)
	if !ok {
		t.Skip("the store is not an rp.RefreshLocker")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	unlock, err := l.LockRefresh(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.LockRefresh(ctx, "s2")
	if err != nil {
		t.Fatalf("the lock of s1 held up s2: %v", err)
	}
	other()
	got := make(chan func(), 1)
	go func() {
		u, err := l.LockRefresh(ctx, "s1")
		if err != nil {
			t.Errorf("second LockRefresh(s1): %v", err)
			u = func() {}
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("two holders of the lock of s1 at once")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		u()
	case <-ctx.Done():
		t.Fatal("the lock of s1 was not handed on after its unlock")
	}
}
