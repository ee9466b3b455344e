package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// zitadel/oidc's relying party: discovery, code + PKCE, ID token
// verification, userinfo, refresh, and sign-out.
//
// zitadel's rp.EndSession POSTs the end-session request from the app's
// server and expects a redirect to send the browser to. Sesame renders the
// confirm page for a POST as for a GET (O3: the POST's parameters are
// never turned into a URL), and a server holds no session cookie, so that
// POST gets a page nobody sees and ends nothing; zitadel reports no URL
// and no error. An app on zitadel/oidc signs out as RP-Initiated Logout §2
// says: it sends the browser to the end_session_endpoint it discovered
// (rp.GetEndSessionEndpoint), with id_token_hint, post_logout_redirect_uri
// and state; with this session's ID token the page submits itself.
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

	if to, err := rp.EndSession(ctx, relying, tokens.IDToken, "https://app-a.example/", "bye", "", nil); err != nil || to != nil {
		t.Errorf("EndSession from the server: %v %v; want no URL and no error (the confirm page, rendered)", to, err)
	}
	if c := b.SignIn(sesametest.AppA, "alice", url.Values{"prompt": {"none"}}); c.Code == "" {
		t.Fatalf("a POST from the app's server signed the browser out: %+v", c)
	}
	end := url.Values{"id_token_hint": {tokens.IDToken}, "client_id": {sesametest.AppA},
		"post_logout_redirect_uri": {"https://app-a.example/"}, "state": {"bye"}}
	page := b.Get(relying.GetEndSessionEndpoint() + "?" + end.Encode())
	if !strings.Contains(page.Body, "<script nonce=") {
		t.Errorf("the confirm page for this session's ID token does not submit itself: %s", page.Body)
	}
	done := b.Submit(page, map[string]string{"logout": "true"})
	if done.Location != "https://app-a.example/?state=bye" {
		t.Errorf("after sign-out: %d %q", done.Status, done.Location)
	}
	if c := b.SignIn(sesametest.AppA, "alice", url.Values{"prompt": {"none"}}); c.Error != "login_required" {
		t.Errorf("still signed in: %+v", c)
	}
	t.Log("zitadel/oidc completed: discovery; code + PKCE; ID token; userinfo; refresh; sign-out through the discovered end_session_endpoint")
}
