package grant

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// G3, spec A14: offline_access only with prompt=consent and a client allowed
// refresh tokens; unknown scopes dropped; each scope once; C5:
// sesame:admin only when Admin.
func TestGrantableScopes(t *testing.T) {
	cases := []struct {
		name string
		req  Request
		want []string
	}{
		{"offline without consent", Request{Scopes: []string{"openid", "offline_access"}, RefreshAllowed: true}, []string{"openid"}},
		{"offline with consent", Request{Scopes: []string{"openid", "offline_access"}, PromptConsent: true, RefreshAllowed: true}, []string{"openid", "offline_access"}},
		{"offline, client without refresh", Request{Scopes: []string{"openid", "offline_access"}, PromptConsent: true}, []string{"openid"}},
		{"unknown and repeated", Request{Scopes: []string{"openid", "admin", "email", "openid"}}, []string{"openid", "email"}},
		{"sesame:admin without the role", Request{Scopes: []string{"openid", ScopeAdmin}}, []string{"openid"}},
		{"sesame:admin with it, once", Request{Scopes: []string{"openid", ScopeAdmin, ScopeAdmin}, Admin: true}, []string{"openid", ScopeAdmin}},
		{"sesame:admin never with offline_access", Request{Scopes: []string{"openid", ScopeAdmin, "offline_access"}, Admin: true, PromptConsent: true, RefreshAllowed: true}, []string{"openid", "offline_access"}},
		{"sesame:admin with offline_access not granted", Request{Scopes: []string{"openid", ScopeAdmin, "offline_access"}, Admin: true, RefreshAllowed: true}, []string{"openid", ScopeAdmin}},
	}
	for _, c := range cases {
		if got := Grantable(c.req); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// G2: a revoked or expired grant backs no token.
func TestCheck(t *testing.T) {
	now := time.Now()
	live := store.Grant{ID: "g", ExpiresAt: now.Add(time.Hour)}
	if err := Check(live, now); err != nil {
		t.Errorf("live grant: %v", err)
	}
	revoked := live
	revoked.RevokedAt = now
	if err := Check(revoked, now); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked grant: %v", err)
	}
	if err := Check(live, now.Add(time.Hour)); !errors.Is(err, ErrExpired) {
		t.Errorf("expired grant: %v", err)
	}
}

func TestCoversAndUnion(t *testing.T) {
	g := store.Grant{Scopes: []string{"openid", "email"}}
	if !Covers(g, []string{"email"}) || Covers(g, []string{"profile"}) {
		t.Error("Covers")
	}
	if got := Union(g.Scopes, []string{"email", "profile"}); !slices.Equal(got, []string{"openid", "email", "profile"}) {
		t.Errorf("Union = %v", got)
	}
}

// G1, R2: a grant covers the API resources it holds with their scopes;
// widening it adds the new ones and keeps what it held, an API granted
// without scopes included.
func TestResourcesCoverAndWiden(t *testing.T) {
	const orders, billing = "https://api.example.com/orders", "https://api.example.com/billing"
	held := map[string][]string{orders: {"read:orders"}, billing: nil}
	for _, c := range []struct {
		res  map[string][]string
		want bool
	}{
		{nil, true},
		{map[string][]string{orders: {"read:orders"}}, true},
		{map[string][]string{billing: nil}, true},
		{map[string][]string{orders: {"write:orders"}}, false},
		{map[string][]string{billing: {"read:invoices"}}, false},
		{map[string][]string{"https://api.example.com/other": nil}, false},
	} {
		if got := CoversResources(held, c.res); got != c.want {
			t.Errorf("CoversResources(%v, %v) = %v", held, c.res, got)
		}
	}
	if !CoversResources(nil, nil) || CoversResources(nil, map[string][]string{orders: nil}) {
		t.Error("a grant of no resource covers nothing but nothing")
	}
	wide := UnionResources(held, map[string][]string{orders: {"write:orders", "read:orders"}, "https://api.example.com/other": nil})
	want := map[string][]string{orders: {"read:orders", "write:orders"}, billing: nil, "https://api.example.com/other": nil}
	if len(wide) != len(want) || !slices.Equal(wide[orders], want[orders]) || wide[billing] != nil {
		t.Errorf("UnionResources: %v, want %v", wide, want)
	}
	if _, ok := wide["https://api.example.com/other"]; !ok {
		t.Errorf("UnionResources lost an API granted without scopes: %v", wide)
	}
	if len(held[orders]) != 1 || len(held) != 2 {
		t.Errorf("UnionResources changed its argument: %v", held)
	}
	if got := UnionResources(nil, map[string][]string{orders: nil}); len(got) != 1 {
		t.Errorf("UnionResources(nil, ...) = %v", got)
	}
}
