package session

import (
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// S4, spec A11, A12: prompt=login and an exceeded max_age need the password.
func TestNeedsLogin(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := &Service{Now: func() time.Time { return now }}
	sess := store.Session{AuthTime: now.Add(-10 * time.Minute)}
	cases := []struct {
		name   string
		prompt bool
		maxAge int64
		want   bool
	}{
		{"nothing asked", false, -1, false},
		{"prompt=login", true, -1, true},
		{"max_age not exceeded", false, 3600, false},
		{"max_age exceeded", false, 300, true},
		{"max_age=0", false, 0, true},
	}
	for _, c := range cases {
		if got := s.NeedsLogin(sess, c.prompt, c.maxAge); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}

// S1, S2: a new session has fresh ids and both expiries.
func TestNewSession(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := &Service{Now: func() time.Time { return now }, TTL: 14 * 24 * time.Hour, MaxTTL: 90 * 24 * time.Hour}
	a, ca := s.New("acct", []string{"pwd"}, Device{UserAgent: "ua", IP: "127.0.0.1"})
	b, cb := s.New("acct", []string{"pwd"}, Device{})
	if a.ID == b.ID || ca == cb || len(ca) < 43 {
		t.Error("sessions share identifiers")
	}
	if !a.ExpiresAt.Equal(now.Add(14*24*time.Hour)) || !a.MaxExpiresAt.Equal(now.Add(90*24*time.Hour)) {
		t.Errorf("expiry %v / %v", a.ExpiresAt, a.MaxExpiresAt)
	}
}

// S2: a use slides the expiry, but a session used within the last minute
// (or sixtieth of a short TTL) is not written again, so an SSO sign-in
// right after another writes nothing. A new session's sliding expiry never
// passes its absolute one.
func TestNeedsTouch(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		ttl  time.Duration
		ago  time.Duration
		want bool
	}{
		{"just used", 14 * 24 * time.Hour, 10 * time.Second, false},
		{"used 59 s ago", 14 * 24 * time.Hour, 59 * time.Second, false},
		{"used a minute ago", 14 * 24 * time.Hour, time.Minute, true},
		{"short TTL, used 10 s ago", 5 * time.Minute, 10 * time.Second, true},
		{"short TTL, used 4 s ago", 5 * time.Minute, 4 * time.Second, false},
	}
	for _, c := range cases {
		s := &Service{Now: func() time.Time { return now }, TTL: c.ttl}
		if got := s.NeedsTouch(store.Session{LastSeenAt: now.Add(-c.ago)}); got != c.want {
			t.Errorf("%s: NeedsTouch = %v", c.name, got)
		}
	}
	s := &Service{Now: func() time.Time { return now }, TTL: 2 * time.Hour, MaxTTL: time.Hour}
	if sess, _ := s.New("acct", nil, Device{}); !sess.ExpiresAt.Equal(sess.MaxExpiresAt) {
		t.Errorf("TTL past MaxTTL: expires %v, at the latest %v", sess.ExpiresAt, sess.MaxExpiresAt)
	}
}
