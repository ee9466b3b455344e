package demo

import (
	"context"
	"sync"
	"time"

	"github.com/sesame-id/sesame/rp"
)

// Sessions is an rp.MemoryStore that also remembers which app sessions
// Sesame told the app to end, and by which channel. Neither a logout token
// nor a front-channel request says why the session ended (and must not),
// so this is all the app can truly know: a browser that comes back with
// the cookie of such a session was signed out by Sesame telling the app,
// not by anything done in the app. Sessions the app ends itself (its own
// sign-out, Delete) are forgotten at once, so the logout Sesame sends for
// them afterwards changes nothing.
type Sessions struct {
	*rp.MemoryStore
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu       sync.Mutex
	live     map[string]rp.Session // signed-in session id → its sid, sub and Created
	notified map[string]notice     // session id → how Sesame told the app it ended
	swept    time.Time
}

// Channel is how Sesame told the app that a session ended.
type Channel string

// The channels of OpenID Connect logout an app hears from.
const (
	// Backchannel is a logout token Sesame posted to the app (Back-Channel
	// Logout 1.0).
	Backchannel Channel = "back-channel"
	// Frontchannel is the app's page loaded, with iss and sid, in a hidden
	// frame of Sesame's sign-out page (Front-Channel Logout 1.0).
	Frontchannel Channel = "front-channel"
)

// notice is what the app remembers of a session Sesame told it to end.
type notice struct {
	at time.Time
	by Channel
}

// NewSessions returns an empty store.
func NewSessions() *Sessions {
	return &Sessions{MemoryStore: rp.NewMemoryStore(), live: map[string]rp.Session{}, notified: map[string]notice{}}
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
// remembers them as notified by back-channel.
func (s *Sessions) EndBySID(ctx context.Context, sid string) (int, error) {
	return s.endBySID(ctx, sid, Backchannel)
}

// EndBySIDFrontchannel ends the sessions of a sid, as a front-channel
// logout asks, and remembers them as notified by front-channel. It is
// EndBySID but for the channel the page will name.
func (s *Sessions) EndBySIDFrontchannel(ctx context.Context, sid string) (int, error) {
	return s.endBySID(ctx, sid, Frontchannel)
}

func (s *Sessions) endBySID(ctx context.Context, sid string, by Channel) (int, error) {
	s.markNotified(by, func(x rp.Session) bool { return sid != "" && x.SID == sid })
	return s.MemoryStore.EndBySID(ctx, sid)
}

// EndBySubject ends the sessions of a sub, as a back-channel logout asks,
// and remembers them as notified by back-channel.
func (s *Sessions) EndBySubject(ctx context.Context, sub string) (int, error) {
	s.markNotified(Backchannel, func(x rp.Session) bool { return sub != "" && x.Subject == sub })
	return s.MemoryStore.EndBySubject(ctx, sub)
}

// markNotified moves the live sessions match selects to the notified
// ones. A session already ended (by the other channel, or by the app
// itself) is no longer live, so the first channel to arrive is the one
// remembered.
func (s *Sessions) markNotified(by Channel, match func(rp.Session) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for id, x := range s.live {
		if match(x) {
			s.notified[id] = notice{at: now, by: by}
			delete(s.live, id)
		}
	}
}

// Notified says by which channel Sesame told the app to end session id,
// or "" when it did not.
func (s *Sessions) Notified(id string) Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notified[id].by
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
	for id, n := range s.notified {
		if now.Sub(n.at) > s.MaxAge {
			delete(s.notified, id)
		}
	}
}
