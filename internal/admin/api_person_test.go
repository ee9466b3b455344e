package admin_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// askAdmin asks for the admin API's scope on a person's sign-in.
var askAdmin = url.Values{"scope": {"openid sesame:admin"}}

// C5: a person holding the admin role gets sesame:admin on their own
// token through a first-party app, and the admin API answers it; the
// change they make is audited as theirs. Losing the role ends the token's
// admin use at once (introspection drops the scope), while the token
// stays good for what else it grants.
func TestAPIForAPersonHoldingAdmin(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		opts.UserRoles = map[string][]string{"alice": {"admin"}}
		s := sesametest.New(t, opts)
		alice := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", askAdmin)
		if !slices.Contains(strings.Fields(alice.Scope), "sesame:admin") {
			t.Fatalf("alice holds admin, yet her scope is %q", alice.Scope)
		}
		api := apiClient{t, s, alice.AccessToken}
		if st, m := api.do("GET", "/api/clients", nil); st != 200 {
			t.Fatalf("alice's token at the admin API: %d %v", st, m)
		}
		if st, m := api.do("POST", "/api/accounts", map[string]any{"username": "carol", "password": "a long enough password"}); st != 201 {
			t.Fatalf("alice creates an account: %d %v", st, m)
		}
		st, m := api.do("GET", "/api/audit?action=account.create", nil)
		if st != 200 {
			t.Fatalf("audit: %d %v", st, m)
		}
		entries, _ := m["entries"].([]any)
		if len(entries) == 0 {
			t.Fatalf("no audit entry for the account alice created: %v", m)
		}
		e, _ := entries[0].(map[string]any)
		actor, _ := e["actor"].(map[string]any)
		if actor["kind"] != string(audit.ActorAdminAccount) || actor["id"] == "" {
			t.Errorf("the entry's actor is %v, want alice as %s", e["actor"], audit.ActorAdminAccount)
		}

		// The role is taken away (as the CLI or another admin would);
		// the very next call is refused.
		var aliceID string
		if err := s.Store.InTx(context.Background(), store.Durable, func(tx store.Tx) error {
			acct, err := tx.AccountByUsername(context.Background(), "alice")
			if err != nil {
				return err
			}
			aliceID = acct.ID
			return tx.SetAccountRoles(context.Background(), acct.ID, nil)
		}); err != nil {
			t.Fatal(err)
		}
		if st, m := api.do("GET", "/api/clients", nil); st != 401 {
			t.Errorf("alice's token after she lost the role: %d %v, want 401", st, m)
		}
		in := s.Introspect(t, sesametest.AppA, alice.AccessToken)
		if in["active"] != true || in["sub"] != aliceID || slices.Contains(strings.Fields(in["scope"].(string)), "sesame:admin") {
			t.Errorf("introspection after the role was lost: %v, want active without sesame:admin", in)
		}
		if st, _ := s.UserInfo(t, alice.AccessToken); st != 200 {
			t.Errorf("userinfo with alice's token after she lost the role: %d, want 200", st)
		}
	})
}

// C5: sesame:admin is never granted to a person without the role, nor to
// a third-party app whoever signs in; those tokens are 403 at the API.
func TestAPIRefusesPersonsWithoutTheRole(t *testing.T) {
	opts := sesametest.Options{UserRoles: map[string][]string{"alice": {"admin"}}}
	s := sesametest.New(t, opts)
	for _, c := range []struct{ name, client, user string }{
		{"bob, without the role", sesametest.AppA, "bob"},
		{"alice through a third-party app", sesametest.ThirdParty, "alice"},
	} {
		b := s.NewBrowser(t)
		tok := b.SignedIn(c.client, c.user, askAdmin)
		if slices.Contains(strings.Fields(tok.Scope), "sesame:admin") {
			t.Errorf("%s: granted %q", c.name, tok.Scope)
		}
		if st, m := (apiClient{t, s, tok.AccessToken}).do("GET", "/api/clients", nil); st != 403 {
			t.Errorf("%s: admin API answered %d %v, want 403", c.name, st, m)
		}
	}
}

// A disabled admin's token is dead at the API (CheckAccess reads the
// account at every call).
func TestAPIRefusesADisabledAdmin(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{UserRoles: map[string][]string{"alice": {"admin"}}})
	alice := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", askAdmin)
	robot := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	st, m := robot.do("GET", "/api/accounts?q=alice", nil)
	if st != 200 {
		t.Fatalf("search: %d %v", st, m)
	}
	list, _ := m["accounts"].([]any)
	if len(list) != 1 {
		t.Fatalf("search for alice: %v", m)
	}
	id, _ := list[0].(map[string]any)["id"].(string)
	if st, m := robot.do("PATCH", "/api/accounts/"+id, map[string]any{"disabled": true}); st != 200 {
		t.Fatalf("disable: %d %v", st, m)
	}
	if st, m := (apiClient{t, s, alice.AccessToken}).do("GET", "/api/clients", nil); st != 401 {
		t.Errorf("a disabled admin's token: %d %v, want 401", st, m)
	}
}
