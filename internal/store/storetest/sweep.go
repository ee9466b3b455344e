package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var sweepTests = []test{
	{"SweepDeletesExactlyTheExpired", testSweepDeletesExactlyTheExpired},
	{"SweepDeletesAtMostLimitPerCall", testSweepDeletesAtMostLimitPerCall},
	{"SweepTakesTokensAtTheirExpiry", testSweepTakesTokensAtTheirExpiry},
	{"SweepRefusesAZeroTimeOrLimit", testSweepRefusesAZeroTimeOrLimit},
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
		"live": {"g-live", hour, false, false},
		"used": {"g-live", hour, true, false},
		"old":  {"g-live", -time.Second, false, true},
		// A dead grant's tokens wait for their own expiry: they are dead
		// already (SweepTakesTokensAtTheirExpiry).
		"of-revoked-grant": {"g-revoked-recent", hour, false, false},
		"of-expired-grant": {"g-expired", hour, false, false},
		"of-long-revoked":  {"g-revoked-old", hour, false, false},
		"old-of-dead":      {"g-revoked-old", -time.Second, false, true},
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
			must(t, value, tx.UseAuthCode(ctx, hash(value), at(c.expires)))
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
			exp := tokenExpiry(c.expires)
			a := liveAccessToken("at-"+value, c.grant)
			a.Hash, a.ExpiresAt = tokenKey("at-"+value, exp), exp
			must(t, value, tx.CreateAccessToken(ctx, a))
			r := liveRefreshToken("rt-"+value, c.grant)
			r.Hash, r.ExpiresAt = tokenKey("rt-"+value, exp), exp
			if c.used {
				r.UsedAt = at(-time.Minute)
			}
			must(t, value, tx.CreateRefreshToken(ctx, r))
			j := fullJWTAccessToken("jwt-" + value)
			j.JTI, j.GrantID, j.ExpiresAt = jti("jwt-"+value, exp), c.grant, exp
			must(t, value, tx.CreateJWTAccessToken(ctx, j))
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
		wantGone += 3 * b2i(c.gone) // one access and one refresh token, one JWT access token record
	}
	for _, gone := range failures {
		wantGone += b2i(gone)
	}

	// A limit above everything due: one call sweeps it all.
	if n := sweep(t, s, t0, 1000); n != wantGone {
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
		// A used code that was swept may be recorded again; one kept may
		// not. The attempt is rolled back, so it changes nothing.
		rollback := errors.New("rollback")
		err := s.InTx(ctx, store.Durable, func(tx store.Tx) error {
			if err := tx.UseAuthCode(ctx, hash(value), at(c.expires)); err != nil {
				return err
			}
			return rollback
		})
		switch {
		case c.gone && !errors.Is(err, rollback):
			t.Errorf("used code %s: kept (recording it again: %v), want swept", value, err)
		case !c.gone && !errors.Is(err, store.ErrAlreadyUsed):
			t.Errorf("used code %s: recording it again gave %v, want ErrAlreadyUsed (kept)", value, err)
		}
	}
	for id, c := range grants {
		_, err := s.Grant(ctx, id)
		gone("grant "+id, err, c.gone)
	}
	for value, c := range tokens {
		exp := tokenExpiry(c.expires)
		_, err := s.AccessToken(ctx, tokenKey("at-"+value, exp))
		gone("access token "+value, err, c.gone)
		_, err = s.RefreshToken(ctx, tokenKey("rt-"+value, exp))
		gone("refresh token "+value, err, c.gone)
		_, err = s.JWTAccessToken(ctx, jti("jwt-"+value, exp))
		gone("JWT access token "+value, err, c.gone)
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
	if n := sweep(t, s, t0, 1000); n != 0 {
		t.Errorf("second sweep deleted %d rows, want 0", n)
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// testSweepDeletesAtMostLimitPerCall: a sweep is done in batches, so one
// transaction never holds the writer for a whole backlog (design §5):
// each call deletes at most limit rows and says how many, a full batch
// means more may be due, and the calls stop with a short one once
// everything due is gone. What has not expired survives every batch.
func testSweepDeletesAtMostLimitPerCall(t *testing.T, s store.Store) {
	const expired, limit = 25, 10
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "grant", tx.CreateGrant(ctx, liveGrant("g", "acct", "app")))
		for i := range expired {
			sess := fullSession(name("s-old", i), "acct")
			sess.ExpiresAt = at(-time.Duration(i+1) * time.Second)
			must(t, "session", tx.CreateSession(ctx, sess))
			a := liveAccessToken(name("at-old", i), "g")
			a.ExpiresAt = tokenExpiry(-time.Duration(i+1) * time.Second)
			a.Hash = tokenKey(name("at-old", i), a.ExpiresAt)
			must(t, "access token", tx.CreateAccessToken(ctx, a))
		}
		must(t, "live session", tx.CreateSession(ctx, fullSession("s-live", "acct")))
		return tx.CreateAccessToken(ctx, liveAccessToken("at-live", "g"))
	})

	var calls []int64
	var total int64
	for len(calls) < 2*expired { // a sweep that never finished would loop forever
		n := sweep(t, s, t0, limit)
		calls = append(calls, n)
		total += n
		if n > limit {
			t.Fatalf("a sweep with limit %d deleted %d rows", limit, n)
		}
		if n < limit {
			break
		}
	}
	// 50 rows in batches of 10: five full ones, then the empty one that
	// says nothing more is due.
	equal(t, "rows deleted by each call", calls, []int64{limit, limit, limit, limit, limit, 0})
	if total != 2*expired {
		t.Errorf("the sweeps deleted %d rows in all, want %d", total, 2*expired)
	}

	ctx := t.Context()
	for i := range expired {
		_, err := s.Session(ctx, name("s-old", i))
		wantErr(t, "expired session "+name("s-old", i), err, store.ErrNotFound)
		_, err = s.AccessToken(ctx, tokenKey(name("at-old", i), tokenExpiry(-time.Duration(i+1)*time.Second)))
		wantErr(t, "expired access token "+name("at-old", i), err, store.ErrNotFound)
	}
	_, err := s.Session(ctx, "s-live")
	must(t, "unexpired session", err)
	_, err = s.AccessToken(ctx, liveAccessToken("at-live", "g").Hash)
	must(t, "unexpired access token", err)
	_, err = s.Grant(ctx, "g")
	must(t, "live grant", err)
}

// testSweepTakesTokensAtTheirExpiry: a dead grant goes (a revoked one a
// day after), and its tokens do not go with it: no index finds tokens by
// grant. They stay until they expire, and meanwhile neither can be read
// with its grant, so no check takes them for live (G2).
func testSweepTakesTokensAtTheirExpiry(t *testing.T, s store.Store) {
	const tokens = 3
	accessExp, refreshExp := tokenExpiry(time.Hour), tokenExpiry(2*time.Hour)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, id := range []string{"g-expired", "g-revoked"} {
			g := liveGrant(id, "acct", "app")
			if id == "g-expired" {
				g.ExpiresAt = at(-time.Second)
			} else {
				g.RevokedAt, g.RevokeReason = at(-25*time.Hour), "test"
			}
			must(t, id, tx.CreateGrant(ctx, g))
			for i := range tokens {
				a := liveAccessToken(name("at-"+id, i), id)
				a.Hash, a.ExpiresAt = tokenKey(name("at-"+id, i), accessExp), accessExp
				must(t, "access token", tx.CreateAccessToken(ctx, a))
				r := liveRefreshToken(name("rt-"+id, i), id)
				r.Hash, r.ExpiresAt = tokenKey(name("rt-"+id, i), refreshExp), refreshExp
				must(t, "refresh token", tx.CreateRefreshToken(ctx, r))
			}
		}
		return nil
	})

	ctx := t.Context()
	if n := sweep(t, s, t0, 1000); n != 2 {
		t.Errorf("sweep at t0 deleted %d rows, want the 2 dead grants", n)
	}
	for _, id := range []string{"g-expired", "g-revoked"} {
		_, err := s.Grant(ctx, id)
		wantErr(t, "dead grant "+id, err, store.ErrNotFound)
		for i := range tokens {
			// Each token is there, read alone; only its grant is gone.
			access, refresh := tokenKey(name("at-"+id, i), accessExp), tokenKey(name("rt-"+id, i), refreshExp)
			_, err := s.AccessToken(ctx, access)
			must(t, "access token of swept grant "+id+", alone", err)
			_, err = s.RefreshToken(ctx, refresh)
			must(t, "refresh token of swept grant "+id+", alone", err)
			_, _, err = s.AccessTokenGrant(ctx, access)
			wantErr(t, "access token of swept grant "+id, err, store.ErrNotFound)
			_, _, err = s.RefreshTokenGrant(ctx, refresh)
			wantErr(t, "refresh token of swept grant "+id, err, store.ErrNotFound)
		}
	}
	if n := sweep(t, s, at(time.Hour+time.Second), 1000); n != 2*tokens {
		t.Errorf("sweep after the access tokens expired deleted %d rows, want %d", n, 2*tokens)
	}
	if n := sweep(t, s, at(2*time.Hour+time.Second), 1000); n != 2*tokens {
		t.Errorf("sweep after the refresh tokens expired deleted %d rows, want %d", n, 2*tokens)
	}
}

// testSweepRefusesAZeroTimeOrLimit: a zero time, a limit below one or a
// zero retention cannot sweep as asked: each is an error, not a silent
// no-op.
func testSweepRefusesAZeroTimeOrLimit(t *testing.T, s store.Store) {
	for _, c := range []struct {
		now       time.Time
		retention time.Duration
		limit     int
	}{{time.Time{}, time.Hour, 10}, {t0, time.Hour, 0}, {t0, time.Hour, -1}, {t0, 0, 10}} {
		err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Sweep(ctx, c.now, c.retention, c.limit)
			return err
		})
		if err == nil {
			t.Errorf("Sweep(now %v, retention %v, limit %d) succeeded, want an error", c.now, c.retention, c.limit)
		}
	}
}
