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
// a rotated refresh token twice (Sesame would revoke the grant, design
// G4).
//
// That memory is per process: behind several app instances, use a
// server-side SessionStore instead (MemoryStore, or one on your database).
type CookieStore struct {
	aead cipher.AEAD
	// MaxAge bounds how long ended ids are remembered; it should be at
	// least the longest app session (default 14 days).
	MaxAge time.Duration

	mu     sync.Mutex
	ended  map[string]time.Time // "id:", "sid:", "sub:" + value → when
	latest map[string]Session
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

// sealed is what a cookie carries.
type sealed struct {
	Session
	Sealed time.Time `json:"sealed_at"`
}

// Encode seals s into a cookie value.
func (c *CookieStore) Encode(s *Session) (string, error) {
	b, err := json.Marshal(sealed{Session: *s, Sealed: time.Now()})
	if err != nil {
		return "", err
	}
	nonce := make([]byte, c.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(c.aead.Seal(nonce, nonce, b, nil)), nil
}

// Get opens a cookie value. A value that does not open, or a session a
// sign-out or back-channel logout ended, is ErrNoSession.
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
	var s sealed
	if err := json.Unmarshal(plain, &s); err != nil {
		return nil, ErrNoSession
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range []string{"id:" + s.ID, "sid:" + s.SID, "sub:" + s.Subject} {
		if at, ok := c.ended[k]; ok && !s.Sealed.After(at) {
			return nil, ErrNoSession
		}
	}
	if l, ok := c.latest[s.ID]; ok {
		return &l, nil // tokens rotated since this cookie was sealed
	}
	return &s.Session, nil
}

// Put remembers s as the latest state of its session; the caller writes
// the cookie (Encode).
func (c *CookieStore) Put(_ context.Context, s *Session) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.ended, "id:"+s.ID)
	if s.SignedIn() {
		c.latest[s.ID] = *s
	}
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
	c.end("sid:" + sid)
	return 0, nil
}

// EndBySubject ends every session of a sub.
func (c *CookieStore) EndBySubject(_ context.Context, sub string) (int, error) {
	c.end("sub:" + sub)
	return 0, nil
}

func (c *CookieStore) end(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.ended[key] = now
	for k, at := range c.ended {
		if now.Sub(at) > c.MaxAge {
			delete(c.ended, k)
		}
	}
	for id, s := range c.latest {
		if "sid:"+s.SID == key || "sub:"+s.Subject == key {
			delete(c.latest, id)
		}
	}
}
