package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// clientGrantTests cover ending a machine client's own grants when its
// secret changes (C5).
var clientGrantTests = []test{
	{"RevokeClientCredentialGrantsEndsOnlyTheClientsOwnStandingGrants", testRevokeClientCredentialGrants},
	{"RevokeClientCredentialGrantsIsAtomicWithTheSecretChange", testRevokeClientCredentialGrantsRollsBack},
	{"RevokeAccountGrantsWithScopeEndsOnlyThoseCarryingIt", testRevokeAccountGrantsWithScope},
}

// C5, G2: the client's own grants (no account) are revoked with the time
// and reason given; people's grants for it, other clients' grants, and
// grants revoked before keep what they had.
func testRevokeClientCredentialGrants(t *testing.T, s store.Store) {
	own := func(id, client string) store.Grant {
		return store.Grant{ID: id, ClientID: client, Scopes: []string{"sesame:admin"}, CreatedAt: t0, ExpiresAt: at(time.Hour)}
	}
	earlier := own("earlier", "robot")
	earlier.RevokedAt, earlier.RevokeReason = at(time.Second), "revocation_endpoint"
	grants := []store.Grant{
		own("own-1", "robot"), own("own-2", "robot"), earlier,
		own("other-robot", "worker"),
		{ID: "person", AccountID: "alice", ClientID: "robot", Scopes: []string{"openid"}, CreatedAt: t0, ExpiresAt: at(time.Hour)},
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range grants {
			if err := tx.CreateGrant(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
	var n int
	mustTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.RevokeClientCredentialGrants(ctx, "robot", at(time.Minute), "secret_rotated")
		return err
	})
	equal(t, "grants revoked", n, 2)
	for _, id := range []string{"own-1", "own-2"} {
		g, err := s.Grant(t.Context(), id)
		must(t, "read "+id, err)
		if !g.RevokedAt.Equal(at(time.Minute)) || g.RevokeReason != "secret_rotated" {
			t.Errorf("the client's own grant %s: revoked at %v for %q", id, g.RevokedAt, g.RevokeReason)
		}
	}
	for _, want := range []store.Grant{earlier, own("other-robot", "worker"), grants[4]} {
		g, err := s.Grant(t.Context(), want.ID)
		must(t, "read "+want.ID, err)
		if !g.RevokedAt.Equal(want.RevokedAt) || g.RevokeReason != want.RevokeReason {
			t.Errorf("grant %s changed: revoked at %v for %q, want %v for %q", want.ID, g.RevokedAt, g.RevokeReason, want.RevokedAt, want.RevokeReason)
		}
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.RevokeClientCredentialGrants(ctx, "robot", at(time.Hour), "secret_rotated")
		return err
	})
	equal(t, "grants revoked a second time", n, 0)
	if err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.RevokeClientCredentialGrants(ctx, "robot", time.Time{}, "secret_rotated")
		return err
	}); err == nil {
		t.Error("a zero revocation time was accepted")
	}
}

// C5: the revocation is part of the transaction that changes the secret:
// a rolled-back rotation leaves the grants standing.
func testRevokeClientCredentialGrantsRollsBack(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateGrant(ctx, store.Grant{ID: "own", ClientID: "robot", CreatedAt: t0, ExpiresAt: at(time.Hour)})
	})
	rollback := errors.New("roll back")
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.RevokeClientCredentialGrants(ctx, "robot", at(time.Minute), "secret_rotated"); err != nil {
			return err
		}
		return rollback
	})
	wantErr(t, "rolled-back rotation", err, rollback)
	g, err := s.Grant(t.Context(), "own")
	must(t, "read grant", err)
	if !g.RevokedAt.IsZero() {
		t.Errorf("a rolled-back revocation stuck: %+v", g)
	}
}

// C5: a person's standing grants carrying the scope are revoked with the
// time and reason given, whichever word of the list it is; their grants
// without it (also one with a scope it is a part of), other accounts'
// grants and grants revoked before keep what they had.
func testRevokeAccountGrantsWithScope(t *testing.T, s store.Store) {
	grant := func(id, account string, scopes ...string) store.Grant {
		return store.Grant{ID: id, AccountID: account, ClientID: "console", Scopes: scopes, CreatedAt: t0, ExpiresAt: at(time.Hour)}
	}
	earlier := grant("earlier", "alice", "openid", "sesame:admin")
	earlier.RevokedAt, earlier.RevokeReason = at(time.Second), "revocation_endpoint"
	revoked := []store.Grant{
		grant("first", "alice", "sesame:admin", "openid"),
		grant("middle", "alice", "openid", "sesame:admin", "profile"),
		grant("alone", "alice", "sesame:admin"),
	}
	kept := []store.Grant{
		earlier,
		grant("without", "alice", "openid", "profile"),
		grant("longer-word", "alice", "openid", "sesame:administrator", "x-sesame:admin"),
		grant("bob", "bob", "openid", "sesame:admin"),
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range append(append([]store.Grant{}, revoked...), kept...) {
			if err := tx.CreateGrant(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
	var n int
	mustTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.RevokeAccountGrantsWithScope(ctx, "alice", "sesame:admin", at(time.Minute), "admin_role_removed")
		return err
	})
	equal(t, "grants revoked", n, len(revoked))
	for _, want := range revoked {
		g, err := s.Grant(t.Context(), want.ID)
		must(t, "read "+want.ID, err)
		if !g.RevokedAt.Equal(at(time.Minute)) || g.RevokeReason != "admin_role_removed" {
			t.Errorf("grant %s: revoked at %v for %q", want.ID, g.RevokedAt, g.RevokeReason)
		}
	}
	for _, want := range kept {
		g, err := s.Grant(t.Context(), want.ID)
		must(t, "read "+want.ID, err)
		if !g.RevokedAt.Equal(want.RevokedAt) || g.RevokeReason != want.RevokeReason {
			t.Errorf("grant %s changed: revoked at %v for %q", want.ID, g.RevokedAt, g.RevokeReason)
		}
	}
	for _, bad := range []string{"", "sesame:%", "a b"} {
		if err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			_, err := tx.RevokeAccountGrantsWithScope(ctx, "alice", bad, at(time.Hour), "x")
			return err
		}); err == nil {
			t.Errorf("scope %q was taken", bad)
		}
	}
}
