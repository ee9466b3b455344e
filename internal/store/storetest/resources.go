package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// resourceTests cover API resources, roles and their holders (R1), the
// resources a grant covers (G1, R2) and the records of JWT access tokens
// (R3).
var resourceTests = []test{
	{"EveryReadOfAGrantKeepsItsResources", testEveryReadOfAGrantKeepsItsResources},
	{"UpdateGrantResourcesReplacesThem", testUpdateGrantResourcesReplacesThem},
	{"ResourcesThatAreNotWordsAreRefused", testResourcesThatAreNotWordsAreRefused},
	{"APIResourcesUpsertAndListInIndicatorOrder", testAPIResourcesUpsertAndList},
	{"ScopeDescriptionsRoundTripAndAreReplacedWhole", testScopeDescriptionsRoundTripAndAreReplacedWhole},
	{"UpsertRoleReplacesItsPermissions", testUpsertRoleReplacesItsPermissions},
	{"SetRolesReplacesOneHoldersRoles", testSetRolesReplacesOneHoldersRoles},
	{"ConcurrentSetRolesLeaveOneOfTheSets", testConcurrentSetRolesLeaveOneOfTheSets},
	{"DeleteClientTakesItsRoles", testDeleteClientTakesItsRoles},
	{"DeleteAPIResourceTakesThePermissionsOnIt", testDeleteAPIResourceTakesThePermissionsOnIt},
	{"DeleteRoleTakesItsPermissionsAndHolders", testDeleteRoleTakesItsPermissionsAndHolders},
	{"ResourceChangesReachOnCommit", testResourceChangesReachOnCommit},
	{"JWTAccessTokenIsFoundByItsJTIOnly", testJWTAccessTokenIsFoundByItsJTIOnly},
	{"DeleteJWTAccessTokenTakesThatOneOnly", testDeleteJWTAccessTokenTakesThatOneOnly},
}

// G1, R2, R3: the resources a grant covers come back with it from every
// read: by id, the account's lists, and the joined reads of a token with
// its grant (introspection, userinfo, refresh), inside the writing
// transaction and after it.
func testEveryReadOfAGrantKeepsItsResources(t *testing.T, s store.Store) {
	g := liveGrant("g1", "acct", "app")
	g.CreatedAt = at(-time.Minute)
	access := liveAccessToken("at", g.ID)
	refresh := liveRefreshToken("rt", g.ID)
	reads := func(ctx context.Context, r store.Reader) map[string]store.Grant {
		got := map[string]store.Grant{}
		var err error
		got["Grant"], err = r.Grant(ctx, g.ID)
		must(t, "Grant", err)
		list, err := r.GrantsByAccount(ctx, "acct")
		must(t, "GrantsByAccount", err)
		if len(list) == 1 {
			got["GrantsByAccount"] = list[0]
		}
		list, err = r.LiveGrants(ctx, "acct", "app", t0)
		must(t, "LiveGrants", err)
		if len(list) == 1 {
			got["LiveGrants"] = list[0]
		}
		_, got["AccessTokenGrant"], err = r.AccessTokenGrant(ctx, access.Hash)
		must(t, "AccessTokenGrant", err)
		_, got["RefreshTokenGrant"], err = r.RefreshTokenGrant(ctx, refresh.Hash)
		must(t, "RefreshTokenGrant", err)
		return got
	}
	want := map[string]store.Grant{"Grant": g, "GrantsByAccount": g, "LiveGrants": g, "AccessTokenGrant": g, "RefreshTokenGrant": g}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "grant", tx.CreateGrant(ctx, g))
		must(t, "access token", tx.CreateAccessToken(ctx, access))
		must(t, "refresh token", tx.CreateRefreshToken(ctx, refresh))
		equal(t, "reads in the transaction", reads(ctx, tx), want)
		return nil
	})
	equal(t, "reads after commit", reads(t.Context(), s), want)
	equal(t, "reads on the primary", reads(t.Context(), s.Primary()), want)
}

// R2: consenting to another API replaces the resources a grant covers,
// and only those; an empty map leaves it covering none.
func testUpdateGrantResourcesReplacesThem(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "g1", tx.CreateGrant(ctx, liveGrant("g1", "acct", "app")))
		return tx.CreateGrant(ctx, liveGrant("g2", "acct", "app"))
	})
	for _, resources := range []map[string][]string{
		{"https://api.example.com/orders": {"read:orders"}, "https://api.example.com/stock": {"read:stock", "count:stock"}},
		{},
		{"urn:example:billing": nil},
	} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateGrantResources(ctx, "g1", resources) })
		want := liveGrant("g1", "acct", "app")
		want.Resources = resources
		if len(resources) == 0 {
			want.Resources = nil
		}
		got, err := s.Grant(t.Context(), "g1")
		must(t, "read", err)
		equal(t, "grant after update", got, want)
	}
	other, err := s.Grant(t.Context(), "g2")
	must(t, "read g2", err)
	equal(t, "other grant", other, liveGrant("g2", "acct", "app"))
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateGrantResources(ctx, "nope", nil) })
	wantErr(t, "unknown grant", err, store.ErrNotFound)
}

// A resource's indicator and scopes are stored as words (an absolute URI
// and scope tokens hold no white space, RFC 8707 §2, RFC 6749 §3.3): one
// that is not a word is refused, never stored as something else, and the
// transaction writes nothing.
func testResourcesThatAreNotWordsAreRefused(t *testing.T, s store.Store) {
	for i, resources := range []map[string][]string{
		{"https://api.example.com/a b": {"read"}},
		{"": {"read"}},
		{"https://api.example.com/\norders": nil},
		{"https://api.example.com/orders": {"two words"}},
		{"https://api.example.com/orders": {""}},
	} {
		g := liveGrant(name("g", i), "acct", "app")
		g.Resources = resources
		err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateGrant(ctx, g) })
		if err == nil {
			t.Errorf("resources %q were stored", resources)
		}
		if _, err := s.Grant(t.Context(), g.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("grant with resources %q: %v, want ErrNotFound", resources, err)
		}
	}
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.UpsertAPIResource(ctx, store.APIResource{Indicator: "urn:x", Scopes: []string{"a b"}})
	})
	if err == nil {
		t.Error("an API resource's scope with a space was stored")
	}
}

// R1, C4: upserting a resource replaces every field but CreatedAt (the
// declared mark included, so a resource the file stops declaring can be
// handed to the admin API); the list is in indicator order.
func testAPIResourcesUpsertAndList(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, ind := range []string{"urn:b", "https://c.example/api", "urn:a"} {
			must(t, ind, tx.UpsertAPIResource(ctx, fullAPIResource(ind)))
		}
		return nil
	})
	changed := store.APIResource{Indicator: "urn:a", Name: "renamed", Scopes: []string{"only"}, AccessTokenTTL: time.Minute,
		CreatedAt: at(time.Hour), UpdatedAt: at(2 * time.Hour)}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAPIResource(ctx, changed) })
	list, err := s.APIResources(t.Context())
	must(t, "list", err)
	equal(t, "order", ids(list, func(a store.APIResource) string { return a.Indicator }),
		[]string{"https://c.example/api", "urn:a", "urn:b"})
	want := changed
	want.CreatedAt = fullAPIResource("urn:a").CreatedAt
	if len(list) == 3 {
		equal(t, "upserted again", list[1], want)
		equal(t, "untouched", list[2], fullAPIResource("urn:b"))
	}
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAPIResource(ctx, store.APIResource{}) })
	if err == nil {
		t.Error("a resource with no indicator was stored")
	}
}

// R1: an API resource's scope descriptions come back as written, inside
// the writing transaction and after it, whatever characters they hold
// (quotes, backslashes, text that looks like JSON, outside the BMP); an
// upsert replaces them whole, so a scope it no longer describes loses its
// text; none, nil or empty, reads back nil; and another resource keeps
// its own. A text that is not UTF-8 or holds a NUL, which one of the two
// databases would store as something else or refuse, is refused on both
// and changes nothing.
func testScopeDescriptionsRoundTripAndAreReplacedWhole(t *testing.T, s store.Store) {
	const orders, other = "https://api.example.com/orders", "urn:example:other"
	read := func(ctx context.Context, r store.Reader, indicator string) store.APIResource {
		t.Helper()
		list, err := r.APIResources(ctx)
		must(t, "list", err)
		for _, a := range list {
			if a.Indicator == indicator {
				return a
			}
		}
		t.Fatalf("%s is not listed", indicator)
		return store.APIResource{}
	}
	a := fullAPIResource(orders)
	a.ScopeDescriptions = map[string]string{
		"read:orders":  "Lire vos commandes « en cours » 🧾",
		"write:orders": `Say "place", \ or {"scope": "write"} `,
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "orders", tx.UpsertAPIResource(ctx, a))
		must(t, "other", tx.UpsertAPIResource(ctx, fullAPIResource(other)))
		equal(t, "in the transaction", read(ctx, tx, orders), a)
		return nil
	})
	equal(t, "after commit", read(t.Context(), s, orders), a)

	a.ScopeDescriptions = map[string]string{"write:orders": "Change orders"}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAPIResource(ctx, a) })
	equal(t, "replaced", read(t.Context(), s, orders), a)
	for _, none := range []map[string]string{{}, nil} {
		a.ScopeDescriptions = map[string]string{"read:orders": "Read your orders"}
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAPIResource(ctx, a) })
		a.ScopeDescriptions = none
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAPIResource(ctx, a) })
		a.ScopeDescriptions = nil
		equal(t, fmt.Sprintf("replaced by %#v", none), read(t.Context(), s, orders), a)
	}
	equal(t, "the other resource", read(t.Context(), s, other), fullAPIResource(other))

	for _, d := range []string{"not UTF-8: \xff", "a NUL: \x00."} {
		bad := a
		bad.ScopeDescriptions = map[string]string{"read:orders": d}
		if err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAPIResource(ctx, bad) }); err == nil {
			t.Errorf("description %q was stored", d)
		}
	}
	equal(t, "after the refusals", read(t.Context(), s, orders), a)
}

// R1: upserting a role replaces its permissions: a resource it no longer
// lists is gone from it, and other roles keep theirs. Roles are listed by
// name.
func testUpsertRoleReplacesItsPermissions(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "writer", tx.UpsertRole(ctx, fullRole("writer")))
		must(t, "admin", tx.UpsertRole(ctx, store.Role{Name: "admin", Declared: true}))
		return tx.UpsertRole(ctx, fullRole("reader"))
	})
	narrower := store.Role{Name: "reader", Permissions: map[string][]string{"https://api.example.com/orders": {"read:orders"}},
		CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertRole(ctx, narrower) })
	list, err := s.Roles(t.Context())
	must(t, "list", err)
	want := narrower
	want.CreatedAt = fullRole("reader").CreatedAt
	equal(t, "roles", list, []store.Role{{Name: "admin", Declared: true}, want, fullRole("writer")})

	// A role may lose every permission.
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertRole(ctx, store.Role{Name: "writer"}) })
	list, err = s.Roles(t.Context())
	must(t, "list", err)
	if len(list) == 3 {
		equal(t, "role without permissions", list[2], store.Role{Name: "writer", CreatedAt: fullRole("writer").CreatedAt})
	}
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertRole(ctx, store.Role{}) })
	if err == nil {
		t.Error("a role with no name was stored")
	}
}

// R1: setting a holder's roles replaces them; an account and a client of
// the same id are different holders, and a holder of no role reads an
// empty list.
func testSetRolesReplacesOneHoldersRoles(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "alice", tx.SetAccountRoles(ctx, "alice", []string{"writer", "admin", "reader"}))
		must(t, "bob", tx.SetAccountRoles(ctx, "bob", []string{"reader"}))
		must(t, "client alice", tx.SetClientRoles(ctx, "alice", []string{"robot"}))
		must(t, "robot", tx.SetClientRoles(ctx, "robot", []string{"admin"}))
		// Read inside the transaction, the new roles show.
		got, err := tx.AccountRoles(ctx, "alice")
		equal(t, "alice's roles in the transaction", got, []string{"admin", "reader", "writer"})
		return err
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "alice", tx.SetAccountRoles(ctx, "alice", []string{"reader"}))
		return tx.SetClientRoles(ctx, "robot", nil)
	})
	for _, c := range []struct {
		what string
		read func(context.Context, string) ([]string, error)
		id   string
		want []string
	}{
		{"account alice", s.AccountRoles, "alice", []string{"reader"}},
		{"account bob", s.AccountRoles, "bob", []string{"reader"}},
		{"account carol", s.AccountRoles, "carol", []string{}},
		{"client alice", s.ClientRoles, "alice", []string{"robot"}},
		{"client robot", s.ClientRoles, "robot", []string{}},
	} {
		got, err := c.read(ctx, c.id)
		must(t, c.what, err)
		equal(t, c.what, got, c.want)
	}
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.SetAccountRoles(ctx, "alice", []string{""}) })
	if err == nil {
		t.Error("an empty role name was stored")
	}
}

// R1: of concurrent replacements of one holder's roles, the last one
// stands whole: never the union of two (which a delete-then-insert
// without the holder's lock leaves on PostgreSQL).
func testConcurrentSetRolesLeaveOneOfTheSets(t *testing.T, s store.Store) {
	sets := [][]string{{"a1", "a2"}, {"b1", "b2"}, {"c1"}, {"d1", "d2", "d3"}}
	for range 5 {
		var wg sync.WaitGroup
		for _, set := range sets {
			wg.Go(func() {
				mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.SetAccountRoles(ctx, "alice", set) })
			})
		}
		wg.Wait()
		got, err := s.AccountRoles(t.Context(), "alice")
		must(t, "read", err)
		if !slices.ContainsFunc(sets, func(set []string) bool { return slices.Equal(set, got) }) {
			t.Fatalf("alice holds %v, which no single call set", got)
		}
	}
}

// R1: a deleted client's roles go with it, so a client made again under
// its id does not inherit them (an admin role least of all).
func testDeleteClientTakesItsRoles(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "robot", tx.UpsertClient(ctx, fullClient("robot")))
		must(t, "roles", tx.SetClientRoles(ctx, "robot", []string{"admin"}))
		return tx.SetClientRoles(ctx, "other", []string{"admin"})
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.DeleteClient(ctx, "robot", t0)
		return err
	})
	got, err := s.ClientRoles(t.Context(), "robot")
	must(t, "read", err)
	equal(t, "roles of the deleted client", got, []string{})
	got, err = s.ClientRoles(t.Context(), "other")
	must(t, "read", err)
	equal(t, "roles of another client", got, []string{"admin"})
}

// R1, R2: deleting an API resource takes every role's permission on it
// and leaves their others, and other resources, alone; a role left with
// no permission stays. A grant that covers the resource keeps it: what
// was granted is history, and the token endpoint refuses the resource
// from then on. An unknown indicator is ErrNotFound, and writes nothing.
func testDeleteAPIResourceTakesThePermissionsOnIt(t *testing.T, s store.Store) {
	const orders, billing = "https://api.example.com/orders", "urn:example:billing"
	ordersOnly := store.Role{Name: "orders-only", Permissions: map[string][]string{orders: {"read:orders"}}}
	g := liveGrant("g1", "acct", "app")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "orders", tx.UpsertAPIResource(ctx, fullAPIResource(orders)))
		must(t, "billing", tx.UpsertAPIResource(ctx, fullAPIResource(billing)))
		must(t, "reader", tx.UpsertRole(ctx, fullRole("reader")))
		must(t, "orders-only", tx.UpsertRole(ctx, ordersOnly))
		return tx.CreateGrant(ctx, g)
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "delete", tx.DeleteAPIResource(ctx, orders))
		// Read in the transaction, the resource and its permissions are gone.
		list, err := tx.APIResources(ctx)
		equal(t, "resources in the transaction", ids(list, func(a store.APIResource) string { return a.Indicator }), []string{billing})
		return err
	})
	list, err := s.APIResources(t.Context())
	must(t, "list", err)
	equal(t, "resources", list, []store.APIResource{fullAPIResource(billing)})
	roles, err := s.Roles(t.Context())
	must(t, "roles", err)
	reader := fullRole("reader")
	reader.Permissions = map[string][]string{billing: nil}
	ordersOnly.Permissions = nil
	equal(t, "roles", roles, []store.Role{ordersOnly, reader})
	got, err := s.Grant(t.Context(), g.ID)
	must(t, "grant", err)
	equal(t, "the grant's resources", got.Resources, g.Resources)

	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.DeleteAPIResource(ctx, orders); err != nil {
			return err
		}
		return tx.UpsertAPIResource(ctx, fullAPIResource("urn:written-after-the-error"))
	})
	wantErr(t, "deleted twice", err, store.ErrNotFound)
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteAPIResource(ctx, "urn:never") })
	wantErr(t, "unknown", err, store.ErrNotFound)
	list, err = s.APIResources(t.Context())
	must(t, "list", err)
	equal(t, "resources after the refusals", len(list), 1)
}

// R1, C5: deleting a role takes its permissions and every account's and
// client's hold of it, and nothing of other roles: a role made again
// under its name is held by nobody (an admin-like role least of all).
// An unknown name is ErrNotFound.
func testDeleteRoleTakesItsPermissionsAndHolders(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "reader", tx.UpsertRole(ctx, fullRole("reader")))
		must(t, "writer", tx.UpsertRole(ctx, fullRole("writer")))
		must(t, "alice", tx.SetAccountRoles(ctx, "alice", []string{"reader", "writer"}))
		must(t, "bob", tx.SetAccountRoles(ctx, "bob", []string{"reader"}))
		must(t, "robot", tx.SetClientRoles(ctx, "robot", []string{"reader"}))
		return tx.SetClientRoles(ctx, "worker", []string{"writer"})
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "delete", tx.DeleteRole(ctx, "reader"))
		got, err := tx.AccountRoles(ctx, "bob")
		equal(t, "bob's roles in the transaction", got, []string{})
		return err
	})
	roles, err := s.Roles(t.Context())
	must(t, "roles", err)
	equal(t, "roles", roles, []store.Role{fullRole("writer")})
	for _, c := range []struct {
		what string
		read func(context.Context, string) ([]string, error)
		id   string
		want []string
	}{
		{"account alice", s.AccountRoles, "alice", []string{"writer"}},
		{"account bob", s.AccountRoles, "bob", []string{}},
		{"client robot", s.ClientRoles, "robot", []string{}},
		{"client worker", s.ClientRoles, "worker", []string{"writer"}},
	} {
		got, err := c.read(t.Context(), c.id)
		must(t, c.what, err)
		equal(t, c.what, got, c.want)
	}

	// Made again, the role has only its new permissions, and no holder.
	again := store.Role{Name: "reader", CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertRole(ctx, again) })
	roles, err = s.Roles(t.Context())
	must(t, "roles", err)
	equal(t, "roles after making it again", roles, []store.Role{again, fullRole("writer")})
	got, err := s.AccountRoles(t.Context(), "bob")
	must(t, "bob", err)
	equal(t, "bob's roles after making it again", got, []string{})

	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteRole(ctx, "never") })
	wantErr(t, "unknown", err, store.ErrNotFound)
}

// R1: each change to resources, roles or who holds them reaches the
// OnCommit hooks before the commit returns, naming the holder whose roles
// changed, so a cache of them never serves the old copy (an admin role
// just taken away still opening the admin API).
func testResourceChangesReachOnCommit(t *testing.T, s store.Store) {
	var mu sync.Mutex
	var got []store.Change
	s.OnCommit(func(c store.Change) {
		mu.Lock()
		defer mu.Unlock()
		if c.Kind == store.ChangeResources {
			got = append(got, c)
		}
	})
	for _, c := range []struct {
		what string
		fn   func(ctx context.Context, tx store.Tx) error
		want store.Change
	}{
		{"UpsertAPIResource", func(ctx context.Context, tx store.Tx) error {
			return tx.UpsertAPIResource(ctx, fullAPIResource("urn:a"))
		}, store.Change{Kind: store.ChangeResources}},
		{"UpsertRole", func(ctx context.Context, tx store.Tx) error {
			return tx.UpsertRole(ctx, fullRole("reader"))
		}, store.Change{Kind: store.ChangeResources}},
		{"SetAccountRoles", func(ctx context.Context, tx store.Tx) error {
			return tx.SetAccountRoles(ctx, "alice", []string{"reader"})
		}, store.Change{Kind: store.ChangeResources, ID: store.ResourceHolderAccount + "alice"}},
		{"SetClientRoles", func(ctx context.Context, tx store.Tx) error {
			return tx.SetClientRoles(ctx, "robot", []string{"reader"})
		}, store.Change{Kind: store.ChangeResources, ID: store.ResourceHolderClient + "robot"}},
		{"DeleteClient", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.DeleteClient(ctx, "robot", t0)
			return err
		}, store.Change{Kind: store.ChangeResources, ID: store.ResourceHolderClient + "robot"}},
		// Names no holder: every holder of the role may have lost it.
		{"DeleteRole", func(ctx context.Context, tx store.Tx) error {
			return tx.DeleteRole(ctx, "reader")
		}, store.Change{Kind: store.ChangeResources}},
		{"DeleteAPIResource", func(ctx context.Context, tx store.Tx) error {
			return tx.DeleteAPIResource(ctx, "urn:a")
		}, store.Change{Kind: store.ChangeResources}},
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		mustTx(t, s, c.fn)
		mu.Lock()
		equal(t, c.what, got, []store.Change{c.want})
		mu.Unlock()
	}
	// A rolled-back change is never heard.
	mu.Lock()
	got = nil
	mu.Unlock()
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetAccountRoles(ctx, "alice", nil); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("the transaction did not fail")
	}
	mu.Lock()
	defer mu.Unlock()
	equal(t, "after a rollback", got, nil)
}

// R3: a JWT access token's record is found by its jti, and only by it: a
// jti recorded twice is ErrConflict, an unknown one, one differing by a
// character or by a line break, and one that is not base64url are
// ErrNotFound; a jti that is not base64url cannot be recorded.
func testJWTAccessTokenIsFoundByItsJTIOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := fullJWTAccessToken("jwt")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, tok) })
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, tok) })
	wantErr(t, "recorded twice", err, store.ErrConflict)
	got, err := s.JWTAccessToken(ctx, tok.JTI)
	must(t, "read", err)
	equal(t, "record", got, tok)

	// A jti leads with its expiry: one differing in its first letter
	// differs there, one differing in its eleventh only in its random
	// bits.
	other, otherRandom := otherLetterAt(tok.JTI, 0), otherLetterAt(tok.JTI, 10)
	for _, j := range []string{jti("never issued", tok.ExpiresAt), legacyJTI("never issued"), other, otherRandom,
		tok.JTI + "\n", tok.JTI[:10] + "\r\n" + tok.JTI[10:], tok.JTI + "=", "not base64url!", tok.JTI[:20], ""} {
		if _, err := s.JWTAccessToken(ctx, j); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("jti %q: %v, want ErrNotFound", j, err)
		}
	}
	for _, j := range []string{"", "not base64url!", tok.JTI + "=="} {
		bad := fullJWTAccessToken("bad")
		bad.JTI = j
		if err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, bad) }); err == nil {
			t.Errorf("jti %q was recorded", j)
		}
	}
	// A client_credentials token hangs off no grant.
	m2m := store.JWTAccessToken{JTI: jti("m2m", tokenExpiry(time.Hour)), ClientID: "robot", Subject: "robot", Resource: "urn:x",
		CreatedAt: t0, ExpiresAt: tokenExpiry(time.Hour)}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, m2m) })
	got, err = s.JWTAccessToken(ctx, m2m.JTI)
	must(t, "read m2m", err)
	equal(t, fmt.Sprintf("record of %s", m2m.JTI), got, m2m)
}

// R3, RFC 7009: deleting a JWT access token's record (its revocation)
// takes that record alone; deleting it again, an unknown jti or one that
// is not base64url is no error and takes nothing.
func testDeleteJWTAccessTokenTakesThatOneOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	gone, kept := fullJWTAccessToken("revoked"), fullJWTAccessToken("kept")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateJWTAccessToken(ctx, gone); err != nil {
			return err
		}
		return tx.CreateJWTAccessToken(ctx, kept)
	})
	for _, j := range []string{gone.JTI, gone.JTI, jti("never issued", gone.ExpiresAt), legacyJTI("never issued"), "not base64url!", ""} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteJWTAccessToken(ctx, j) })
	}
	if _, err := s.JWTAccessToken(ctx, gone.JTI); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted record: %v, want ErrNotFound", err)
	}
	got, err := s.JWTAccessToken(ctx, kept.JTI)
	must(t, "read the other record", err)
	equal(t, "the other record", got, kept)
}

// otherLetterAt is jti with its i-th letter replaced by another base64url
// letter.
func otherLetterAt(jti string, i int) string {
	c := byte('A')
	if jti[i] == 'A' {
		c = 'B'
	}
	return jti[:i] + string(c) + jti[i+1:]
}
