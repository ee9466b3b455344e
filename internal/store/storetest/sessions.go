package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var sessionTests = []test{
	{"CreateSessionIgnoresAuthorizations", testCreateSessionIgnoresAuthorizations},
	{"PutAuthorizationReplacesPerClient", testPutAuthorizationReplacesPerClient},
	{"DeleteAuthorizationLeavesTheOthers", testDeleteAuthorizationLeavesTheOthers},
	{"DeleteSessionTakesItsAuthorizations", testDeleteSessionTakesItsAuthorizations},
	{"TouchSessionMovesOnlyLastSeenAndExpiry", testTouchSessionMovesOnlyLastSeenAndExpiry},
	{"SessionsByAccountNewestFirst", testSessionsByAccountNewestFirst},
	{"ExpiresAtNeverPassesMaxExpiresAt", testExpiresAtNeverPassesMaxExpiresAt},
}

// testExpiresAtNeverPassesMaxExpiresAt: a session's sliding expiry is kept
// at most its absolute one, at creation and at every touch (S2), which is
// what lets the sweeper find every dead session by ExpiresAt alone.
func testExpiresAtNeverPassesMaxExpiresAt(t *testing.T, s store.Store) {
	sess := fullSession("s-capped", "acct")
	sess.ExpiresAt, sess.MaxExpiresAt = at(2*time.Hour), at(time.Hour)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, sess) })
	got, err := s.Session(t.Context(), sess.ID)
	must(t, "read created", err)
	equal(t, "expiry at creation", got.ExpiresAt, at(time.Hour))

	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.TouchSession(ctx, sess.ID, at(time.Minute), at(3*time.Hour))
	})
	got, err = s.Session(t.Context(), sess.ID)
	must(t, "read touched", err)
	equal(t, "expiry after a touch past the limit", got.ExpiresAt, at(time.Hour))
	equal(t, "last seen", got.LastSeenAt, at(time.Minute))
}

// testCreateSessionIgnoresAuthorizations: authorizations are written with
// PutAuthorization only; CreateSession does not store the ones it is given.
func testCreateSessionIgnoresAuthorizations(t *testing.T, s store.Store) {
	sess := fullSession("s1", "acct")
	sess.Authorizations = []store.Authorization{fullAuthorization("s1", "app")}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, sess) })
	got, err := s.Session(t.Context(), "s1")
	must(t, "read", err)
	equal(t, "authorizations", got.Authorizations, nil)
}

// testPutAuthorizationReplacesPerClient: a session holds one authorization
// per client (design S2, S3), read back in the order they were made.
func testPutAuthorizationReplacesPerClient(t *testing.T, s store.Store) {
	first := fullAuthorization("s1", "app-b")
	first.CreatedAt = at(-3 * time.Hour)
	second := fullAuthorization("s1", "app-a")
	second.CreatedAt = at(-2 * time.Hour)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "session", tx.CreateSession(ctx, fullSession("s1", "acct")))
		must(t, "first", tx.PutAuthorization(ctx, first))
		return tx.PutAuthorization(ctx, second)
	})
	want := fullSession("s1", "acct")
	want.Authorizations = []store.Authorization{first, second}
	got, err := s.Session(t.Context(), "s1")
	must(t, "read", err)
	equal(t, "session with two authorizations", got, want)

	// The same client signing in again through the session replaces its
	// authorization: new sid, new grant.
	replaced := store.Authorization{SessionID: "s1", ClientID: "app-b", SID: "sid-new", GrantID: "grant-new", CreatedAt: at(-time.Hour)}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "replace", tx.PutAuthorization(ctx, replaced))
		got, err := tx.Session(ctx, "s1")
		must(t, "read in tx", err)
		equal(t, "authorizations in tx", got.Authorizations, []store.Authorization{second, replaced})
		return nil
	})
	got, err = s.SessionByCookie(t.Context(), want.CookieHash)
	must(t, "read by cookie", err)
	equal(t, "authorizations after replace", got.Authorizations, []store.Authorization{second, replaced})
}

// testDeleteAuthorizationLeavesTheOthers: signing one app out of a session
// (design O5) leaves the session and its other apps alone.
func testDeleteAuthorizationLeavesTheOthers(t *testing.T, s store.Store) {
	keep := fullAuthorization("s1", "keep")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "session", tx.CreateSession(ctx, fullSession("s1", "acct")))
		must(t, "other session", tx.CreateSession(ctx, fullSession("s2", "acct")))
		must(t, "keep", tx.PutAuthorization(ctx, keep))
		must(t, "drop", tx.PutAuthorization(ctx, fullAuthorization("s1", "drop")))
		return tx.PutAuthorization(ctx, fullAuthorization("s2", "drop"))
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteAuthorization(ctx, "s1", "drop") })
	got, err := s.Session(t.Context(), "s1")
	must(t, "read s1", err)
	equal(t, "s1 authorizations", got.Authorizations, []store.Authorization{keep})
	got, err = s.Session(t.Context(), "s2")
	must(t, "read s2", err)
	equal(t, "s2 authorizations", got.Authorizations, []store.Authorization{fullAuthorization("s2", "drop")})
}

// testDeleteSessionTakesItsAuthorizations: ending a session removes its
// authorizations with it (design O4), so a session made later under the
// same id starts with none.
func testDeleteSessionTakesItsAuthorizations(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "session", tx.CreateSession(ctx, fullSession("s1", "acct")))
		must(t, "other session", tx.CreateSession(ctx, fullSession("s2", "acct")))
		must(t, "a", tx.PutAuthorization(ctx, fullAuthorization("s1", "a")))
		must(t, "b", tx.PutAuthorization(ctx, fullAuthorization("s1", "b")))
		return tx.PutAuthorization(ctx, fullAuthorization("s2", "a"))
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		deleted, err := tx.DeleteSession(ctx, "s1")
		if !deleted {
			t.Error("DeleteSession of a live session reported false")
		}
		return err
	})

	_, err := s.Session(t.Context(), "s1")
	wantErr(t, "read deleted session", err, store.ErrNotFound)
	_, err = s.SessionByCookie(t.Context(), fullSession("s1", "acct").CookieHash)
	wantErr(t, "read deleted session by cookie", err, store.ErrNotFound)
	other, err := s.Session(t.Context(), "s2")
	must(t, "read other session", err)
	equal(t, "other session's authorizations", other.Authorizations, []store.Authorization{fullAuthorization("s2", "a")})

	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, fullSession("s1", "acct")) })
	again, err := s.Session(t.Context(), "s1")
	must(t, "read recreated session", err)
	equal(t, "recreated session's authorizations", again.Authorizations, nil)
}

// testTouchSessionMovesOnlyLastSeenAndExpiry: use of a session slides its
// expiry (design S2) and changes nothing else.
func testTouchSessionMovesOnlyLastSeenAndExpiry(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "session", tx.CreateSession(ctx, fullSession("s1", "acct")))
		must(t, "other", tx.CreateSession(ctx, fullSession("s2", "acct")))
		return tx.PutAuthorization(ctx, fullAuthorization("s1", "app"))
	})
	lastSeen, expires := at(time.Hour), at(15*24*time.Hour)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.TouchSession(ctx, "s1", lastSeen, expires) })

	want := fullSession("s1", "acct")
	want.LastSeenAt, want.ExpiresAt = lastSeen, expires
	want.Authorizations = []store.Authorization{fullAuthorization("s1", "app")}
	got, err := s.Session(t.Context(), "s1")
	must(t, "read", err)
	equal(t, "touched session", got, want)
	other, err := s.Session(t.Context(), "s2")
	must(t, "read other", err)
	equal(t, "untouched session", other, fullSession("s2", "acct"))
}

// testSessionsByAccountNewestFirst: the account page's device list (design
// S6) holds exactly that account's sessions, newest first, each with its
// authorizations.
func testSessionsByAccountNewestFirst(t *testing.T, s store.Store) {
	var want []store.Session
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		// Created out of order, so insertion order cannot pass for
		// newest first.
		for i, age := range []time.Duration{2, 5, 1, 3} {
			sess := fullSession(name("mine", i), "me")
			sess.CreatedAt = at(-age * time.Hour)
			must(t, "session", tx.CreateSession(ctx, sess))
			for j, c := range []string{"app-1", "app-2"}[:i%3] {
				a := fullAuthorization(sess.ID, c)
				a.CreatedAt = at(time.Duration(j-5) * time.Minute)
				must(t, "authorization", tx.PutAuthorization(ctx, a))
				sess.Authorizations = append(sess.Authorizations, a)
			}
			want = append(want, sess)
		}
		return tx.CreateSession(ctx, fullSession("theirs", "someone else"))
	})
	// Newest first: ages 1, 2, 3, 5 hours.
	want = []store.Session{want[2], want[0], want[3], want[1]}
	got, err := s.SessionsByAccount(t.Context(), "me")
	must(t, "list", err)
	equal(t, "order", ids(got, func(s store.Session) string { return s.ID }),
		ids(want, func(s store.Session) string { return s.ID }))
	equal(t, "sessions", got, want)
}
