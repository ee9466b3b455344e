package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var accountTests = []test{
	{"UpsertAccountReplacesAllButCreatedAt", testUpsertAccountReplacesAllButCreatedAt},
	{"UsernamesAreUnique", testUsernamesAreUnique},
	{"UpsertClientReplacesAllButCreatedAt", testUpsertClientReplacesAllButCreatedAt},
	{"ClientsListsEveryClient", testClientsListsEveryClient},
	{"CreateClientRefusesATakenID", testCreateClientRefusesATakenID},
}

// testUpsertAccountReplacesAllButCreatedAt: a second upsert of one ID
// replaces every field but ID and CreatedAt (design A1: the id is stable).
func testUpsertAccountReplacesAllButCreatedAt(t *testing.T, s store.Store) {
	first := fullAccount("a1")
	second := store.Account{
		ID: "a1", Username: "renamed", Email: "new@example.com", Name: "New Name",
		PasswordHash: "$argon2id$new", CreatedAt: at(time.Hour), UpdatedAt: at(2 * time.Hour),
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAccount(ctx, first) })
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAccount(ctx, second) })

	want := second
	want.CreatedAt = first.CreatedAt
	got, err := s.Account(t.Context(), "a1")
	must(t, "read", err)
	equal(t, "account after second upsert", got, want)
	// The old username no longer finds it; the new one does.
	_, err = s.AccountByUsername(t.Context(), first.Username)
	wantErr(t, "lookup by old username", err, store.ErrNotFound)
	got, err = s.AccountByUsername(t.Context(), "renamed")
	must(t, "lookup by new username", err)
	equal(t, "by new username", got, want)
}

// testUsernamesAreUnique: an upsert that would give an account another
// account's username is store.ErrConflict and changes nothing; once the
// name is free, it can be taken.
func testUsernamesAreUnique(t *testing.T, s store.Store) {
	alice := store.Account{ID: "id-alice", Username: "alice", CreatedAt: t0}
	bob := store.Account{ID: "id-bob", Username: "bob", CreatedAt: t0}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "alice", tx.UpsertAccount(ctx, alice))
		return tx.UpsertAccount(ctx, bob)
	})

	bobAsAlice := bob
	bobAsAlice.Username = "alice"
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAccount(ctx, bobAsAlice) })
	wantErr(t, "renaming bob to alice", err, store.ErrConflict)
	got, err := s.Account(t.Context(), "id-bob")
	must(t, "read bob", err)
	equal(t, "bob after the refused rename", got, bob)

	// Upserting an account under its own username is no conflict.
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAccount(ctx, alice) })

	// Names are freed by renames within one transaction.
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		renamed := alice
		renamed.Username = "alice-old"
		must(t, "rename alice", tx.UpsertAccount(ctx, renamed))
		return tx.UpsertAccount(ctx, bobAsAlice)
	})
	got, err = s.AccountByUsername(t.Context(), "alice")
	must(t, "lookup alice", err)
	equal(t, "alice's old name", got.ID, "id-bob")
}

// testUpsertClientReplacesAllButCreatedAt: configuration reloads replace a
// client whole, lists included (an emptied list stays empty), keeping only
// when it was first registered.
func testUpsertClientReplacesAllButCreatedAt(t *testing.T, s store.Store) {
	first := fullClient("app")
	second := store.Client{
		ID: "app", Type: "spa", Name: "Renamed",
		RedirectURIs: []string{"https://new.example/cb"}, PostLogoutRedirectURIs: []string{},
		OfflineSurvivesSignout: false, IDTokenSignedResponseAlg: "ES256",
		CreatedAt: at(time.Hour), UpdatedAt: at(2 * time.Hour),
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertClient(ctx, first) })
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertClient(ctx, second) })

	want := second
	want.PostLogoutRedirectURIs = nil
	want.CreatedAt = first.CreatedAt
	got, err := s.Client(t.Context(), "app")
	must(t, "read", err)
	equal(t, "client after second upsert", got, want)
}

// testCreateClientRefusesATakenID: a client is created whole once; a
// second creation of its id is ErrConflict and leaves the first as it was
// (C1: its secret is the one its creator was shown).
func testCreateClientRefusesATakenID(t *testing.T, s store.Store) {
	first := fullClient("app")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateClient(ctx, first) })
	again := fullClient("app")
	again.Name, again.SecretHash = "Another", "$argon2id$another"
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateClient(ctx, again) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second client of one id: %v, want ErrConflict", err)
	}
	got, err := s.Client(t.Context(), "app")
	must(t, "read", err)
	equal(t, "client after a refused second creation", got, first)
}

// testClientsListsEveryClient: Clients returns every client, each whole.
func testClientsListsEveryClient(t *testing.T, s store.Store) {
	list, err := s.Clients(t.Context())
	must(t, "list of none", err)
	if len(list) != 0 {
		t.Fatalf("Clients on an empty store = %v", list)
	}
	var want []store.Client
	for _, id := range []string{"charlie", "alpha", "bravo"} {
		want = append(want, fullClient(id))
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, c := range want {
			must(t, "upsert "+c.ID, tx.UpsertClient(ctx, c))
		}
		return nil
	})
	got, err := s.Clients(t.Context())
	must(t, "list", err)
	byID := func(a, b store.Client) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(got, byID)
	slices.SortFunc(want, byID)
	equal(t, "clients", got, want)
}
