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
	{"DeleteClientRevokesItsGrants", testDeleteClientRevokesItsGrants},
	{"EventsPageNewestFirstAndAreSwept", testEvents},
	{"LiveGrantsAreOneClientsUnrevokedUnexpiredOldestFirst", testLiveGrants},
}

func testDeleteClient(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertClient(ctx, fullClient("gone")) })
	for i, want := range []bool{true, false} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
			existed, err := tx.DeleteClient(ctx, "gone", t0)
			if existed != want {
				t.Errorf("delete #%d reported %v, want %v", i+1, existed, want)
			}
			return err
		})
	}
	_, err := s.Client(t.Context(), "gone")
	wantErr(t, "read deleted client", err, store.ErrNotFound)
}

func testDeleteClientRevokesItsGrants(t *testing.T, s store.Store) {
	g := store.Grant{ID: "g", AccountID: "a", ClientID: "gone", CreatedAt: t0, ExpiresAt: at(time.Hour)}
	other := store.Grant{ID: "o", AccountID: "a", ClientID: "kept", CreatedAt: t0, ExpiresAt: at(time.Hour)}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, c := range []string{"gone", "kept"} {
			if err := tx.UpsertClient(ctx, fullClient(c)); err != nil {
				return err
			}
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return err
		}
		if err := tx.CreateGrant(ctx, other); err != nil {
			return err
		}
		_, err := tx.DeleteClient(ctx, "gone", at(time.Minute))
		return err
	})
	got, _ := s.Grant(t.Context(), "g")
	if !got.RevokedAt.Equal(at(time.Minute)) {
		t.Errorf("the deleted client's grant: %+v", got)
	}
	if got, _ := s.Grant(t.Context(), "o"); !got.RevokedAt.IsZero() {
		t.Errorf("another client's grant was revoked: %+v", got)
	}
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

func testEvents(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i, k := range []string{store.EventSignIn, store.EventSignOut, store.EventGrantRevoked} {
			if err := tx.AddEvent(ctx, store.Event{At: at(time.Duration(i) * time.Second), Kind: k, AccountID: "a", ClientID: "c", Detail: "d"}); err != nil {
				return err
			}
		}
		return nil
	})
	first, err := s.Events(t.Context(), 0, 2)
	must(t, "events", err)
	if len(first) != 2 || first[0].Kind != store.EventGrantRevoked || first[1].Kind != store.EventSignOut || first[0].Seq <= first[1].Seq {
		t.Fatalf("first page %+v", first)
	}
	rest, _ := s.Events(t.Context(), first[1].Seq, 2)
	if len(rest) != 1 || rest[0].Kind != store.EventSignIn || !rest[0].At.Equal(t0) || rest[0].AccountID != "a" {
		t.Errorf("second page %+v", rest)
	}
	sweep(t, s, at(91*24*time.Hour), 100)
	if all, _ := s.Events(t.Context(), 0, 10); len(all) != 0 {
		t.Errorf("events older than 90 days survived the sweep: %d", len(all))
	}
}
