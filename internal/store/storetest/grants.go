package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var grantTests = []test{
	{"GrantsByAccountNewestFirstWithRevoked", testGrantsByAccountNewestFirstWithRevoked},
	{"UpdateGrantScopesReplacesThem", testUpdateGrantScopesReplacesThem},
	{"RevokeGrantIsIdempotent", testRevokeGrantIsIdempotent},
	{"GrantsReadsThoseThatExist", testGrantsReadsThoseThatExist},
	{"RevokeGrantsRevokesThoseNotYetRevoked", testRevokeGrantsRevokesThoseNotYetRevoked},
	{"ScopesWithWhiteSpaceAreRefused", testScopesWithWhiteSpaceAreRefused},
}

// testScopesWithWhiteSpaceAreRefused: scopes and amr are stored as words
// (a scope token holds no space, RFC 6749 §3.3); a value that is not one
// word is refused, never stored as two, and the transaction writes
// nothing.
func testScopesWithWhiteSpaceAreRefused(t *testing.T, s store.Store) {
	for _, scopes := range [][]string{{"openid", "two words"}, {""}, {"tab\there"}} {
		g := liveGrant("g-"+strings.Join(scopes, "-"), "acct", "app")
		g.Scopes = scopes
		err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateGrant(ctx, g) })
		if err == nil {
			t.Errorf("scopes %q were stored", scopes)
		}
		if _, err := s.Grant(t.Context(), g.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("grant with scopes %q: %v, want ErrNotFound", scopes, err)
		}
	}
}

// testGrantsByAccountNewestFirstWithRevoked: the connected-apps list holds
// every grant of the account, revoked ones too, newest first.
func testGrantsByAccountNewestFirstWithRevoked(t *testing.T, s store.Store) {
	var want []store.Grant
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i, age := range []time.Duration{3, 1, 2} {
			g := liveGrant(name("mine", i), "me", "app")
			g.CreatedAt = at(-age * time.Hour)
			if i == 1 {
				g.RevokedAt, g.RevokeReason = t0, "admin"
			}
			must(t, "grant", tx.CreateGrant(ctx, g))
			want = append(want, g)
		}
		return tx.CreateGrant(ctx, liveGrant("theirs", "someone else", "app"))
	})
	want = []store.Grant{want[1], want[2], want[0]}
	got, err := s.GrantsByAccount(t.Context(), "me")
	must(t, "list", err)
	equal(t, "grants", got, want)
}

// testUpdateGrantScopesReplacesThem: consenting to more replaces the
// granted scopes, and only those.
func testUpdateGrantScopesReplacesThem(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "g1", tx.CreateGrant(ctx, liveGrant("g1", "acct", "app")))
		return tx.CreateGrant(ctx, liveGrant("g2", "acct", "app"))
	})
	for _, scopes := range [][]string{{"openid", "email", "profile", "offline_access"}, {}, {"openid"}} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateGrantScopes(ctx, "g1", scopes) })
		want := liveGrant("g1", "acct", "app")
		want.Scopes = scopes
		if len(scopes) == 0 {
			want.Scopes = nil
		}
		got, err := s.Grant(t.Context(), "g1")
		must(t, "read", err)
		equal(t, "grant after update", got, want)
	}
	other, err := s.Grant(t.Context(), "g2")
	must(t, "read g2", err)
	equal(t, "other grant", other, liveGrant("g2", "acct", "app"))
}

// testRevokeGrantIsIdempotent: the first revocation wins and says so;
// later ones report false and leave its time and reason (design O9: the
// receipt tells which call revoked it).
func testRevokeGrantIsIdempotent(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "g1", tx.CreateGrant(ctx, liveGrant("g1", "acct", "app")))
		return tx.CreateGrant(ctx, liveGrant("g2", "acct", "app"))
	})
	var first, second bool
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		first, err = tx.RevokeGrant(ctx, "g1", t0, "signout")
		return err
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		second, err = tx.RevokeGrant(ctx, "g1", at(time.Hour), "refresh_token_reuse")
		return err
	})
	if !first || second {
		t.Errorf("RevokeGrant reported %v then %v; want true then false", first, second)
	}
	want := liveGrant("g1", "acct", "app")
	want.RevokedAt, want.RevokeReason = t0, "signout"
	got, err := s.Grant(t.Context(), "g1")
	must(t, "read", err)
	equal(t, "revoked grant", got, want)
	other, err := s.Grant(t.Context(), "g2")
	must(t, "read g2", err)
	equal(t, "other grant", other, liveGrant("g2", "acct", "app"))
}

// manyGrants creates n live grants g00, g01... and returns them.
func manyGrants(t *testing.T, s store.Store, n int) []store.Grant {
	t.Helper()
	var gs []store.Grant
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			g := liveGrant(fmt.Sprintf("g%02d", i), "acct", fmt.Sprintf("app-%d", i))
			if err := tx.CreateGrant(ctx, g); err != nil {
				return err
			}
			gs = append(gs, g)
		}
		return nil
	})
	return gs
}

// testGrantsReadsThoseThatExist: Grants reads every grant of the ids that
// exists, revoked or not, more than one statement's worth included, and
// passes over ids of none.
func testGrantsReadsThoseThatExist(t *testing.T, s store.Store) {
	gs := manyGrants(t, s, 20) // more than a statement's 16
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.RevokeGrant(ctx, "g03", t0, "signout")
		return err
	})
	gs[3].RevokedAt, gs[3].RevokeReason = t0, "signout"
	ids := []string{"nope"}
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	got, err := s.Grants(t.Context(), append(ids, "gone"))
	must(t, "read", err)
	slices.SortFunc(got, func(a, b store.Grant) int { return strings.Compare(a.ID, b.ID) })
	equal(t, "grants", got, gs)
	none, err := s.Grants(t.Context(), nil)
	must(t, "read none", err)
	if len(none) != 0 {
		t.Errorf("no ids: %v", none)
	}
}

// testRevokeGrantsRevokesThoseNotYetRevoked: RevokeGrants revokes each
// grant named that is not yet revoked, more than one statement's worth
// included; one revoked before keeps its time and reason, an id of no
// grant is passed over, and a grant not named is left alone.
func testRevokeGrantsRevokesThoseNotYetRevoked(t *testing.T, s store.Store) {
	gs := manyGrants(t, s, 20)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.RevokeGrant(ctx, "g05", t0, "admin")
		return err
	})
	ids := []string{"nope"}
	for _, g := range gs[:19] {
		ids = append(ids, g.ID)
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RevokeGrants(ctx, ids, at(time.Hour), "signout")
	})
	for i, want := range gs {
		switch {
		case i == 5:
			want.RevokedAt, want.RevokeReason = t0, "admin"
		case i < 19:
			want.RevokedAt, want.RevokeReason = at(time.Hour), "signout"
		}
		got, err := s.Grant(t.Context(), want.ID)
		must(t, want.ID, err)
		equal(t, want.ID, got, want)
	}
	err := s.InTx(t.Context(), store.Routine, func(tx store.Tx) error {
		return tx.RevokeGrants(t.Context(), []string{"g19"}, time.Time{}, "signout")
	})
	if err == nil {
		t.Error("RevokeGrants with a zero time: no error")
	}
}
