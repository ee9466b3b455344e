package resource

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/sesame-id/sesame/internal/store"
)

// holderNames are the usernames and client ids of h, for comparing.
func holderNames(h Holders) (accounts, clients []string) {
	for _, a := range h.Accounts {
		accounts = append(accounts, a.Username)
	}
	for _, c := range h.Clients {
		clients = append(clients, c.ID)
	}
	return accounts, clients
}

// R1: giving and taking one role keeps the holder's others; each change
// is recorded once, and one that changes nothing is not; the refusals
// are SetRoles' (an unknown role, a client that is not m2m); who holds a
// role is read at once, a page of accounts at a time.
func TestGivingAndTakingOneRole(t *testing.T) { eachStore(t, testGivingAndTakingOneRole) }

func testGivingAndTakingOneRole(t *testing.T, open opener) {
	s, r := seededRegistry(t, open)
	ctx := t.Context()
	var log recorded

	held, err := r.GiveRole(ctx, Account("id-bob"), "orders-writer", log.record)
	if err != nil || !slices.Equal(held, []string{"orders-writer"}) {
		t.Fatalf("give bob orders-writer: %v %v", held, err)
	}
	held, err = r.GiveRole(ctx, Account("id-bob"), RoleAdmin, log.record)
	if err != nil || !slices.Equal(held, []string{RoleAdmin, "orders-writer"}) {
		t.Fatalf("give bob admin: %v %v", held, err)
	}
	if ok, err := r.HasRole(ctx, Account("id-bob"), RoleAdmin); !ok || err != nil {
		t.Errorf("bob holds admin at once: %v %v", ok, err)
	}
	if _, err := r.GiveRole(ctx, Account("id-bob"), RoleAdmin, log.record); err != nil {
		t.Errorf("give a role held already: %v", err)
	}
	held, err = r.TakeRole(ctx, Account("id-bob"), "orders-writer", log.record)
	if err != nil || !slices.Equal(held, []string{RoleAdmin}) {
		t.Errorf("take orders-writer: %v %v", held, err)
	}
	if _, err := r.TakeRole(ctx, Account("id-bob"), "orders-reader", log.record); err != nil {
		t.Errorf("take a role not held: %v", err)
	}
	want := recorded{
		"roles.assign id-bob id-bob: roles: orders-writer (were: none)",
		"roles.assign id-bob id-bob: roles: admin orders-writer (were: orders-writer)",
		"roles.assign id-bob id-bob: roles: admin (were: admin orders-writer)",
	}
	wantRecorded(t, log, want)

	_, err = r.GiveRole(ctx, Account("id-bob"), "ghost", log.record)
	wantRefused(t, "give an unknown role", err, ErrUnknownRole, "no role ghost")
	_, err = r.TakeRole(ctx, Account("id-bob"), "ghost", log.record)
	wantRefused(t, "take an unknown role", err, ErrUnknownRole, "no role ghost")
	_, err = r.GiveRole(ctx, Client("web-app"), "orders-reader", log.record)
	wantRefused(t, "a web client", err, ErrNotM2M, "only m2m clients hold roles")
	if _, err := r.GiveRole(ctx, Client("nobody"), "orders-reader", log.record); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown client: %v", err)
	}
	if len(log) != len(want) {
		t.Errorf("refusals recorded %q", log[len(want):])
	}

	// A client's roles likewise; the holders of a role are its accounts
	// by username and its clients by id.
	_, err = r.GiveRole(ctx, Client("robot"), "orders-reader", log.record)
	must(t, err)
	_, err = r.GiveRole(ctx, Account("id-bob"), "orders-reader", log.record)
	must(t, err)
	h, err := r.HoldersOf(ctx, "orders-reader", "", 10)
	must(t, err)
	accounts, clients := holderNames(h)
	if !slices.Equal(accounts, []string{"alice", "bob"}) || !slices.Equal(clients, []string{"reports-job", "robot"}) || h.More {
		t.Errorf("holders of orders-reader: %v %v more %v", accounts, clients, h.More)
	}
	h, err = r.HoldersOf(ctx, "orders-reader", "", 1)
	must(t, err)
	if accounts, _ := holderNames(h); !slices.Equal(accounts, []string{"alice"}) || !h.More {
		t.Errorf("a first page of one: %v more %v", accounts, h.More)
	}
	h, err = r.HoldersOf(ctx, "orders-reader", "alice", 1)
	must(t, err)
	if accounts, _ := holderNames(h); !slices.Equal(accounts, []string{"bob"}) || h.More {
		t.Errorf("the page after alice: %v more %v", accounts, h.More)
	}
	h, err = r.HoldersOf(ctx, RoleAdmin, "", 10)
	must(t, err)
	if accounts, clients := holderNames(h); !slices.Equal(accounts, []string{"bob"}) || len(clients) != 0 {
		t.Errorf("holders of admin: %v %v", accounts, clients)
	}
	_, err = r.HoldersOf(ctx, "ghost", "", 10)
	wantRefused(t, "holders of an unknown role", err, ErrUnknownRole, "no role ghost")

	// An m2m client losing the admin role loses its admin tokens (C5).
	_, err = r.GiveRole(ctx, Client("robot"), RoleAdmin, nil)
	must(t, err)
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateGrant(ctx, store.Grant{ID: "cc", ClientID: "robot", Scopes: []string{"sesame:admin"},
			CreatedAt: t0, ExpiresAt: t0.Add(3600e9)})
	})
	_, err = r.TakeRole(ctx, Client("robot"), RoleAdmin, nil)
	must(t, err)
	if g, err := s.Grant(ctx, "cc"); err != nil || g.RevokedAt.IsZero() {
		t.Errorf("robot's client_credentials grant after it lost admin: %+v %v", g, err)
	}
	if roles, err := s.ClientRoles(ctx, "robot"); err != nil || !slices.Equal(roles, []string{"orders-reader"}) {
		t.Errorf("robot keeps its other role: %v %v", roles, err)
	}
}

// Two roles given to one holder at once both stand: each gift reads and
// writes under the lock of every change to roles.
func TestConcurrentGiftsBothStand(t *testing.T) { eachStore(t, testConcurrentGiftsBothStand) }

func testConcurrentGiftsBothStand(t *testing.T, open opener) {
	s, r := seededRegistry(t, open)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, role := range []string{"orders-reader", "orders-writer"} {
		wg.Go(func() { _, errs[i] = r.GiveRole(t.Context(), Account("id-bob"), role, nil) })
	}
	wg.Wait()
	must(t, errors.Join(errs...))
	if roles, err := s.AccountRoles(t.Context(), "id-bob"); err != nil || !slices.Equal(roles, []string{"orders-reader", "orders-writer"}) {
		t.Errorf("bob's roles: %v %v", roles, err)
	}
}

// R1: a role is made without permissions, once: a name taken already,
// the built-in admin role's included, is refused and the role that has it
// keeps its permissions; an invalid name is refused in words.
func TestCreatingARole(t *testing.T) { eachStore(t, testCreatingARole) }

func testCreatingARole(t *testing.T, open opener) {
	_, r := seededRegistry(t, open)
	ctx := t.Context()
	var log recorded

	role, err := r.CreateRole(ctx, "auditor", log.record)
	if err != nil || role.Name != "auditor" || len(role.Permissions) != 0 || role.Declared || !role.CreatedAt.Equal(t0) {
		t.Fatalf("create: %+v %v", role, err)
	}
	_, _, err = r.PutRole(ctx, RoleSpec{Name: "auditor", Permissions: map[string][]string{orders: {"read:orders"}}}, log.record)
	must(t, err)
	_, err = r.CreateRole(ctx, "auditor", log.record)
	wantRefused(t, "create twice", err, ErrExists, "a role auditor exists already")
	_, err = r.CreateRole(ctx, RoleAdmin, log.record)
	wantRefused(t, "create admin", err, ErrExists, "a role admin exists already")
	_, err = r.CreateRole(ctx, "orders-reader", log.record)
	wantRefused(t, "create a declared role", err, ErrExists, "a role orders-reader exists already")
	_, err = r.CreateRole(ctx, "two words", log.record)
	wantRefused(t, "an invalid name", err, ErrInvalid, "name: the role name")
	roles, err := r.Roles(ctx)
	must(t, err)
	i := slices.IndexFunc(roles, func(x Role) bool { return x.Name == "auditor" })
	if i < 0 || !slices.Equal(roles[i].Permissions[orders], []string{"read:orders"}) {
		t.Errorf("auditor after the refused creations: %+v", roles)
	}
	want := recorded{"role.create auditor : no permissions", "role.update auditor : permissions on: " + orders}
	wantRecorded(t, log, want)
}
