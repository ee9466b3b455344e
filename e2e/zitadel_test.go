package e2e

import (
	"context"
	"net/url"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// zitadel/oidc's relying party: discovery, code + PKCE, ID token
// verification, userinfo, refresh, and EndSession, which POSTs to the
// end-session endpoint from the server and expects a URL to send the
// browser to (RP-Initiated Logout §2).
func TestZitadelRelyingParty(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	ctx := context.Background()
	relying, err := rp.NewRelyingPartyOIDC(ctx, s.Issuer, sesametest.AppA, sesametest.Secret, sesametest.RedirectURI(sesametest.AppA),
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess},
		rp.WithVerifierOpts(rp.WithSupportedSigningAlgorithms("ES256", "RS256")))
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	codeVerifier := "a-verifier-that-is-long-enough-to-be-valid-0123456789"
	authURL := rp.AuthURL("st-z", relying, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(codeVerifier)),
		rp.WithPrompt("consent"))
	b := s.NewBrowser(t)
	p := b.Get(authURL)
	cb := sesametest.Landed(t, b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password}))
	if cb.State != "st-z" || cb.Code == "" {
		t.Fatalf("callback %+v", cb)
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, cb.Code, relying, rp.WithCodeVerifier(codeVerifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if tokens.IDTokenClaims.GetSubject() == "" || tokens.RefreshToken == "" {
		t.Fatalf("tokens %+v", tokens)
	}
	info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, "Bearer", tokens.IDTokenClaims.GetSubject(), relying)
	if err != nil || info.Email != "alice@example.com" {
		t.Fatalf("userinfo %+v %v", info, err)
	}
	refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, relying, tokens.RefreshToken, "", "")
	if err != nil || refreshed.RefreshToken == "" {
		t.Fatalf("refresh: %+v %v", refreshed, err)
	}

	to, err := rp.EndSession(ctx, relying, tokens.IDToken, "https://app-a.example/", "bye", "", nil)
	if err != nil || to == nil {
		t.Fatalf("EndSession: %v %v (Sesame must answer the POST with where to send the browser)", to, err)
	}
	done := b.Submit(b.Get(to.String()), map[string]string{"logout": "true"})
	if done.Location != "https://app-a.example/?state=bye" {
		t.Errorf("after sign-out: %d %q", done.Status, done.Location)
	}
	if c := b.SignIn(sesametest.AppA, "alice", url.Values{"prompt": {"none"}}); c.Error != "login_required" {
		t.Errorf("still signed in: %+v", c)
	}
	t.Log("zitadel/oidc completed: discovery; code + PKCE; ID token; userinfo; refresh; EndSession POST, then the confirm")
}
