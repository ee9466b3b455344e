package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

const orders = "https://api.example.com/orders"

// withOrders declares the Orders API: a reader role held by
// alice, and the worker machine holding it too, and the robot holding
// admin as a role.
func withOrders(cfg *config.Config) {
	cfg.APIResources = []resource.APISpec{{Indicator: orders, Name: "Orders API", Scopes: []string{"read:orders", "write:orders"}}}
	cfg.Roles = []resource.RoleSpec{{Name: "orders-reader", Permissions: map[string][]string{orders: {"read:orders"}}}}
	for i, u := range cfg.Users {
		if u.Username == "alice" {
			cfg.Users[i].Roles = []string{"orders-reader"}
		}
	}
	for i, c := range cfg.Clients {
		switch c.ID {
		case sesametest.Worker:
			cfg.Clients[i].Roles = []string{"orders-reader"}
		case sesametest.Robot:
			cfg.Clients[i].Roles = []string{resource.RoleAdmin}
		}
	}
	cfg.AdminClients = nil
}

// C4, R1, R2: Seed applies the file's API resources and roles and the
// roles its users and clients hold, and the server's registry answers
// from them: the token lifetime defaults to access_token_ttl, alice is
// permitted what her role permits, bob nothing; the worker what its role
// permits; the robot holds admin as a role, which client.HoldsAdmin
// reads (C5).
func TestSeedAppliesResourcesAndRoles(t *testing.T) {
	sesametest.EachBackend(t, testSeedAppliesResourcesAndRoles)
}

func testSeedAppliesResourcesAndRoles(t *testing.T, opts sesametest.Options) {
	opts.Configure = withOrders
	s := sesametest.New(t, opts)
	ctx := t.Context()
	api, err := s.Resources.API(ctx, orders)
	if err != nil || api.AccessTokenTTL != s.Config.AccessTokenTTL || api.Name != "Orders API" {
		t.Errorf("API: %+v, %v", api, err)
	}
	for user, want := range map[string][]string{"alice": {"read:orders"}, "bob": nil} {
		a, err := s.Accounts.ByUsername(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Resources.PermittedForAccount(ctx, a.ID, orders)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s is permitted %v, %v; want %v", user, got, err, want)
		}
	}
	got, err := s.Resources.PermittedForClient(ctx, sesametest.Worker, orders)
	if err != nil || !reflect.DeepEqual(got, []string{"read:orders"}) {
		t.Errorf("the worker is permitted %v, %v", got, err)
	}
	for id, want := range map[string]bool{sesametest.Robot: true, sesametest.Worker: false} {
		c, err := s.Clients.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if client.HoldsAdminRole(c, s.Config.AdminClients) {
			t.Errorf("%s holds admin by the deprecated ways, which this configuration does not use", id)
		}
		if ok, err := client.HoldsAdmin(ctx, c, s.Config.AdminClients, s.Resources); ok != want || err != nil {
			t.Errorf("HoldsAdmin(%s) = %v, %v; want %v", id, ok, err, want)
		}
	}
}

// The server's registry forgets what a commit changes before the commit
// returns (forget, by OnCommit), though it keeps what it read for a
// minute: the robot that loses the admin role is refused at the next
// question, as is an API the admin removes a scope from.
func TestRegistryForgetsWhatACommitChanges(t *testing.T) {
	sesametest.EachBackend(t, testRegistryForgetsWhatACommitChanges)
}

func testRegistryForgetsWhatACommitChanges(t *testing.T, opts sesametest.Options) {
	opts.Configure = withOrders
	s := sesametest.New(t, opts)
	ctx := t.Context()
	if ok, err := s.Resources.ClientHasRole(ctx, sesametest.Robot, resource.RoleAdmin); !ok || err != nil {
		t.Fatalf("the robot does not hold admin: %v", err)
	}
	if got, _ := s.Resources.PermittedForClient(ctx, sesametest.Worker, orders); len(got) != 1 {
		t.Fatalf("the worker is permitted %v", got)
	}
	// As another package, the CLI or the admin API would write them.
	err := s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		if err := tx.SetClientRoles(ctx, sesametest.Robot, nil); err != nil {
			return err
		}
		return tx.UpsertRole(ctx, store.Role{Name: "orders-reader"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Resources.ClientHasRole(ctx, sesametest.Robot, resource.RoleAdmin); ok {
		t.Error("the robot lost admin, yet the registry still says it holds it")
	}
	if got, _ := s.Resources.PermittedForClient(ctx, sesametest.Worker, orders); len(got) != 0 {
		t.Errorf("the reader role lost its permissions, yet the worker is permitted %v", got)
	}
}

// C5: admin_clients and a client's admin flag still work, with a warning
// at start that says what to write instead.
func TestDeprecatedAdminIsReadWithAWarning(t *testing.T) {
	sesametest.EachBackend(t, testDeprecatedAdminIsReadWithAWarning)
}

func testDeprecatedAdminIsReadWithAWarning(t *testing.T, opts sesametest.Options) {
	opts.Configure = func(cfg *config.Config) {
		for i, c := range cfg.Clients {
			if c.ID == sesametest.Worker {
				cfg.Clients[i].Admin = true
			}
		}
	}
	s := sesametest.New(t, opts)
	var buf bytes.Buffer
	s.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`msg="admin_clients is deprecated: give the client roles: [admin]" admin_clients=[robot]`,
		`msg="a client's admin flag is deprecated: give the client roles: [admin]" client_id=worker`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, buf.String())
		}
	}
	for _, id := range []string{sesametest.Robot, sesametest.Worker} {
		c, err := s.Clients.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := client.HoldsAdmin(ctx, c, s.Config.AdminClients, s.Resources); !ok || err != nil {
			t.Errorf("HoldsAdmin(%s) = %v, %v; the deprecated ways still give admin", id, ok, err)
		}
	}
}
