package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var sweepTests = []test{
	{"SweepDeletesExactlyTheExpired", testSweepDeletesExactlyTheExpired},
}

// testSweepDeletesExactlyTheExpired: the sweeper removes what can no longer
// be used and keeps what can (design §1 Lifetimes): a used refresh token
// stays until it expires, so its reuse is still recognised (design G4); a
// revoked grant stays a day, so the account page can say why.
func testSweepDeletesExactlyTheExpired(t *testing.T, s store.Store) {
	const (
		hour = time.Hour
		day  = 24 * time.Hour
	)
	sessions := map[string]struct {
		expires, max time.Duration
		gone         bool
	}{
		"s-live": {hour, day, false},
		"s-idle": {-time.Second, day, true},
		"s-max":  {hour, -time.Second, true},
		"s-edge": {0, 0, false}, // expiring exactly now: not before now
	}
	requests := map[string]struct {
		expires time.Duration
		gone    bool
	}{"r-live": {time.Minute, false}, "r-old": {-time.Minute, true}}
	codes := map[string]struct {
		expires time.Duration
		gone    bool
	}{"c-live": {time.Minute, false}, "c-old": {-time.Second, true}}
	grants := map[string]struct {
		expires, revoked time.Duration // revoked 0: not revoked
		gone             bool
	}{
		"g-live":           {day, 0, false},
		"g-expired":        {-time.Second, 0, true},
		"g-revoked-recent": {day, -hour, false},
		"g-revoked-old":    {day, -25 * hour, true},
	}
	tokens := map[string]struct {
		grant   string
		expires time.Duration
		used    bool
		gone    bool
	}{
		"live":             {"g-live", hour, false, false},
		"used":             {"g-live", hour, true, false},
		"old":              {"g-live", -time.Second, false, true},
		"of-revoked-grant": {"g-revoked-recent", hour, false, true},
		"of-expired-grant": {"g-expired", hour, false, true},
		"of-long-revoked":  {"g-revoked-old", hour, false, true},
	}
	// Throttle keys by when they expire: gone when before now.
	failures := map[time.Duration]bool{-time.Second: true, 0: false, time.Minute: false}

	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for id, c := range sessions {
			sess := fullSession(id, "acct")
			sess.ExpiresAt, sess.MaxExpiresAt = at(c.expires), at(c.max)
			must(t, id, tx.CreateSession(ctx, sess))
			must(t, id, tx.PutAuthorization(ctx, fullAuthorization(id, "app")))
		}
		for id, c := range requests {
			r := fullAuthRequest(id)
			r.ExpiresAt = at(c.expires)
			must(t, id, tx.CreateAuthRequest(ctx, r))
		}
		for value, c := range codes {
			code := liveAuthCode(value)
			code.ExpiresAt = at(c.expires)
			must(t, value, tx.CreateAuthCode(ctx, code))
		}
		for id, c := range grants {
			g := liveGrant(id, "acct", "app")
			g.ExpiresAt = at(c.expires)
			if c.revoked != 0 {
				g.RevokedAt, g.RevokeReason = at(c.revoked), "test"
			}
			must(t, id, tx.CreateGrant(ctx, g))
		}
		for value, c := range tokens {
			a := liveAccessToken("at-"+value, c.grant, "family")
			a.ExpiresAt = at(c.expires)
			must(t, value, tx.CreateAccessToken(ctx, a))
			r := liveRefreshToken("rt-"+value, c.grant, "family")
			r.ExpiresAt = at(c.expires)
			if c.used {
				r.UsedAt = at(-time.Minute)
			}
			must(t, value, tx.CreateRefreshToken(ctx, r))
		}
		for d := range failures {
			must(t, "throttle", tx.PutThrottle(ctx, store.Throttle{Key: "acct:192.0.2.1|" + d.String(), Failures: 1, ExpiresAt: at(d)}))
		}
		return nil
	})

	var wantGone int64
	for _, c := range sessions {
		wantGone += b2i(c.gone)
	}
	for _, c := range requests {
		wantGone += b2i(c.gone)
	}
	for _, c := range codes {
		wantGone += b2i(c.gone)
	}
	for _, c := range grants {
		wantGone += b2i(c.gone)
	}
	for _, c := range tokens {
		wantGone += 2 * b2i(c.gone) // one access and one refresh token
	}
	for _, gone := range failures {
		wantGone += b2i(gone)
	}

	var n int64
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		n, err = tx.Sweep(ctx, t0)
		return err
	})
	if n != wantGone {
		t.Errorf("Sweep deleted %d rows, want %d", n, wantGone)
	}

	ctx := t.Context()
	gone := func(what string, err error, wantGone bool) {
		t.Helper()
		switch {
		case wantGone:
			wantErr(t, what+" should be swept", err, store.ErrNotFound)
		case err != nil:
			t.Errorf("%s should be kept: %v", what, err)
		}
	}
	for id, c := range sessions {
		sess, err := s.Session(ctx, id)
		gone("session "+id, err, c.gone)
		if err == nil && len(sess.Authorizations) != 1 {
			t.Errorf("kept session %s lost its authorization", id)
		}
	}
	for id, c := range requests {
		_, err := s.AuthRequest(ctx, id)
		gone("auth request "+id, err, c.gone)
	}
	for value, c := range codes {
		_, err := s.AuthCode(ctx, hash(value))
		gone("code "+value, err, c.gone)
	}
	for id, c := range grants {
		_, err := s.Grant(ctx, id)
		gone("grant "+id, err, c.gone)
	}
	for value, c := range tokens {
		_, err := s.AccessToken(ctx, hash("at-"+value))
		gone("access token "+value, err, c.gone)
		_, err = s.RefreshToken(ctx, hash("rt-"+value))
		gone("refresh token "+value, err, c.gone)
	}
	for d, wantGone := range failures {
		th, err := s.Throttle(ctx, "acct:192.0.2.1|"+d.String())
		must(t, "throttle", err)
		if gone := th.Failures == 0; gone != wantGone {
			t.Errorf("throttle expiring at t0%+v: gone %v, want %v", d, gone, wantGone)
		}
	}

	// A swept session's authorizations went with it.
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateSession(ctx, fullSession("s-idle", "acct"))
	})
	again, err := s.Session(ctx, "s-idle")
	must(t, "recreated session", err)
	equal(t, "authorizations of a recreated swept session", again.Authorizations, nil)

	// Nothing more to sweep at the same instant.
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		n, err = tx.Sweep(ctx, t0)
		return err
	})
	if n != 0 {
		t.Errorf("second sweep deleted %d rows, want 0", n)
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
