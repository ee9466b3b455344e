package rp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Session is one app session: a sign-in in progress, or a signed-in person
// with their tokens.
type Session struct {
	ID string
	// The sign-in in progress (PKCE, state, nonce).
	State, Nonce, Verifier string
	// Set once signed in.
	Subject, SID string
	Claims       map[string]any
	IDToken      string
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
}

// SignedIn reports whether the session holds a signed-in person.
func (s *Session) SignedIn() bool { return s != nil && s.Subject != "" }

// SessionStore keeps app sessions, findable by sid and sub so that a
// back-channel logout can end them.
type SessionStore interface {
	Get(ctx context.Context, id string) (*Session, error)
	Put(ctx context.Context, s *Session) error
	Delete(ctx context.Context, id string) error
	// EndBySID ends the sessions of one Sesame session (sid); EndBySubject
	// those of one person. They report how many ended.
	EndBySID(ctx context.Context, sid string) (int, error)
	EndBySubject(ctx context.Context, sub string) (int, error)
}

// Encoder is a SessionStore that keeps sessions in the cookie itself
// (CookieStore): the Client writes Encode(s) as the cookie value, and Get
// receives it back. Other stores are handed the session's ID.
type Encoder interface {
	Encode(s *Session) (string, error)
}

// MemoryStore is a SessionStore in memory, for one app instance.
type MemoryStore struct {
	mu       sync.Mutex
	sessions map[string]Session
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{sessions: map[string]Session{}} }

// Get returns a copy of the session, or ErrNoSession.
func (m *MemoryStore) Get(_ context.Context, id string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return nil, ErrNoSession
	}
	return &s, nil
}

// Put stores a copy of s.
func (m *MemoryStore) Put(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.ID] = *s
	return nil
}

// Delete removes a session.
func (m *MemoryStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, id)
	return nil
}

// EndBySID removes the sessions of one sid.
func (m *MemoryStore) EndBySID(_ context.Context, sid string) (int, error) {
	return m.endWhere(func(s Session) bool { return sid != "" && s.SID == sid }), nil
}

// EndBySubject removes the sessions of one sub.
func (m *MemoryStore) EndBySubject(_ context.Context, sub string) (int, error) {
	return m.endWhere(func(s Session) bool { return sub != "" && s.Subject == sub }), nil
}

func (m *MemoryStore) endWhere(match func(Session) bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, s := range m.sessions {
		if match(s) {
			delete(m.sessions, id)
			n++
		}
	}
	return n
}

// random returns n random bytes, base64url.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
