package rp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"maps"
	"sync"
	"time"
)

// signInTimeout is how long a sign-in in progress (state, nonce, PKCE
// verifier) is kept: a person who has not come back from Sesame by then
// starts again.
const signInTimeout = time.Hour

// sweepEvery spaces the stores' sweeps of what they no longer need.
const sweepEvery = time.Minute

// Session is one app session: a sign-in in progress, or a signed-in person
// with their tokens.
type Session struct {
	// ID names the session in its store. It is new at each sign-in, so an
	// ID planted in a browser before sign-in never names a signed-in
	// session (session fixation).
	ID string
	// Created is when the session began: when the sign-in started, then
	// when the person came back signed in. A back-channel logout ends the
	// sessions of its sid or sub created before it.
	Created time.Time
	// The sign-in in progress (PKCE, state, nonce).
	State, Nonce, Verifier string
	// Set once signed in.
	Subject, SID string
	Claims       Claims
	IDToken      string
	// AccessToken is Sesame's own access token, for userinfo, valid until
	// Expiry; RefreshToken is set by a sign-in with offline_access, and
	// replaced at each refresh (Sesame rotates it).
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
	// ResourceTokens caches the JWT access tokens AccessTokenFor got for
	// APIs, by resource indicator.
	ResourceTokens map[string]ResourceToken
}

// ResourceToken is a JWT access token for one API (RFC 9068), as the
// token endpoint answered it for a resource (RFC 8707).
type ResourceToken struct {
	AccessToken string
	Expiry      time.Time
	// Scope is the space-separated scopes granted for the API.
	Scope string
}

// clone returns a copy of s that shares no map or slice with it, so a
// store can hand out a session the caller may change without changing the
// stored one.
func (s *Session) clone() *Session {
	c := *s
	c.Claims = s.Claims.clone()
	c.ResourceTokens = maps.Clone(s.ResourceTokens)
	return &c
}

// expired reports whether s is past its time at now: a sign-in left
// unfinished for signInTimeout, any session older than maxAge.
func (s *Session) expired(maxAge time.Duration, now time.Time) bool {
	age := now.Sub(s.Created)
	return age > maxAge || (!s.SignedIn() && age > signInTimeout)
}

// SignedIn reports whether the session holds a signed-in person.
func (s *Session) SignedIn() bool { return s != nil && s.Subject != "" }

// SessionStore keeps app sessions, findable by sid and sub so that a
// back-channel logout can end them. Package rp/rptest tests that a store
// keeps this contract.
//
// The Client reads a session, works (a refresh takes a round trip to
// Sesame), then writes it back with Update, which must be atomic: a
// session deleted or ended in between stays ended. That is what stops a
// refresh in flight from bringing a signed-out session back.
type SessionStore interface {
	// Get returns the session, or ErrNoSession. The caller may change
	// what it gets: that changes nothing stored until Update.
	Get(ctx context.Context, id string) (*Session, error)
	// Put stores a new session (the Client makes a new ID at each
	// sign-in).
	Put(ctx context.Context, s *Session) error
	// Update replaces a session only if it still exists and has not been
	// ended; otherwise it stores nothing and returns ErrSignedOut.
	Update(ctx context.Context, s *Session) error
	// Delete ends a session.
	Delete(ctx context.Context, id string) error
	// EndBySID ends the sessions of one Sesame session (sid); EndBySubject
	// those of one person. They report how many ended.
	EndBySID(ctx context.Context, sid string) (int, error)
	EndBySubject(ctx context.Context, sub string) (int, error)
}

// RefreshLocker is a SessionStore shared by several app instances that
// can serialise refreshes across them. Sesame rotates refresh tokens and
// treats a rotated one presented again as theft, revoking the grant
// (G4), so two instances refreshing one session at once would sign
// the person out. The Client always serialises refreshes within its own
// process; with a store that implements RefreshLocker it also holds this
// lock (a row lock or an advisory lock in the app's database, say) while
// it refreshes.
type RefreshLocker interface {
	// LockRefresh blocks until no other instance refreshes session id,
	// and returns the function that releases the lock.
	LockRefresh(ctx context.Context, id string) (unlock func(), err error)
}

// Encoder is a SessionStore that keeps sessions in the cookie itself
// (CookieStore): the Client writes Encode(s) as the cookie value, and Get
// receives it back. Other stores are handed the session's ID.
type Encoder interface {
	Encode(s *Session) (string, error)
}

// MemoryStore is a SessionStore in memory, for one app instance. Its
// sessions are indexed by sid and sub, so a back-channel logout finds them
// without a scan. It forgets sign-ins left unfinished after an hour and
// sessions older than MaxAge, so abandoned sign-ins do not pile up.
type MemoryStore struct {
	// MaxAge bounds a session's life from sign-in (default 14 days).
	MaxAge time.Duration

	mu       sync.Mutex
	sessions map[string]Session
	bySID    map[string]map[string]struct{} // sid → session ids
	bySub    map[string]map[string]struct{} // sub → session ids
	swept    time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{MaxAge: 14 * 24 * time.Hour, sessions: map[string]Session{},
		bySID: map[string]map[string]struct{}{}, bySub: map[string]map[string]struct{}{}}
}

// Get returns a copy of the session, or ErrNoSession.
func (m *MemoryStore) Get(_ context.Context, id string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok || m.stale(s, time.Now()) {
		return nil, ErrNoSession
	}
	return s.clone(), nil
}

// Put stores a copy of s.
func (m *MemoryStore) Put(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if now.Sub(m.swept) > sweepEvery {
		m.swept = now
		for id, x := range m.sessions {
			if m.stale(x, now) {
				m.removeLocked(id)
			}
		}
	}
	m.storeLocked(s)
	return nil
}

// Update replaces s if it is still stored.
func (m *MemoryStore) Update(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[s.ID]; !ok {
		return ErrSignedOut
	}
	m.storeLocked(s)
	return nil
}

// Delete removes a session.
func (m *MemoryStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(id)
	return nil
}

// EndBySID removes the sessions of one sid.
func (m *MemoryStore) EndBySID(_ context.Context, sid string) (int, error) {
	return m.endAll(m.bySID, sid), nil
}

// EndBySubject removes the sessions of one sub.
func (m *MemoryStore) EndBySubject(_ context.Context, sub string) (int, error) {
	return m.endAll(m.bySub, sub), nil
}

func (m *MemoryStore) endAll(index map[string]map[string]struct{}, key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id := range index[key] {
		m.removeLocked(id)
		n++
	}
	return n
}

func (m *MemoryStore) storeLocked(s *Session) {
	m.removeLocked(s.ID) // its sid or sub may have changed
	m.sessions[s.ID] = *s.clone()
	link(m.bySID, s.SID, s.ID)
	link(m.bySub, s.Subject, s.ID)
}

func (m *MemoryStore) removeLocked(id string) {
	s, ok := m.sessions[id]
	if !ok {
		return
	}
	delete(m.sessions, id)
	unlink(m.bySID, s.SID, id)
	unlink(m.bySub, s.Subject, id)
}

func link(index map[string]map[string]struct{}, key, id string) {
	if key == "" {
		return
	}
	if index[key] == nil {
		index[key] = map[string]struct{}{}
	}
	index[key][id] = struct{}{}
}

func unlink(index map[string]map[string]struct{}, key, id string) {
	delete(index[key], id)
	if len(index[key]) == 0 {
		delete(index, key)
	}
}

// stale reports a session past its time: an unfinished sign-in after
// signInTimeout, any session after MaxAge. A zero Created never goes stale
// (a session stored by hand).
func (m *MemoryStore) stale(s Session, now time.Time) bool {
	return !s.Created.IsZero() && s.expired(m.MaxAge, now)
}

// random returns n random bytes, base64url.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
