package oidc_test

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// design §1 Lifetimes: the sweeper deletes expired codes, tokens, sessions
// and grants, so the database stops growing; live rows stay.
func TestSweeperDeletesWhatExpired(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	b.SignIn(sesametest.AppA, "alice", nil) // a code never redeemed: sealed, nothing stored
	tok := b.SignedIn(sesametest.AppB, "alice", sesametest.Offline())
	sweeper := &store.Sweeper{Store: s.Store, Interval: time.Minute, Now: s.Clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	sweeper.Once(t.Context())
	if _, err := s.Store.RefreshToken(t.Context(), token.Key(tok.RefreshToken)); err != nil {
		t.Fatalf("a live refresh token was swept: %v", err)
	}
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	grants, _ := s.Store.GrantsByAccount(t.Context(), acct.ID)
	if len(grants) != 2 {
		t.Fatalf("grants %d", len(grants))
	}

	s.Clock.Advance(181 * 24 * time.Hour) // past every lifetime, grants included
	sweeper.Once(t.Context())
	checks := map[string]error{}
	_, checks["access token"] = s.Store.AccessToken(t.Context(), token.Key(tok.AccessToken))
	_, checks["refresh token"] = s.Store.RefreshToken(t.Context(), token.Key(tok.RefreshToken))
	for what, err := range checks {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired %s not swept: %v", what, err)
		}
	}
	if sessions, _ := s.Store.SessionsByAccount(t.Context(), acct.ID); len(sessions) != 0 {
		t.Errorf("%d expired sessions left", len(sessions))
	}
	if grants, _ := s.Store.GrantsByAccount(t.Context(), acct.ID); len(grants) != 0 {
		t.Errorf("%d expired grants left", len(grants))
	}
}
