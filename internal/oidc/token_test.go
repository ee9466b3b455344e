package oidc_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// Core §2, contract: the ID token carries iss, a string aud, sub, nonce,
// sid and auth_time; T1: the response is not cached; T13, T14: tokens are
// base64url values of 256 random bits after their expiry's 32.
func TestCodeExchangeIssuesIDTokenWithSIDAndAuthTime(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.Scope != "openid profile email" || tok.IDToken == "" {
		t.Errorf("response %+v", tok.Raw)
	}
	if tok.Header.Get("Cache-Control") != "no-store" || tok.Header.Get("Pragma") != "no-cache" {
		t.Errorf("cache headers %v", tok.Header)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{48}$`).MatchString(tok.AccessToken) {
		t.Errorf("access token %q is not 288 bits of base64url", tok.AccessToken)
	}
	c := s.IDClaims(t, tok.IDToken)
	if c["iss"] != s.Issuer || c["aud"] != sesametest.AppA || c["nonce"] != "nonce-456" ||
		c["sid"] == nil || c["sid"] == "" || c["auth_time"] == nil || c["sub"] == "" {
		t.Errorf("claims %v", c)
	}
	if c["email"] != "alice@example.com" || c["name"] != "Alice Example" || c["email_verified"] != true {
		t.Errorf("profile/email claims missing from the ID token: %v", c)
	}
}

// S3: sid is per app per session.
func TestSIDIsPerAppPerSession(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	a1 := s.IDClaims(t, b.SignedIn(sesametest.AppA, "alice", nil).IDToken)["sid"]
	b1 := s.IDClaims(t, b.SignedIn(sesametest.AppB, "alice", nil).IDToken)["sid"]
	a2 := s.IDClaims(t, b.SignedIn(sesametest.AppA, "alice", nil).IDToken)["sid"]
	other := s.IDClaims(t, s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil).IDToken)["sid"]
	if a1 != a2 || a1 == b1 || a1 == other {
		t.Errorf("sids: a=%v a again=%v b=%v other browser=%v", a1, a2, b1, other)
	}
}

// spec T4, T5: a code is single use; a second redemption is invalid_grant
// and revokes what the first issued.
func TestCodeReuseRevokesItsTokens(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	cb := s.NewBrowser(t).SignIn(sesametest.AppA, "alice", sesametest.Offline())
	first := s.Exchange(t, sesametest.AppA, cb.Code, "")
	if first.Status != 200 {
		t.Fatalf("first redemption %+v", first.Raw)
	}
	second := s.Exchange(t, sesametest.AppA, cb.Code, "")
	if second.Status != 400 || second.Error != "invalid_grant" {
		t.Fatalf("second redemption %d %+v", second.Status, second.Raw)
	}
	if st, _ := s.UserInfo(t, first.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("access token from a replayed code still works: %d", st)
	}
	if r := s.Refresh(t, sesametest.AppA, first.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("refresh token from a replayed code still works: %+v", r.Raw)
	}
}

// spec T6, T7, T8: a code is bound to its client and redirect URI and
// expires.
func TestCodeBindings(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	cb := b.SignIn(sesametest.AppA, "alice", nil)
	if r := s.Exchange(t, sesametest.AppB, cb.Code, ""); r.Error != "invalid_grant" {
		t.Errorf("another client redeemed the code: %+v", r.Raw)
	}
	r := s.Token(t, sesametest.AppA, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Code}, "redirect_uri": {"https://app-a.example/other"}})
	if r.Error != "invalid_grant" {
		t.Errorf("wrong redirect_uri: %+v", r.Raw)
	}
	r = s.Token(t, sesametest.AppA, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Code}})
	if r.Error != "invalid_grant" {
		t.Errorf("missing redirect_uri: %+v", r.Raw)
	}
	if r := s.Exchange(t, sesametest.AppA, cb.Code, ""); r.Status != 200 {
		t.Errorf("the right client after failed attempts: %+v", r.Raw)
	}
	cb = b.SignIn(sesametest.AppA, "alice", nil)
	s.Clock.Advance(61 * time.Second)
	if r := s.Exchange(t, sesametest.AppA, cb.Code, ""); r.Error != "invalid_grant" {
		t.Errorf("expired code: %+v", r.Raw)
	}
}

// C2, spec A8, T9, T10, T11: PKCE.
func TestPKCE(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		c.Clients = append(c.Clients, client.Spec{ID: "legacy", Name: "legacy", Secret: sesametest.Secret, Type: client.TypeWeb,
			FirstParty: true, RedirectURIs: []string{sesametest.RedirectURI("legacy")}, RequirePKCE: new(false)})
	}})
	verifier, challenge := sesametest.PKCE()
	withPKCE := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	t.Run("public client without PKCE is refused", func(t *testing.T) {
		cb := sesametest.Landed(t, s.NewBrowser(t).Get(s.AuthURL(sesametest.SPA, sesametest.NoPKCE())))
		if cb.Error != "invalid_request" {
			t.Fatalf("%+v", cb)
		}
	})
	t.Run("confidential client without PKCE is refused by default", func(t *testing.T) {
		cb := sesametest.Landed(t, s.NewBrowser(t).Get(s.AuthURL(sesametest.AppA, sesametest.NoPKCE())))
		if cb.Error != "invalid_request" {
			t.Fatalf("%+v", cb)
		}
	})
	t.Run("confidential client with require_pkce false may go without", func(t *testing.T) {
		cb := s.NewBrowser(t).SignIn("legacy", "alice", sesametest.NoPKCE())
		if r := s.Exchange(t, "legacy", cb.Code, sesametest.NoVerifier); r.Status != 200 {
			t.Errorf("%+v", r.Raw)
		}
	})
	t.Run("plain method is refused", func(t *testing.T) {
		cb := sesametest.Landed(t, s.NewBrowser(t).Get(s.AuthURL(sesametest.SPA, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"plain"}})))
		if cb.Error != "invalid_request" {
			t.Fatalf("%+v", cb)
		}
	})
	t.Run("a wrong verifier burns the code", func(t *testing.T) {
		cb := s.NewBrowser(t).SignIn(sesametest.SPA, "alice", withPKCE)
		if r := s.Exchange(t, sesametest.SPA, cb.Code, "wrong-verifier-wrong-verifier-wrong-verifier-0000"); r.Error != "invalid_grant" {
			t.Errorf("wrong verifier: %+v", r.Raw)
		}
		if r := s.Exchange(t, sesametest.SPA, cb.Code, verifier); r.Error != "invalid_grant" {
			t.Errorf("the right verifier after a wrong one: %+v", r.Raw)
		}
	})
	t.Run("a malformed or missing verifier burns the code too", func(t *testing.T) {
		for _, v := range []string{"short", sesametest.NoVerifier} {
			cb := s.NewBrowser(t).SignIn(sesametest.SPA, "alice", withPKCE)
			if r := s.Exchange(t, sesametest.SPA, cb.Code, v); r.Error != "invalid_grant" {
				t.Errorf("verifier %q: %+v", v, r.Raw)
			}
			if r := s.Exchange(t, sesametest.SPA, cb.Code, verifier); r.Error != "invalid_grant" {
				t.Errorf("the right verifier after %q: %+v", v, r.Raw)
			}
		}
	})
	t.Run("public client with the right verifier", func(t *testing.T) {
		cb := s.NewBrowser(t).SignIn(sesametest.SPA, "alice", withPKCE)
		if r := s.Exchange(t, sesametest.SPA, cb.Code, verifier); r.Status != 200 {
			t.Errorf("right verifier: %+v", r.Raw)
		}
	})
	t.Run("downgrade: verifier without challenge", func(t *testing.T) {
		cb := s.NewBrowser(t).SignIn("legacy", "alice", sesametest.NoPKCE())
		if r := s.Exchange(t, "legacy", cb.Code, verifier); r.Error != "invalid_grant" {
			t.Errorf("%+v", r.Raw)
		}
	})
	t.Run("confidential client with PKCE", func(t *testing.T) {
		cb := s.NewBrowser(t).SignIn(sesametest.AppA, "alice", withPKCE)
		if r := s.Exchange(t, sesametest.AppA, cb.Code, verifier); r.Status != 200 {
			t.Errorf("%+v", r.Raw)
		}
	})
}

// spec T2, T3: client authentication.
func TestClientAuthentication(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}
	resp, body := s.PostForm(t, "/token", sesametest.AppA, "wrong", form)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "invalid_client") || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("wrong secret: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	post := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {sesametest.AppA}, "client_secret": {sesametest.Secret}}
	resp, body = s.PostForm(t, "/token", "", "", post)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "invalid_grant") {
		t.Errorf("client_secret_post: %d %s", resp.StatusCode, body)
	}
	resp, body = s.PostForm(t, "/token", sesametest.AppA, sesametest.Secret, post)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "invalid_request") {
		t.Errorf("two methods: %d %s", resp.StatusCode, body)
	}
	withID := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {sesametest.AppA}}
	resp, body = s.PostForm(t, "/token", sesametest.AppA, sesametest.Secret, withID)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "invalid_grant") {
		t.Errorf("Basic plus matching client_id (Logto's SDKs): %d %s", resp.StatusCode, body)
	}
	resp, body = s.PostForm(t, "/token", "", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {sesametest.AppA}})
	if resp.StatusCode != 401 {
		t.Errorf("confidential client without a secret: %d %s", resp.StatusCode, body)
	}
	resp, body = s.PostForm(t, "/token", sesametest.AppA, sesametest.Secret, url.Values{"grant_type": {"password"}})
	if resp.StatusCode != 400 || !strings.Contains(string(body), "unsupported_grant_type") {
		t.Errorf("password grant: %d %s", resp.StatusCode, body)
	}
	resp, body = s.PostForm(t, "/token", sesametest.AppA, sesametest.Secret, url.Values{"grant_type": {"refresh_token", "refresh_token"}})
	if resp.StatusCode != 400 || !strings.Contains(string(body), "invalid_request") {
		t.Errorf("repeated parameter: %d %s", resp.StatusCode, body)
	}
}

// G4, G5, spec R1, R3, R5: rotation, binding, refreshed ID token, reuse
// revokes the grant.
func TestRefreshRotatesAndReuseRevokesTheGrant(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	orig := s.IDClaims(t, tok.IDToken)
	if r := s.Refresh(t, sesametest.AppB, tok.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("another client used the refresh token: %+v", r.Raw)
	}
	s.Clock.Advance(time.Minute)
	next := s.Refresh(t, sesametest.AppA, tok.RefreshToken)
	if next.Status != 200 || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("rotation: %+v", next.Raw)
	}
	c := s.IDClaims(t, next.IDToken)
	for _, k := range []string{"iss", "sub", "aud", "auth_time", "sid"} {
		if c[k] != orig[k] {
			t.Errorf("refreshed ID token changed %s: %v → %v", k, orig[k], c[k])
		}
	}
	if _, ok := c["nonce"]; ok || c["iat"] == orig["iat"] {
		t.Errorf("refreshed ID token: nonce %v, iat %v", c["nonce"], c["iat"])
	}
	if r := s.Refresh(t, sesametest.AppA, tok.RefreshToken); r.Error != "invalid_grant" {
		t.Fatalf("reuse: %+v", r.Raw)
	}
	if r := s.Refresh(t, sesametest.AppA, next.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("the successor survived reuse of its parent: %+v", r.Raw)
	}
	if st, _ := s.UserInfo(t, next.AccessToken); st != 401 {
		t.Errorf("access token survived refresh reuse: %d", st)
	}
}

// spec R2: a refresh may narrow the scope, never widen it.
func TestRefreshScopeNarrowsOnly(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", url.Values{"scope": {"openid email offline_access"}, "prompt": {"consent"}})
	r := s.Token(t, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "scope": {"openid profile"}})
	if r.Error != "invalid_scope" {
		t.Errorf("widening: %+v", r.Raw)
	}
	r = s.Token(t, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "scope": {"openid"}})
	if r.Status != 200 || r.Scope != "openid" || r.RefreshToken == "" {
		t.Errorf("narrowing: %+v", r.Raw)
	}
	if r2 := s.Refresh(t, sesametest.AppA, r.RefreshToken); r2.Status != 200 || !strings.Contains(r2.Scope, "email") {
		t.Errorf("the narrowed refresh lost the granted scopes: %+v", r2.Raw)
	}
}

// G5: a refresh token never outlives its grant; its TTL restarts on rotation.
func TestRefreshTokenNeverOutlivesItsGrant(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	rt := tok.RefreshToken
	for range 13 { // 13 × 13 days = 169 days, each within the 14-day TTL
		s.Clock.Advance(13 * 24 * time.Hour)
		r := s.Refresh(t, sesametest.AppA, rt)
		if r.Status != 200 {
			t.Fatalf("refresh within its TTL: %+v", r.Raw)
		}
		rt = r.RefreshToken
	}
	s.Clock.Advance(12 * 24 * time.Hour) // day 181: the grant is over
	if r := s.Refresh(t, sesametest.AppA, rt); r.Error != "invalid_grant" {
		t.Errorf("refresh after the grant expired: %+v", r.Raw)
	}
}

// spec R6: of concurrent refreshes with one token exactly one gets tokens;
// the rest are reuse, which revokes the grant (G4), so the winner's new
// refresh token dies too. The outcome is the same on every run, and on
// both databases: the database picks the winner, not a lock in one
// process.
func TestConcurrentRefreshesWithOneToken(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		for round := range 3 {
			tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", sesametest.Offline())
			winner := oneWinner(t, round, func() sesametest.Tokens { return s.Refresh(t, sesametest.AppA, tok.RefreshToken) })
			if r := s.Refresh(t, sesametest.AppA, winner.RefreshToken); r.Error != "invalid_grant" {
				t.Errorf("round %d: the winner's refresh token survived the reuse: %+v", round, r.Raw)
			}
		}
	})
}

// spec T4, T5 under concurrency: of simultaneous redemptions of one code
// exactly one gets tokens, and since the others are replays, what it got
// is revoked. On both databases.
func TestConcurrentRedemptionsOfOneCode(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		// The client's secret is checked once before the races: a secret
		// that passed is remembered (C3), so the eight redemptions race on
		// the code, not for the bounded hashing pool (A4), which may answer
		// 503 to a burst of first checks on a loaded machine.
		if r := s.Exchange(t, sesametest.AppA, "not-a-code", ""); r.Error != "invalid_grant" {
			t.Fatalf("warming the secret: %+v", r.Raw)
		}
		for round := range 3 {
			cb := s.NewBrowser(t).SignIn(sesametest.AppA, "alice", sesametest.Offline())
			winner := oneWinner(t, round, func() sesametest.Tokens { return s.Exchange(t, sesametest.AppA, cb.Code, "") })
			if st, _ := s.UserInfo(t, winner.AccessToken); st != http.StatusUnauthorized {
				t.Errorf("round %d: the winner's access token survived the replays: %d", round, st)
			}
			if r := s.Refresh(t, sesametest.AppA, winner.RefreshToken); r.Error != "invalid_grant" {
				t.Errorf("round %d: the winner's refresh token survived the replays: %+v", round, r.Raw)
			}
		}
	})
}

// oneWinner runs request from 8 goroutines at once and returns the one
// success, failing t unless there is exactly one and every other got
// invalid_grant.
func oneWinner(t *testing.T, round int, request func() sesametest.Tokens) sesametest.Tokens {
	t.Helper()
	results := make([]sesametest.Tokens, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = request() })
	}
	wg.Wait()
	var winners []sesametest.Tokens
	for _, r := range results {
		switch {
		case r.Status == 200:
			winners = append(winners, r)
		case r.Error != "invalid_grant":
			t.Errorf("round %d: loser got %d %+v, want invalid_grant", round, r.Status, r.Raw)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("round %d: %d of %d requests succeeded, want exactly 1", round, len(winners), len(results))
	}
	return winners[0]
}

// Userinfo releases claims by scope and refuses dead tokens.
func TestUserInfoClaimsFollowScopes(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	tok := b.SignedIn(sesametest.AppA, "alice", url.Values{"scope": {"openid email"}})
	st, claims := s.UserInfo(t, tok.AccessToken)
	if st != 200 || claims["email"] != "alice@example.com" || claims["sub"] == "" {
		t.Fatalf("%d %v", st, claims)
	}
	if _, ok := claims["name"]; ok {
		t.Errorf("profile claim without the profile scope: %v", claims)
	}
	if st, _ := s.UserInfo(t, "not-a-token"); st != 401 {
		t.Errorf("unknown token: %d", st)
	}
	s.Clock.Advance(time.Hour + time.Second)
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 401 {
		t.Errorf("expired token: %d", st)
	}
}

// RFC 6749 §4.4: a machine client gets a token for itself; the admin scope
// only for clients named in admin_clients; never for apps of people.
func TestClientCredentials(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	cc := func(clientID, scope string) sesametest.Tokens {
		return s.Token(t, clientID, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
	}
	tok := cc(sesametest.Robot, "sesame:admin")
	if tok.Status != 200 || tok.Scope != "sesame:admin" || tok.RefreshToken != "" || tok.IDToken != "" {
		t.Fatalf("admin client: %+v", tok.Raw)
	}
	m := s.Introspect(t, sesametest.Robot, tok.AccessToken)
	if m["active"] != true || m["client_id"] != sesametest.Robot || m["sub"] != nil {
		t.Errorf("introspection %v", m)
	}
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 403 {
		t.Errorf("userinfo with a machine token: %d", st)
	}
	if r := cc(sesametest.Worker, "sesame:admin"); r.Error != "invalid_scope" {
		t.Errorf("non-admin client asking for the admin scope: %+v", r.Raw)
	}
	if r := cc(sesametest.Worker, ""); r.Status != 200 {
		t.Errorf("plain client token: %+v", r.Raw)
	}
	if r := cc(sesametest.AppA, ""); r.Error != "unauthorized_client" {
		t.Errorf("a web app using client_credentials: %+v", r.Raw)
	}
	if r := s.Token(t, sesametest.Robot, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}); r.Error != "unauthorized_client" {
		t.Errorf("an m2m client using the code flow: %+v", r.Raw)
	}
}

// C5: a client taken out of admin_clients (a change of the configuration,
// which writes nothing) holds no live admin token from its next start on:
// introspection says inactive, while its plain tokens stay active.
func TestLosingTheAdminRoleEndsAdminTokens(t *testing.T) {
	before := sesametest.New(t, sesametest.Options{})
	admin := before.Token(t, sesametest.Robot, url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}})
	plain := before.Token(t, sesametest.Robot, url.Values{"grant_type": {"client_credentials"}})
	if admin.Status != 200 || plain.Status != 200 {
		t.Fatalf("tokens: %+v %+v", admin.Raw, plain.Raw)
	}
	after := sesametest.New(t, sesametest.Options{
		Database:  before.Config.Database,
		Configure: func(c *config.Config) { c.AdminClients = nil },
	})
	if m := after.Introspect(t, sesametest.Robot, admin.AccessToken); m["active"] != false {
		t.Errorf("admin token of a client no longer in admin_clients: %v", m)
	}
	if m := after.Introspect(t, sesametest.Robot, plain.AccessToken); m["active"] != true {
		t.Errorf("plain token of that client: %v", m)
	}
	if m := before.Introspect(t, sesametest.Robot, admin.AccessToken); m["active"] != true {
		t.Errorf("admin token where the client is still an admin: %v", m)
	}
}
