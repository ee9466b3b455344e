package rp

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// CookieStore keeps each app session in the browser, in its session
// cookie, sealed with AES-256-GCM (signed and encrypted). It keeps in
// memory only what a cookie cannot carry: which sessions a back-channel
// logout or a sign-out ended (by id, sid and sub), and each session's
// latest tokens, so that two requests carrying one old cookie never present
// a rotated refresh token twice (Sesame would revoke the grant: G4).
// Both are forgotten after MaxAge, when the cookies they concern no
// longer open anyway.
//
// The JWT access tokens AccessTokenFor caches (Session.ResourceTokens)
// are kept in that memory only, never in the cookie, which could not hold
// many of them within a browser's 4 KB: after a restart the first call for
// an API refreshes again.
//
// That memory is per process: behind several app instances, use a
// server-side SessionStore instead (MemoryStore, or one on your database).
type CookieStore struct {
	aead cipher.AEAD
	// MaxAge bounds a session's life from sign-in (default 14 days): an
	// older cookie no longer opens.
	MaxAge time.Duration

	mu     sync.Mutex
	ended  map[string]time.Time // "id:", "sid:", "sub:" + value → when
	latest map[string]Session
	swept  time.Time
}

// NewCookieStore derives the sealing key from secret (at least 32 bytes).
func NewCookieStore(secret []byte) (*CookieStore, error) {
	if len(secret) < 32 {
		return nil, errors.New("rp: cookie store secret must be at least 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "sesame rp cookie sessions", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &CookieStore{aead: aead, MaxAge: 14 * 24 * time.Hour, ended: map[string]time.Time{}, latest: map[string]Session{}}, nil
}

// Encode seals s into a cookie value. A session without Created is
// stamped now: the cookie's age is what MaxAge bounds.
func (c *CookieStore) Encode(s *Session) (string, error) {
	if s.Created.IsZero() {
		s.Created = time.Now()
	}
	sealed := *s
	sealed.ResourceTokens = nil
	b, err := json.Marshal(&sealed)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, c.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(c.aead.Seal(nonce, nonce, b, nil)), nil
}

// Get opens a cookie value. A value that does not open, a session past its
// time, or one a sign-out or back-channel logout ended, is ErrNoSession.
func (c *CookieStore) Get(_ context.Context, value string) (*Session, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	n := c.aead.NonceSize()
	if err != nil || len(raw) < n {
		return nil, ErrNoSession
	}
	plain, err := c.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return nil, ErrNoSession
	}
	var s Session
	if err := json.Unmarshal(plain, &s); err != nil {
		return nil, ErrNoSession
	}
	if s.Created.IsZero() || s.expired(c.MaxAge, time.Now()) {
		return nil, ErrNoSession
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endedLocked(&s) {
		return nil, ErrNoSession
	}
	if l, ok := c.latest[s.ID]; ok {
		return l.clone(), nil // tokens rotated since this cookie was sealed
	}
	return &s, nil
}

// Put remembers s as the latest state of its session; the caller writes
// the cookie (Encode).
func (c *CookieStore) Put(_ context.Context, s *Session) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(time.Now())
	if s.SignedIn() {
		c.latest[s.ID] = *s.clone()
	}
	return nil
}

// Update is Put for a session that has not ended; an ended one stays
// ended (ErrSignedOut).
func (c *CookieStore) Update(_ context.Context, s *Session) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endedLocked(s) {
		return ErrSignedOut
	}
	c.latest[s.ID] = *s.clone()
	return nil
}

// Delete ends a session: its cookie no longer opens.
func (c *CookieStore) Delete(_ context.Context, id string) error {
	c.end("id:" + id)
	c.mu.Lock()
	delete(c.latest, id)
	c.mu.Unlock()
	return nil
}

// EndBySID ends every session of a sid. The count is unknown (the sessions
// are in browsers): it reports 0.
func (c *CookieStore) EndBySID(_ context.Context, sid string) (int, error) {
	if sid != "" {
		c.end("sid:" + sid)
	}
	return 0, nil
}

// EndBySubject ends every session of a sub.
func (c *CookieStore) EndBySubject(_ context.Context, sub string) (int, error) {
	if sub != "" {
		c.end("sub:" + sub)
	}
	return 0, nil
}

// endedLocked reports whether s was deleted, or began before a logout of
// its sid or sub.
func (c *CookieStore) endedLocked(s *Session) bool {
	if _, ok := c.ended["id:"+s.ID]; ok {
		return true
	}
	endedSince := func(key, value string) bool {
		at, ok := c.ended[key+value]
		return value != "" && ok && !s.Created.After(at)
	}
	return endedSince("sid:", s.SID) || endedSince("sub:", s.Subject)
}

func (c *CookieStore) end(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.ended[key] = now
	for id, s := range c.latest {
		if "sid:"+s.SID == key || "sub:"+s.Subject == key {
			delete(c.latest, id)
		}
	}
	c.sweepLocked(now)
}

// sweepLocked forgets, at most once a minute, what concerns only cookies
// past MaxAge.
func (c *CookieStore) sweepLocked(now time.Time) {
	if now.Sub(c.swept) < sweepEvery {
		return
	}
	c.swept = now
	for k, at := range c.ended {
		if now.Sub(at) > c.MaxAge {
			delete(c.ended, k)
		}
	}
	for id, l := range c.latest {
		if l.expired(c.MaxAge, now) {
			delete(c.latest, id)
		}
	}
}
