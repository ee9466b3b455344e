package admin_test

import (
	"context"
	"encoding/json"
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

// C5: sesame:admin is never granted to a person without the role, nor
// through a third-party or a public app whoever signs in, nor with
// offline_access; those tokens are 403 at the API.
func TestAPIRefusesPersonsWithoutTheRole(t *testing.T) {
	opts := sesametest.Options{UserRoles: map[string][]string{"alice": {"admin"}}}
	s := sesametest.New(t, opts)
	offline := url.Values{"scope": {"openid sesame:admin offline_access"}, "prompt": {"consent"}}
	for _, c := range []struct {
		name, client, user string
		ask                url.Values
	}{
		{"bob, without the role", sesametest.AppA, "bob", askAdmin},
		{"alice through a third-party app", sesametest.ThirdParty, "alice", askAdmin},
		// A public app's code goes to whoever listens at its redirect
		// URI, and a first-party app asks no consent.
		{"alice through a first-party SPA", sesametest.SPA, "alice", askAdmin},
		// Admin authority ends with the session; an offline grant may not.
		{"alice with offline_access", sesametest.AppA, "alice", offline},
	} {
		b := s.NewBrowser(t)
		tok := b.SignedIn(c.client, c.user, c.ask)
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

// C5: losing the admin role revokes the grants that carry sesame:admin,
// so a token got before does not come back to life when the role is
// given again; and a token got through an app that stops being a
// first-party web app no longer opens the API.
func TestAdminAuthorityLostStaysLost(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		robot := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
		st, carol := robot.do("POST", "/api/accounts", map[string]any{"username": "carol", "password": sesametest.Password})
		if st != 201 {
			t.Fatalf("create carol: %d %v", st, carol)
		}
		roles := "/api/accounts/" + carol["id"].(string) + "/roles"
		give := func(roles_ ...string) {
			t.Helper()
			if st, got := robot.do("PUT", roles, map[string]any{"roles": roles_}); st != 200 {
				t.Fatalf("carol's roles %v: %d %v", roles_, st, got)
			}
		}
		signIn := func(clientID string) string {
			t.Helper()
			b := s.NewBrowser(t)
			cb := b.SignIn(clientID, "carol", askAdmin)
			if cb.Code == "" {
				t.Fatalf("carol's sign-in to %s: %+v", clientID, cb)
			}
			tok := s.Exchange(t, clientID, cb.Code, "")
			if !slices.Contains(strings.Fields(tok.Scope), "sesame:admin") {
				t.Fatalf("carol holds admin, yet her scope through %s is %q", clientID, tok.Scope)
			}
			return tok.AccessToken
		}
		give("admin")
		before := signIn(sesametest.AppA)
		if st, m := (apiClient{t, s, before}).do("GET", "/api/clients", nil); st != 200 {
			t.Fatalf("carol's token: %d %v", st, m)
		}
		give()
		give("admin")
		if st, m := (apiClient{t, s, before}).do("GET", "/api/clients", nil); st != 401 {
			t.Errorf("carol's token from before she lost the role, once it is back: %d %v, want 401", st, m)
		}
		if got := s.Introspect(t, sesametest.AppA, before); got["active"] != false {
			t.Errorf("introspection of that token: %v, want inactive (its grant was revoked)", got)
		}

		// An app made first-party by an admin, then made third-party.
		st, ops := robot.do("POST", "/api/clients", map[string]any{"id": "ops-app", "type": "web", "first_party": true,
			"redirect_uris": []string{sesametest.RedirectURI("ops-app")}})
		if st != 201 {
			t.Fatalf("create ops-app: %d %v", st, ops)
		}
		cb := s.NewBrowser(t).SignIn("ops-app", "carol", askAdmin)
		verifier, _ := sesametest.PKCE()
		resp, body := s.PostForm(t, "/token", "ops-app", ops["secret"].(string), url.Values{"grant_type": {"authorization_code"},
			"code": {cb.Code}, "redirect_uri": {sesametest.RedirectURI("ops-app")}, "code_verifier": {verifier}})
		var tok sesametest.Tokens
		if err := json.Unmarshal(body, &tok); err != nil || resp.StatusCode != 200 || !strings.Contains(tok.Scope, "sesame:admin") {
			t.Fatalf("carol's code through ops-app: %d %s", resp.StatusCode, body)
		}
		opsToken := tok.AccessToken
		if st, m := (apiClient{t, s, opsToken}).do("GET", "/api/clients", nil); st != 200 {
			t.Fatalf("carol's token through ops-app: %d %v", st, m)
		}
		if st, got := robot.do("PUT", "/api/clients/ops-app", map[string]any{"type": "web", "first_party": false,
			"redirect_uris": []string{sesametest.RedirectURI("ops-app")}}); st != 200 {
			t.Fatalf("make ops-app third-party: %d %v", st, got)
		}
		if st, m := (apiClient{t, s, opsToken}).do("GET", "/api/clients", nil); st != 401 {
			t.Errorf("carol's token through ops-app once it is third-party: %d %v, want 401", st, m)
		}
	})
}
