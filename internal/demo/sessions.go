package demo

import (
	"context"
	"sync"
	"time"

	"github.com/sesame-id/sesame/rp"
)

// Sessions is an rp.MemoryStore that also remembers which app sessions a
// back-channel logout ended. The logout token says nothing of why the
// session ended (and must not), so this is all the app can truly know: a
// browser that comes back with the cookie of such a session was signed out
// by Sesame telling the app, not by anything done in the app. Sessions the
// app ends itself (its own sign-out, Delete) are forgotten at once, so the
// back-channel logout Sesame sends for them afterwards changes nothing.
type Sessions struct {
	*rp.MemoryStore
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu       sync.Mutex
	live     map[string]rp.Session // signed-in session id → its sid, sub and Created
	notified map[string]time.Time  // session id → when a back-channel logout ended it
	swept    time.Time
}

// NewSessions returns an empty store.
func NewSessions() *Sessions {
	return &Sessions{MemoryStore: rp.NewMemoryStore(), live: map[string]rp.Session{}, notified: map[string]time.Time{}}
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Put stores x and, once it is signed in, notes whose it is.
func (s *Sessions) Put(ctx context.Context, x *rp.Session) error {
	s.mu.Lock()
	s.sweepLocked()
	if x.SignedIn() {
		s.live[x.ID] = rp.Session{SID: x.SID, Subject: x.Subject, Created: x.Created}
	}
	s.mu.Unlock()
	return s.MemoryStore.Put(ctx, x)
}

// Delete ends a session the app itself ended (its own sign-out, or the
// sign-in session replaced at the callback): it was not notified.
func (s *Sessions) Delete(ctx context.Context, id string) error {
	s.mu.Lock()
	delete(s.live, id)
	delete(s.notified, id)
	s.mu.Unlock()
	return s.MemoryStore.Delete(ctx, id)
}

// EndBySID ends the sessions of a sid, as a back-channel logout asks, and
// remembers them as notified.
func (s *Sessions) EndBySID(ctx context.Context, sid string) (int, error) {
	s.markNotified(func(x rp.Session) bool { return sid != "" && x.SID == sid })
	return s.MemoryStore.EndBySID(ctx, sid)
}

// EndBySubject ends the sessions of a sub, as a back-channel logout asks,
// and remembers them as notified.
func (s *Sessions) EndBySubject(ctx context.Context, sub string) (int, error) {
	s.markNotified(func(x rp.Session) bool { return sub != "" && x.Subject == sub })
	return s.MemoryStore.EndBySubject(ctx, sub)
}

func (s *Sessions) markNotified(match func(rp.Session) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for id, x := range s.live {
		if match(x) {
			s.notified[id] = now
			delete(s.live, id)
		}
	}
}

// Notified reports whether a back-channel logout ended session id.
func (s *Sessions) Notified(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.notified[id]
	return ok
}

// sweepLocked forgets, once a minute, sessions older than the store's
// MaxAge (their cookies no longer open) and notices as old, so the memory
// stays bounded by the sessions of the last MaxAge.
func (s *Sessions) sweepLocked() {
	now := s.now()
	if now.Sub(s.swept) < time.Minute {
		return
	}
	s.swept = now
	for id, x := range s.live {
		if !x.Created.IsZero() && now.Sub(x.Created) > s.MaxAge {
			delete(s.live, id)
		}
	}
	for id, at := range s.notified {
		if now.Sub(at) > s.MaxAge {
			delete(s.notified, id)
		}
	}
}
