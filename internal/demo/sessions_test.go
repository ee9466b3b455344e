package demo

import (
	"testing"
	"time"

	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/rptest"
)

// A back-channel logout marks the sessions it ends as notified; a session
// the app ended itself is not, even when Sesame's logout for it arrives
// afterwards; notices are forgotten after MaxAge.
func TestDemoSessionsRememberOnlyWhatTheyWereTold(t *testing.T) {
	now := time.Now()
	s := NewSessions()
	s.Now = func() time.Time { return now }
	ctx := t.Context()
	for _, x := range []*rp.Session{
		{ID: "told", SID: "sid-1", Subject: "alice", Created: now},
		{ID: "own", SID: "sid-2", Subject: "alice", Created: now},
		{ID: "other", SID: "sid-3", Subject: "bob", Created: now},
	} {
		if err := s.Put(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "own"); err != nil { // the app's own sign-out
		t.Fatal(err)
	}
	if _, err := s.EndBySID(ctx, "sid-2"); err != nil { // Sesame's logout for it, later
		t.Fatal(err)
	}
	if _, err := s.EndBySID(ctx, "sid-1"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"told": true, "own": false, "other": false, "unknown": false} {
		if got := s.Notified(id); got != want {
			t.Errorf("Notified(%s) = %v, want %v", id, got, want)
		}
	}
	if _, err := s.EndBySubject(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if !s.Notified("other") {
		t.Error("a logout by sub did not mark bob's session")
	}
	if _, err := s.Get(ctx, "told"); err == nil {
		t.Error("a notified session still opens")
	}

	now = now.Add(s.MaxAge + time.Hour)
	_ = s.Put(ctx, &rp.Session{ID: "later", SID: "sid-4", Subject: "carol", Created: now}) // sweeps
	if s.Notified("told") || s.Notified("other") {
		t.Error("notices outlived MaxAge")
	}
}

// The demo's session store keeps the contract every rp.SessionStore must.
func TestDemoSessionsKeepTheSessionStoreContract(t *testing.T) {
	rptest.TestSessionStore(t, func() rp.SessionStore { return NewSessions() })
}
