package storetest

import (
	"context"
	"testing"

	"github.com/sesame-id/sesame/internal/store"
)

// roleHolderTests cover the reads of who holds a role (R1): the console
// shows a role with its holders.
var roleHolderTests = []test{
	{"AccountsWithRoleAreListedByUsernameInPages", testAccountsWithRoleAreListedByUsernameInPages},
	{"ClientsWithRoleAreListedByID", testClientsWithRoleAreListedByID},
	{"HoldersOfARoleGoWithIt", testHoldersOfARoleGoWithIt},
}

// usernames lists the usernames of accounts, for comparing orders.
func usernames(list []store.Account) []string {
	return ids(list, func(a store.Account) string { return a.Username })
}

// The accounts holding a role come whole, in username order (not by id,
// not by when they got it), a page at a time after a username; accounts
// holding only other roles, or none, are not among them; a hold of an
// account that does not exist lists nothing; an unknown role is held by
// nobody, without error.
func testAccountsWithRoleAreListedByUsernameInPages(t *testing.T, s store.Store) {
	// ids run against usernames, so an order by id would show.
	names := map[string]string{"a1": "zoe", "a2": "yann", "a3": "xavier", "a4": "walt", "a5": "vera"}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "reader", tx.UpsertRole(ctx, fullRole("reader")))
		must(t, "writer", tx.UpsertRole(ctx, fullRole("writer")))
		for _, id := range []string{"a1", "a2", "a3", "a4", "a5"} {
			a := fullAccount(id)
			a.Username = names[id]
			must(t, id, tx.UpsertAccount(ctx, a))
		}
		must(t, "a3 first", tx.SetAccountRoles(ctx, "a3", []string{"reader"}))
		must(t, "a1", tx.SetAccountRoles(ctx, "a1", []string{"reader", "writer"}))
		must(t, "a2", tx.SetAccountRoles(ctx, "a2", []string{"writer"}))
		must(t, "a5", tx.SetAccountRoles(ctx, "a5", []string{"reader"}))
		must(t, "ghost", tx.SetAccountRoles(ctx, "ghost", []string{"reader"}))
		// a4 holds none.
		return nil
	})
	ctx := t.Context()
	all, err := s.AccountsWithRole(ctx, "reader", "", 10)
	must(t, "reader", err)
	equal(t, "holders of reader", usernames(all), []string{"vera", "xavier", "zoe"})
	if len(all) == 3 {
		want := fullAccount("a5")
		want.Username = "vera"
		equal(t, "a holder read whole", all[0], want)
	}
	page, err := s.AccountsWithRole(ctx, "reader", "", 2)
	must(t, "first page", err)
	equal(t, "first page", usernames(page), []string{"vera", "xavier"})
	page, err = s.AccountsWithRole(ctx, "reader", "xavier", 2)
	must(t, "second page", err)
	equal(t, "second page", usernames(page), []string{"zoe"})
	page, err = s.AccountsWithRole(ctx, "reader", "zoe", 2)
	must(t, "past the end", err)
	equal(t, "past the end", len(page), 0)
	writers, err := s.AccountsWithRole(ctx, "writer", "", 10)
	must(t, "writer", err)
	equal(t, "holders of writer", usernames(writers), []string{"yann", "zoe"})
	none, err := s.AccountsWithRole(ctx, "nobody-has-it", "", 10)
	must(t, "unknown role", err)
	equal(t, "holders of an unknown role", len(none), 0)
	if _, err := s.AccountsWithRole(ctx, "reader", "", 0); err == nil {
		t.Error("a limit of 0 was accepted")
	}
	// Inside a transaction, the reads see its own writes.
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "a4 gets reader", tx.SetAccountRoles(ctx, "a4", []string{"reader"}))
		got, err := tx.AccountsWithRole(ctx, "reader", "", 10)
		must(t, "in the transaction", err)
		equal(t, "holders in the transaction", usernames(got), []string{"vera", "walt", "xavier", "zoe"})
		return nil
	})
}

// The clients holding a role come whole, by id; those holding other
// roles or none are not among them.
func testClientsWithRoleAreListedByID(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "reader", tx.UpsertRole(ctx, fullRole("reader")))
		must(t, "writer", tx.UpsertRole(ctx, fullRole("writer")))
		for _, id := range []string{"worker", "robot", "app", "svc"} {
			must(t, id, tx.UpsertClient(ctx, fullClient(id)))
		}
		must(t, "worker", tx.SetClientRoles(ctx, "worker", []string{"reader"}))
		must(t, "robot", tx.SetClientRoles(ctx, "robot", []string{"reader", "writer"}))
		must(t, "svc", tx.SetClientRoles(ctx, "svc", []string{"writer"}))
		return nil
	})
	ctx := t.Context()
	got, err := s.ClientsWithRole(ctx, "reader")
	must(t, "reader", err)
	equal(t, "holders of reader", ids(got, func(c store.Client) string { return c.ID }), []string{"robot", "worker"})
	if len(got) == 2 {
		equal(t, "a holder read whole", got[0], fullClient("robot"))
	}
	got, err = s.ClientsWithRole(ctx, "writer")
	must(t, "writer", err)
	equal(t, "holders of writer", ids(got, func(c store.Client) string { return c.ID }), []string{"robot", "svc"})
	got, err = s.ClientsWithRole(ctx, "nobody-has-it")
	must(t, "unknown role", err)
	equal(t, "holders of an unknown role", len(got), 0)
}

// A role deleted and made again under its name is held by nobody: its
// holders went with it.
func testHoldersOfARoleGoWithIt(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "reader", tx.UpsertRole(ctx, fullRole("reader")))
		must(t, "alice", tx.UpsertAccount(ctx, fullAccount("alice")))
		must(t, "robot", tx.UpsertClient(ctx, fullClient("robot")))
		must(t, "alice holds", tx.SetAccountRoles(ctx, "alice", []string{"reader"}))
		must(t, "robot holds", tx.SetClientRoles(ctx, "robot", []string{"reader"}))
		must(t, "delete", tx.DeleteRole(ctx, "reader"))
		return tx.UpsertRole(ctx, fullRole("reader"))
	})
	accounts, err := s.AccountsWithRole(t.Context(), "reader", "", 10)
	must(t, "accounts", err)
	clients, err := s.ClientsWithRole(t.Context(), "reader")
	must(t, "clients", err)
	equal(t, "holders after the role was made again", len(accounts)+len(clients), 0)
}
