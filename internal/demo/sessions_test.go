package demo

import (
	"testing"
	"time"

	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/rptest"
)

// A back-channel or front-channel logout marks the sessions it ends as
// notified by that channel; a session the app ended itself is not, even
// when Sesame's logout for it arrives afterwards; the first channel to end
// a session is the one remembered; notices are forgotten after MaxAge.
func TestDemoSessionsRememberOnlyWhatTheyWereTold(t *testing.T) {
	now := time.Now()
	s := NewSessions()
	s.Now = func() time.Time { return now }
	ctx := t.Context()
	for _, x := range []*rp.Session{
		{ID: "told", SID: "sid-1", Subject: "alice", Created: now},
		{ID: "own", SID: "sid-2", Subject: "alice", Created: now},
		{ID: "other", SID: "sid-3", Subject: "bob", Created: now},
		{ID: "framed", SID: "sid-5", Subject: "alice", Created: now},
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
	if n, err := s.EndBySIDFrontchannel(ctx, "sid-5"); n != 1 || err != nil {
		t.Fatalf("front-channel logout of sid-5: %d sessions, %v", n, err)
	}
	// Each channel's logout for the session the other ended changes
	// nothing.
	if n, err := s.EndBySIDFrontchannel(ctx, "sid-1"); n != 0 || err != nil {
		t.Errorf("front-channel after back-channel: %d sessions, %v", n, err)
	}
	if n, err := s.EndBySID(ctx, "sid-5"); n != 0 || err != nil {
		t.Errorf("back-channel after front-channel: %d sessions, %v", n, err)
	}
	for id, want := range map[string]Channel{"told": Backchannel, "framed": Frontchannel, "own": "", "other": "", "unknown": ""} {
		if got := s.Notified(id); got != want {
			t.Errorf("Notified(%s) = %q, want %q", id, got, want)
		}
	}
	if _, err := s.EndBySubject(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if s.Notified("other") != Backchannel {
		t.Error("a logout by sub did not mark bob's session")
	}
	for _, id := range []string{"told", "framed"} {
		if _, err := s.Get(ctx, id); err == nil {
			t.Errorf("notified session %s still opens", id)
		}
	}

	now = now.Add(s.MaxAge + time.Hour)
	_ = s.Put(ctx, &rp.Session{ID: "later", SID: "sid-4", Subject: "carol", Created: now}) // sweeps
	if s.Notified("told") != "" || s.Notified("other") != "" || s.Notified("framed") != "" {
		t.Error("notices outlived MaxAge")
	}
}

// The demo's session store keeps the contract every rp.SessionStore must.
func TestDemoSessionsKeepTheSessionStoreContract(t *testing.T) {
	rptest.TestSessionStore(t, func() rp.SessionStore { return NewSessions() })
}
