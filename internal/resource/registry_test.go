package resource

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	sqlstore "github.com/sesame-id/sesame/internal/store/sql"
	"github.com/sesame-id/sesame/internal/store/sql/pgtest"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return t0 }

// opener opens an empty, migrated store of one database, closed when
// the test ends.
type opener func(testing.TB) store.Store

// eachStore runs fn on each database, SQLite and PostgreSQL (skipped
// without SESAME_TEST_POSTGRES, failed in CI): the registry's reads and
// writes are the store's, and the rules must hold on both.
func eachStore(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqltest.Open) })
	t.Run("postgres", func(t *testing.T) { fn(t, openPostgres) })
}

// openPostgres opens a store on a fresh PostgreSQL database of tb's own.
func openPostgres(tb testing.TB) store.Store {
	tb.Helper()
	st, err := sqlstore.Open(tb.Context(), pgtest.FreshDB(tb), sqlstore.Options{})
	if err != nil {
		tb.Fatalf("open a fresh PostgreSQL store: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// assign gives h the roles, recording nothing.
func assign(t *testing.T, r *Registry, h Holder, roles []string) {
	t.Helper()
	_, err := r.SetRoles(t.Context(), h, roles, nil)
	must(t, err)
}

func seed(t *testing.T, r *Registry, d Declaration) {
	t.Helper()
	must(t, r.Seed(t.Context(), d))
}

// write runs fn in one transaction of s.
func write(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	ctx := t.Context()
	must(t, s.InTx(ctx, store.Durable, func(tx store.Tx) error { return fn(ctx, tx) }))
}

const orders = "https://api.example.com/orders"

// ordersDeclaration is the example: an Orders API, a reader and
// a writer role, alice reading, the reports job reading.
func ordersDeclaration() Declaration {
	return Declaration{
		APIs: []APISpec{
			{Indicator: orders, Name: "Orders API", Scopes: []string{"read:orders", "write:orders", "delete:orders"}, AccessTokenTTL: time.Hour},
			{Indicator: "urn:example:billing", Name: "Billing", Scopes: []string{"read:invoices"}},
		},
		Roles: []RoleSpec{
			{Name: "orders-reader", Permissions: map[string][]string{orders: {"read:orders"}}},
			{Name: "orders-writer", Permissions: map[string][]string{orders: {"write:orders", "read:orders"}, "urn:example:billing": nil}},
		},
		Users:   []Assignment{{Holder: "Alice", Roles: []string{"orders-reader"}}},
		Clients: []Assignment{{Holder: "reports-job", Roles: []string{"orders-reader"}}},
	}
}

// withHolders stores the accounts and clients the declaration names.
func withHolders(t *testing.T, s store.Store) {
	t.Helper()
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, a := range []store.Account{{ID: "id-alice", Username: "alice"}, {ID: "id-bob", Username: "bob"}} {
			if err := tx.UpsertAccount(ctx, a); err != nil {
				return err
			}
		}
		for _, c := range []store.Client{{ID: "reports-job", Type: "m2m"}, {ID: "robot", Type: "m2m"}, {ID: "web-app", Type: "web"}} {
			if err := tx.UpsertClient(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// seededRegistry is a registry over a fresh store of open's database
// holding the accounts and clients of withHolders, seeded with
// ordersDeclaration.
func seededRegistry(t *testing.T, open opener) (store.Store, *Registry) {
	t.Helper()
	s := open(t)
	withHolders(t, s)
	r := &Registry{Store: s, Now: clock}
	seed(t, r, ordersDeclaration())
	return s, r
}

// R2: what an account or m2m client is permitted on an API is the union
// of its roles' permissions, in the API's order, and only scopes the API
// still defines; no role permits nothing; an unknown API is ErrUnknown.
func TestPermittedIsTheUnionOverRoles(t *testing.T) { eachStore(t, testPermittedIsTheUnionOverRoles) }

func testPermittedIsTheUnionOverRoles(t *testing.T, open opener) {
	s, r := seededRegistry(t, open)
	ctx := t.Context()

	got, err := r.PermittedForAccount(ctx, "id-alice", orders)
	must(t, err)
	if !reflect.DeepEqual(got, []string{"read:orders"}) {
		t.Errorf("alice (reader) is permitted %v", got)
	}
	assign(t, r, Account("id-alice"), []string{"orders-writer", "orders-reader"})
	got, err = r.PermittedForAccount(ctx, "id-alice", orders)
	must(t, err)
	if !reflect.DeepEqual(got, []string{"read:orders", "write:orders"}) {
		t.Errorf("alice (reader and writer) is permitted %v, want the API's order", got)
	}
	got, err = r.PermittedForAccount(ctx, "id-bob", orders)
	if err != nil || got != nil {
		t.Errorf("bob (no role) is permitted %v, %v; want none", got, err)
	}
	got, err = r.PermittedForClient(ctx, "reports-job", orders)
	if err != nil || !reflect.DeepEqual(got, []string{"read:orders"}) {
		t.Errorf("reports-job is permitted %v, %v", got, err)
	}
	// A resource given with no scope: permitted, with none.
	got, err = r.PermittedForAccount(ctx, "id-alice", "urn:example:billing")
	if err != nil || got != nil {
		t.Errorf("billing: %v, %v; want no scope", got, err)
	}
	if _, err := r.PermittedForAccount(ctx, "id-alice", "https://api.example.com/unknown"); !errors.Is(err, ErrUnknown) {
		t.Errorf("an unknown API: %v, want ErrUnknown", err)
	}

	// The API drops write:orders: a role still naming it permits it no
	// more.
	d := ordersDeclaration()
	d.APIs[0].Scopes = []string{"read:orders"}
	d.Roles[1].Permissions = map[string][]string{orders: {"read:orders"}}
	seed(t, r, d)
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.UpsertRole(ctx, store.Role{Name: "stale", Permissions: map[string][]string{orders: {"write:orders"}}})
	})
	r.ForgetAll()
	assign(t, r, Account("id-bob"), []string{"stale"})
	got, err = r.PermittedForAccount(ctx, "id-bob", orders)
	if err != nil || got != nil {
		t.Errorf("a scope the API no longer defines is permitted: %v, %v", got, err)
	}
}

// C4: Seed writes what the file declares, marked declared, with the
// built-in admin role; it leaves alone what the file does not declare;
// what the file stops declaring stays, unmarked; the roles of declared
// holders are exactly their entries'. A second Seed of the same file
// writes nothing, so it tells no instance to forget anything.
func TestSeedAppliesTheDeclarationAndLeavesTheRestAlone(t *testing.T) {
	eachStore(t, testSeedAppliesTheDeclarationAndLeavesTheRestAlone)
}

func testSeedAppliesTheDeclarationAndLeavesTheRestAlone(t *testing.T, open opener) {
	s := open(t)
	withHolders(t, s)
	ctx := t.Context()
	// Made by the admin API before: not the file's.
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.UpsertAPIResource(ctx, store.APIResource{Indicator: "urn:api-made", Scopes: []string{"x"}}); err != nil {
			return err
		}
		if err := tx.UpsertRole(ctx, store.Role{Name: "api-made"}); err != nil {
			return err
		}
		if err := tx.SetAccountRoles(ctx, "id-bob", []string{"api-made"}); err != nil {
			return err
		}
		return tx.SetAccountRoles(ctx, "id-alice", []string{"api-made"})
	})
	var mu sync.Mutex
	var changes []store.Change
	s.OnCommit(func(c store.Change) {
		mu.Lock()
		defer mu.Unlock()
		if c.Kind == store.ChangeResources {
			changes = append(changes, c)
		}
	})
	r := &Registry{Store: s, Now: clock}
	seed(t, r, ordersDeclaration())

	apis, err := s.APIResources(ctx)
	must(t, err)
	declared := map[string]bool{}
	for _, a := range apis {
		declared[a.Indicator] = a.Declared
	}
	if !reflect.DeepEqual(declared, map[string]bool{orders: true, "urn:example:billing": true, "urn:api-made": false}) {
		t.Errorf("resources after the seed (indicator: declared): %v", declared)
	}
	roles, err := s.Roles(ctx)
	must(t, err)
	declared = map[string]bool{}
	for _, role := range roles {
		declared[role.Name] = role.Declared
	}
	if !reflect.DeepEqual(declared, map[string]bool{"admin": true, "api-made": false, "orders-reader": true, "orders-writer": true}) {
		t.Errorf("roles after the seed (name: declared): %v", declared)
	}
	for h, want := range map[Holder][]string{
		Account("id-alice"):   {"orders-reader"}, // the file's entry replaces
		Account("id-bob"):     {"api-made"},      // no entry: left alone
		Client("reports-job"): {"orders-reader"},
		Client("robot"):       {},
	} {
		got, err := r.RolesOf(ctx, h)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s holds %v, %v; want %v", h, got, err, want)
		}
	}

	mu.Lock()
	changes = nil
	mu.Unlock()
	seed(t, r, ordersDeclaration())
	mu.Lock()
	if len(changes) != 0 {
		t.Errorf("seeding the same file again committed %v", changes)
	}
	mu.Unlock()

	// The file stops declaring the billing API and the writer role: both
	// stay, for the admin API to manage.
	d := ordersDeclaration()
	d.APIs = d.APIs[:1]
	d.Roles = d.Roles[:1]
	seed(t, r, d)
	apis, err = s.APIResources(ctx)
	must(t, err)
	for _, a := range apis {
		if a.Indicator == "urn:example:billing" && a.Declared {
			t.Error("billing is still marked declared")
		}
	}
	if len(apis) != 3 {
		t.Errorf("%d resources after the file dropped one, want 3 (kept)", len(apis))
	}
	roles, err = s.Roles(ctx)
	must(t, err)
	for _, role := range roles {
		if role.Name == "orders-writer" && (role.Declared || !reflect.DeepEqual(role.Permissions, ordersDeclaration().Roles[1].Permissions)) {
			t.Errorf("orders-writer after the file dropped it: %+v", role)
		}
	}
}

// Seed writes nothing from an invalid declaration, and fails on a
// declared holder that does not exist.
func TestSeedRefusesWhatCannotBeApplied(t *testing.T) {
	eachStore(t, testSeedRefusesWhatCannotBeApplied)
}

func testSeedRefusesWhatCannotBeApplied(t *testing.T, open opener) {
	s := open(t)
	withHolders(t, s)
	r := &Registry{Store: s, Now: clock}
	bad := ordersDeclaration()
	bad.Roles[0].Permissions = map[string][]string{"https://elsewhere.example": {"x"}}
	if err := r.Seed(t.Context(), bad); err == nil {
		t.Error("an invalid declaration was seeded")
	}
	if apis, _ := s.APIResources(t.Context()); len(apis) != 0 {
		t.Errorf("an invalid declaration wrote %v", apis)
	}
	for _, d := range []Declaration{
		{Users: []Assignment{{Holder: "nobody", Roles: []string{"admin"}}}},
		{Clients: []Assignment{{Holder: "no-client", Roles: []string{"admin"}}}},
		{Clients: []Assignment{{Holder: "web-app", Roles: []string{"admin"}}}},
	} {
		if err := r.Seed(t.Context(), d); err == nil {
			t.Errorf("%+v was seeded", d)
		}
	}
	if roles, _ := s.Roles(t.Context()); len(roles) != 0 {
		t.Errorf("a failed seed wrote %v", roles)
	}
}

// R1: roles are given only if they exist, and to m2m clients only among
// clients (a person's roles come with their account).
func TestSetRolesRefusesUnknownRolesAndNonMachineClients(t *testing.T) {
	eachStore(t, testSetRolesRefusesUnknownRolesAndNonMachineClients)
}

func testSetRolesRefusesUnknownRolesAndNonMachineClients(t *testing.T, open opener) {
	_, r := seededRegistry(t, open)
	ctx := t.Context()
	if _, err := r.SetRoles(ctx, Account("id-bob"), []string{"orders-reader", "ghost"}, nil); !errors.Is(err, ErrUnknownRole) {
		t.Errorf("an unknown role: %v, want ErrUnknownRole", err)
	}
	if _, err := r.SetRoles(ctx, Client("web-app"), []string{"orders-reader"}, nil); !errors.Is(err, ErrNotM2M) {
		t.Errorf("a web client: %v, want ErrNotM2M", err)
	}
	if _, err := r.SetRoles(ctx, Client("gone"), []string{"admin"}, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown client: %v, want ErrNotFound", err)
	}
	if got, _ := r.RolesOf(ctx, Account("id-bob")); len(got) != 0 {
		t.Errorf("bob holds %v after refusals", got)
	}
	// The built-in admin role needs no declaration.
	assign(t, r, Account("id-bob"), []string{"admin", "admin"})
	if ok, err := r.HasRole(ctx, Account("id-bob"), RoleAdmin); !ok || err != nil {
		t.Errorf("bob given admin: HasRole %v, %v", ok, err)
	}
}

// C5, G2: an m2m client that loses the admin role loses its admin tokens
// at once: its own client_credentials grants are revoked in the same
// transaction, people's grants for it are not; keeping the role, or
// changing other roles, revokes nothing.
func TestLosingTheAdminRoleEndsTheClientsTokens(t *testing.T) {
	eachStore(t, testLosingTheAdminRoleEndsTheClientsTokens)
}

func testLosingTheAdminRoleEndsTheClientsTokens(t *testing.T, open opener) {
	s, r := seededRegistry(t, open)
	ctx := t.Context()
	assign(t, r, Client("robot"), []string{RoleAdmin})
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateGrant(ctx, store.Grant{ID: "own", ClientID: "robot", Scopes: []string{"sesame:admin"}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			return err
		}
		return tx.CreateGrant(ctx, store.Grant{ID: "person", AccountID: "id-alice", ClientID: "robot", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	})
	assign(t, r, Client("robot"), []string{RoleAdmin, "orders-reader"})
	if g, _ := s.Grant(ctx, "own"); !g.RevokedAt.IsZero() {
		t.Fatalf("keeping admin revoked the grant: %+v", g)
	}
	assign(t, r, Client("robot"), []string{"orders-reader"})
	if g, _ := s.Grant(ctx, "own"); g.RevokedAt.IsZero() || g.RevokeReason != ReasonRoleRemoved {
		t.Errorf("the client's own grant after losing admin: %+v", g)
	}
	if g, _ := s.Grant(ctx, "person"); !g.RevokedAt.IsZero() {
		t.Errorf("a person's grant for the client was revoked: %+v", g)
	}
	if ok, _ := r.HasRole(ctx, Client("robot"), RoleAdmin); ok {
		t.Error("the client still holds admin")
	}
}

// The registry serves from memory, yet a change committed anywhere is
// seen by the next read once its ChangeResources is heard (Forget), even
// with a long CacheFor: an account that loses admin is refused at once.
// A read that started before the change is never kept over it.
func TestCacheForgetsOnChange(t *testing.T) { eachStore(t, testCacheForgetsOnChange) }

func testCacheForgetsOnChange(t *testing.T, open opener) {
	s := open(t)
	withHolders(t, s)
	r := &Registry{Store: s, Now: clock, CacheFor: time.Hour}
	s.OnCommit(func(c store.Change) {
		switch c.Kind {
		case store.ChangeResources:
			r.Forget(c.ID)
		case store.ChangeAll:
			r.ForgetAll()
		}
	})
	seed(t, r, ordersDeclaration())
	ctx := t.Context()
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.SetAccountRoles(ctx, "id-bob", []string{"admin"})
	})
	if ok, _ := r.HasRole(ctx, Account("id-bob"), RoleAdmin); !ok {
		t.Fatal("bob was given admin, unseen")
	}
	if _, err := r.API(ctx, orders); err != nil {
		t.Fatal(err)
	}
	// Written straight to the store, as another instance or the CLI would.
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetAccountRoles(ctx, "id-bob", nil); err != nil {
			return err
		}
		return tx.UpsertAPIResource(ctx, store.APIResource{Indicator: "urn:new"})
	})
	if ok, _ := r.HasRole(ctx, Account("id-bob"), RoleAdmin); ok {
		t.Error("bob lost admin, but the registry still says he holds it")
	}
	if _, err := r.API(ctx, "urn:new"); err != nil {
		t.Errorf("a resource added is unknown: %v", err)
	}

	// Without a change heard, the cached copy serves: the store is not
	// read again (a closed store would fail).
	cached := &Registry{Store: s, Now: clock, CacheFor: time.Hour}
	if _, err := cached.RolesOf(ctx, Account("id-alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.API(ctx, orders); err != nil {
		t.Fatal(err)
	}
	closed := open(t)
	must(t, closed.Close())
	cached.Store = closed
	if got, err := cached.RolesOf(ctx, Account("id-alice")); err != nil || !slices.Equal(got, []string{"orders-reader"}) {
		t.Errorf("cached roles: %v, %v", got, err)
	}
	if _, err := cached.API(ctx, orders); err != nil {
		t.Errorf("cached API: %v", err)
	}
	cached.Forget(Account("id-alice").String())
	if _, err := cached.RolesOf(ctx, Account("id-alice")); err == nil {
		t.Error("a forgotten holder was served from the cache")
	}
}

// A read that began before a Forget does not keep its result: the change
// it may have missed would otherwise be covered for CacheFor. What is
// tested is the registry's memory, over a store that holds a read: one
// database is enough.
func TestAReadOverlappingAForgetIsNotKept(t *testing.T) {
	s := sqltest.Open(t)
	withHolders(t, s)
	slow := &gatedStore{Store: s, gate: make(chan struct{}), entered: make(chan struct{})}
	r := &Registry{Store: slow, Now: clock, CacheFor: time.Hour}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = r.RolesOf(context.Background(), Account("id-alice"))
	}()
	<-slow.entered
	r.Forget(Account("id-alice").String())
	close(slow.gate)
	<-done
	r.mu.Lock()
	_, kept := r.holders[Account("id-alice").String()]
	r.mu.Unlock()
	if kept {
		t.Error("a read overlapping a Forget was kept")
	}
}

// gatedStore holds AccountRoles until gate closes.
type gatedStore struct {
	store.Store
	gate, entered chan struct{}
}

func (g *gatedStore) AccountRoles(ctx context.Context, id string) ([]string, error) {
	close(g.entered)
	<-g.gate
	return g.Store.AccountRoles(ctx, id)
}
