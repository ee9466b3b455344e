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
