package grant

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// G3, spec A14: offline_access only with prompt=consent and a client allowed
// refresh tokens; unknown scopes dropped; each scope once.
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
