package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// adminTests cover what the admin API and the device limit need.
var adminTests = []test{
	{"DeleteClientReportsWhetherItExisted", testDeleteClient},
	{"LiveGrantsAreOneClientsUnrevokedUnexpiredOldestFirst", testLiveGrants},
}

func testDeleteClient(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertClient(ctx, fullClient("gone")) })
	for i, want := range []bool{true, false} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
			existed, err := tx.DeleteClient(ctx, "gone")
			if existed != want {
				t.Errorf("delete #%d reported %v, want %v", i+1, existed, want)
			}
			return err
		})
	}
	_, err := s.Client(t.Context(), "gone")
	wantErr(t, "read deleted client", err, store.ErrNotFound)
}

func testLiveGrants(t *testing.T, s store.Store) {
	mk := func(id, acct, client string, created time.Time, expires time.Duration, revoked bool) store.Grant {
		g := store.Grant{ID: id, AccountID: acct, ClientID: client, Scopes: []string{"openid"}, CreatedAt: created, ExpiresAt: created.Add(expires)}
		if revoked {
			g.RevokedAt = created.Add(time.Minute)
		}
		return g
	}
	grants := []store.Grant{
		mk("new", "a", "c", at(2*time.Hour), 24*time.Hour, false),
		mk("old", "a", "c", at(time.Hour), 24*time.Hour, false),
		mk("revoked", "a", "c", at(time.Hour), 24*time.Hour, true),
		mk("expired", "a", "c", t0, time.Hour, false),
		mk("other-client", "a", "d", at(time.Hour), 24*time.Hour, false),
		mk("other-account", "b", "c", at(time.Hour), 24*time.Hour, false),
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range grants {
			if err := tx.CreateGrant(ctx, g); err != nil {
				return err
			}
			if !g.RevokedAt.IsZero() {
				if _, err := tx.RevokeGrant(ctx, g.ID, g.RevokedAt, "test"); err != nil {
					return err
				}
			}
		}
		return nil
	})
	live, err := s.LiveGrants(t.Context(), "a", "c", at(3*time.Hour))
	must(t, "live grants", err)
	var ids []string
	for _, g := range live {
		ids = append(ids, g.ID)
	}
	equal(t, "live grants", ids, []string{"old", "new"})
}
