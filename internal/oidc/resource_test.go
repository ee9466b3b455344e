package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

const (
	orders = sesametest.OrdersAPI
	// billing is a second API, that no role gives any scope of.
	billing = "https://api.example.com/billing"
)

// withAPIs is the Orders API of sesametest (alice and the worker hold
// orders-reader: read:orders) and a Billing API nobody holds a role on.
func withAPIs(o sesametest.Options) sesametest.Options {
	o = o.WithOrders()
	o.APIResources = append(o.APIResources, resource.APISpec{Indicator: billing, Name: "Billing API", Scopes: []string{"read:invoices"}})
	return o
}

// eachAPIs runs fn on a Sesame withAPIs on each database (SQLite, and
// PostgreSQL when SESAME_TEST_POSTGRES names a server).
func eachAPIs(t *testing.T, fn func(t *testing.T, s *sesametest.Sesame)) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) { fn(t, sesametest.New(t, withAPIs(opts))) })
}

// ordersRequest asks for the Orders API with both its scopes, and
// offline access.
func ordersRequest() url.Values {
	return url.Values{"scope": {"openid profile read:orders write:orders offline_access"}, "prompt": {"consent"}, "resource": {orders}}
}

// grantOf returns the grant username holds for clientID (the newest).
func grantOf(t *testing.T, s *sesametest.Sesame, username, clientID string) store.Grant {
	t.Helper()
	acct, err := s.Store.AccountByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	grants, err := s.Store.GrantsByAccount(t.Context(), acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	var found *store.Grant
	for _, g := range grants {
		if g.ClientID == clientID && (found == nil || g.CreatedAt.After(found.CreatedAt)) {
			found = &g
		}
	}
	if found == nil {
		t.Fatalf("%s holds no grant for %s", username, clientID)
	}
	return *found
}

// accessJWT verifies a JWT access token with Sesame's keys and returns
// its typ and claims.
func accessJWT(t *testing.T, s *sesametest.Sesame, tok string) (string, token.AccessJWT, map[string]any) {
	t.Helper()
	v, err := s.Keys.Verify(tok)
	if err != nil {
		t.Fatalf("access token %q does not verify: %v", tok, err)
	}
	var c token.AccessJWT
	var raw map[string]any
	if err := json.Unmarshal(v.Payload, &c); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(v.Payload, &raw); err != nil {
		t.Fatal(err)
	}
	return v.Type, c, raw
}

// resourceToken asks for a token with grant_type and resource.
func resourceToken(t *testing.T, s *sesametest.Sesame, clientID string, form url.Values, resources ...string) sesametest.Tokens {
	t.Helper()
	form = maps.Clone(form)
	form["resource"] = resources
	return s.Token(t, clientID, form)
}

// RI1, spec A6: resource may repeat, the one parameter that may; each
// names a registered API; a repeated other parameter is still refused,
// resource or not.
func TestRepeatedResourceAccepted(t *testing.T) { eachAPIs(t, testRepeatedResourceAccepted) }

func testRepeatedResourceAccepted(t *testing.T, s *sesametest.Sesame) {
	b := s.NewBrowser(t)
	cb := b.SignIn(sesametest.AppA, "alice", url.Values{
		"scope": {"openid read:orders write:orders read:invoices"}, "resource": {orders, billing, orders},
	})
	if cb.Code == "" {
		t.Fatalf("repeated resource refused: %+v", cb)
	}
	g := grantOf(t, s, "alice", sesametest.AppA)
	want := map[string][]string{orders: {"read:orders"}, billing: nil}
	if !reflect.DeepEqual(g.Resources, want) {
		t.Errorf("grant resources %v, want %v", g.Resources, want)
	}
	u := s.AuthURL(sesametest.AppA, url.Values{"resource": {orders, billing}}) + "&nonce=again"
	if cb := sesametest.Landed(t, b.Get(u)); cb.Error != "invalid_request" {
		t.Errorf("a repeated nonce beside a repeated resource: %+v", cb)
	}
}

// RI1, R2: at /auth a malformed or unregistered resource is
// invalid_target, redirected to the client with state (its redirect URI
// is trusted by then); more than 16 values is invalid_request (W2).
func TestUnknownResourceAtAuthIsInvalidTarget(t *testing.T) {
	eachAPIs(t, testUnknownResourceAtAuthIsInvalidTarget)
}

func testUnknownResourceAtAuthIsInvalidTarget(t *testing.T, s *sesametest.Sesame) {
	b := s.NewBrowser(t)
	for name, res := range map[string][]string{
		"unregistered":       {"https://api.example.com/nope"},
		"one of two unknown": {orders, "https://api.example.com/nope"},
		"fragment":           {orders + "#x"},
		"relative":           {"/orders"},
		"not a URI":          {"orders api"},
	} {
		cb := sesametest.Landed(t, b.Get(s.AuthURL(sesametest.AppA, url.Values{"resource": res})))
		if cb.Error != "invalid_target" || cb.State != "state-123" || !strings.HasPrefix(cb.URL.String(), sesametest.RedirectURI(sesametest.AppA)) {
			t.Errorf("%s: %s", name, cb.URL)
		}
	}
	many := make([]string, 17)
	for i := range many {
		many[i] = orders + "?n=" + string(rune('a'+i))
	}
	if cb := sesametest.Landed(t, b.Get(s.AuthURL(sesametest.AppA, url.Values{"resource": many}))); cb.Error != "invalid_request" {
		t.Errorf("17 resources: %s", cb.URL)
	}
	long := "https://api.example.com/" + strings.Repeat("x", 500)
	if cb := sesametest.Landed(t, b.Get(s.AuthURL(sesametest.AppA, url.Values{"resource": {long}}))); cb.Error != "invalid_request" {
		t.Errorf("a resource over 512 bytes: %s", cb.URL)
	}
}

// R2: the scopes of a requested API are granted as far as the account's
// roles permit, the others dropped, and recorded on the grant; an API's
// scopes are not OpenID scopes, and a scope of an API not requested is
// not granted.
func TestResourceScopesBeyondTheRolesAreDropped(t *testing.T) {
	eachAPIs(t, testResourceScopesBeyondTheRolesAreDropped)
}

func testResourceScopesBeyondTheRolesAreDropped(t *testing.T, s *sesametest.Sesame) {
	for user, want := range map[string][]string{"alice": {"read:orders"}, "bob": nil} {
		tok := s.NewBrowser(t).SignedIn(sesametest.AppA, user, url.Values{
			"scope": {"openid read:orders write:orders read:invoices"}, "resource": {orders},
		})
		g := grantOf(t, s, user, sesametest.AppA)
		if !reflect.DeepEqual(g.Resources, map[string][]string{orders: want}) {
			t.Errorf("%s: grant resources %v, want %s: %v", user, g.Resources, orders, want)
		}
		if !reflect.DeepEqual(g.Scopes, []string{"openid"}) || tok.Scope != "openid" {
			t.Errorf("%s: OpenID scopes %v, response scope %q", user, g.Scopes, tok.Scope)
		}
	}
}

// R2, C1a: the consent page names the API and the scopes it would grant
// in words; consent records them; a later request for an API the grant
// lacks asks again, and consent widens the grant (UpdateGrantResources).
func TestConsentPageListsTheAPIAndItsScopes(t *testing.T) {
	eachAPIs(t, testConsentPageListsTheAPIAndItsScopes)
}

func testConsentPageListsTheAPIAndItsScopes(t *testing.T, s *sesametest.Sesame) {
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.ThirdParty, "alice", url.Values{"scope": {"openid"}})
	p := b.Get(s.AuthURL(sesametest.ThirdParty, url.Values{"scope": {"openid read:orders write:orders"}, "resource": {orders, billing}}))
	if !sesametest.IsConsentPage(p) {
		t.Fatalf("no consent page for a new API: %d %s", p.Status, p.Body)
	}
	for _, want := range []string{"<strong>Orders API</strong>:\n<ul><li>Read your orders <small>(read:orders)</small></li></ul></li>", "<strong>Billing API</strong>: no permissions"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("consent page lacks %q:\n%s", want, p.Body)
		}
	}
	if strings.Contains(p.Body, "write:orders") || strings.Contains(p.Body, "Change your orders") {
		t.Error("the consent page offers a scope alice's roles do not permit")
	}
	if cb := sesametest.Landed(t, b.Submit(p, map[string]string{"decision": "allow"})); cb.Code == "" {
		t.Fatalf("no code after consent: %+v", cb)
	}
	g := grantOf(t, s, "alice", sesametest.ThirdParty)
	if want := map[string][]string{orders: {"read:orders"}, billing: nil}; !reflect.DeepEqual(g.Resources, want) {
		t.Errorf("grant resources after consent %v, want %v", g.Resources, want)
	}
	// What the grant holds needs no consent again.
	if cb := b.SignIn(sesametest.ThirdParty, "alice", url.Values{"scope": {"openid read:orders"}, "resource": {orders}, "prompt": {"none"}}); cb.Code == "" {
		t.Errorf("consent asked again for what the grant holds: %+v", cb)
	}
}

// R3, RI3, RI4, RI5: a code exchanged with resource answers an RFC 9068
// JWT access token for that API, with the scopes of the grant, the
// person's auth_time and the sid of their ID token; its jti is recorded
// under the grant; the ID and refresh tokens come as without resource.
// A refresh with resource does the same and still rotates (G4); scope
// narrows it; without resource the access token is opaque.
func TestResourceTokensAreJWTs(t *testing.T) { eachAPIs(t, testResourceTokensAreJWTs) }

func testResourceTokensAreJWTs(t *testing.T, s *sesametest.Sesame) {
	b := s.NewBrowser(t)
	cb := b.SignIn(sesametest.AppA, "alice", ordersRequest())
	verifier, _ := sesametest.PKCE()
	tok := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Code},
		"redirect_uri": {sesametest.RedirectURI(sesametest.AppA)}, "code_verifier": {verifier}}, orders)
	if tok.Status != 200 || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.Scope != "read:orders" ||
		tok.IDToken == "" || tok.RefreshToken == "" {
		t.Fatalf("code exchange with resource: %d %v", tok.Status, tok.Raw)
	}
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	id := s.IDClaims(t, tok.IDToken)
	g := grantOf(t, s, "alice", sesametest.AppA)
	check := func(what string, tok sesametest.Tokens, scope string) {
		t.Helper()
		typ, c, raw := accessJWT(t, s, tok.AccessToken)
		if typ != "at+jwt" || c.Issuer != s.Issuer || c.Audience != orders || c.Subject != acct.ID ||
			c.ClientID != sesametest.AppA || c.Scope != scope || c.SID != id["sid"] || float64(c.AuthTime) != id["auth_time"] {
			t.Errorf("%s: typ %q, claims %+v (ID token %v)", what, typ, c, id)
		}
		if _, isString := raw["aud"].(string); !isString {
			t.Errorf("%s: aud is not one string: %v", what, raw["aud"])
		}
		now := s.Clock.Now().Unix()
		if c.IssuedAt > now || c.IssuedAt < now-1 || c.Expiry-c.IssuedAt != 3600 {
			t.Errorf("%s: iat %d, exp %d, now %d", what, c.IssuedAt, c.Expiry, now)
		}
		// 128 random bits after the token's expiry, by which its record is keyed.
		if raw, err := base64.RawURLEncoding.Strict().DecodeString(c.JTI); err != nil || len(raw) != store.JTILen {
			t.Errorf("%s: jti %q is not %d bytes of unpadded base64url", what, c.JTI, store.JTILen)
		}
		rec, err := s.Store.JWTAccessToken(t.Context(), c.JTI)
		if err != nil || rec.GrantID != g.ID || rec.ClientID != sesametest.AppA || rec.Subject != acct.ID || rec.Resource != orders {
			t.Errorf("%s: record %+v, %v (grant %s)", what, rec, err, g.ID)
		}
	}
	check("code exchange", tok, "read:orders")
	if at := s.IDClaims(t, tok.IDToken)["at_hash"]; at == nil || at == "" {
		t.Error("the ID token has no at_hash for the access token it came with")
	}

	refreshed := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, orders)
	if refreshed.Status != 200 || refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken || refreshed.IDToken == "" ||
		refreshed.Scope != "read:orders" || refreshed.ExpiresIn != 3600 {
		t.Fatalf("refresh with resource: %d %v", refreshed.Status, refreshed.Raw)
	}
	check("refresh", refreshed, "read:orders")
	if r := s.Refresh(t, sesametest.AppA, tok.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("the refresh with resource did not rotate: %v", r.Raw)
	}
	// The reuse revoked the grant (G4): start again.
	tok = b.SignedIn(sesametest.AppA, "alice", ordersRequest())

	narrowed := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"scope": {"read:orders"}}, orders)
	if narrowed.Status != 200 || narrowed.Scope != "read:orders" {
		t.Fatalf("refresh narrowed to read:orders: %v", narrowed.Raw)
	}
	wider := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {narrowed.RefreshToken},
		"scope": {"write:orders"}}, orders)
	if wider.Status != 400 || wider.Error != "invalid_scope" {
		t.Errorf("refresh asking for a scope the grant lacks: %d %v", wider.Status, wider.Raw)
	}
	plain := s.Refresh(t, sesametest.AppA, narrowed.RefreshToken)
	if plain.Status != 200 || strings.Contains(plain.AccessToken, ".") || plain.Scope != "openid profile offline_access" {
		t.Fatalf("refresh without resource: %v", plain.Raw)
	}
	if st, _ := s.UserInfo(t, plain.AccessToken); st != 200 {
		t.Errorf("the opaque token does not open userinfo: %d", st)
	}
}

// RI2, R2: at /token a resource the grant does not cover, an unregistered
// or malformed one, or two at once, is invalid_target as JSON, and
// consumes nothing: the refresh token still works.
func TestResourceOutsideTheGrantIsRefused(t *testing.T) {
	eachAPIs(t, testResourceOutsideTheGrantIsRefused)
}

func testResourceOutsideTheGrantIsRefused(t *testing.T, s *sesametest.Sesame) {
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", ordersRequest())
	for name, res := range map[string][]string{
		"outside the grant": {billing},
		"unregistered":      {"https://api.example.com/nope"},
		"malformed":         {"orders"},
		"fragment":          {orders + "#x"},
		"two":               {orders, billing},
	} {
		r := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, res...)
		if r.Status != 400 || r.Error != "invalid_target" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %v", name, r.Status, r.Raw)
		}
	}
	// A grant made without resource covers none.
	plain := s.NewBrowser(t).SignedIn(sesametest.AppB, "alice", sesametest.Offline())
	if r := resourceToken(t, s, sesametest.AppB, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {plain.RefreshToken}}, orders); r.Error != "invalid_target" {
		t.Errorf("a resource of no grant: %d %v", r.Status, r.Raw)
	}
	if r := s.Refresh(t, sesametest.AppA, tok.RefreshToken); r.Status != 200 {
		t.Errorf("a refused resource consumed the refresh token: %v", r.Raw)
	}
	cb := s.NewBrowser(t).SignIn(sesametest.AppC, "alice", nil)
	verifier, _ := sesametest.PKCE()
	code := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Code}, "redirect_uri": {sesametest.RedirectURI(sesametest.AppC)}, "code_verifier": {verifier}}
	if r := resourceToken(t, s, sesametest.AppC, code, orders); r.Error != "invalid_target" {
		t.Errorf("code exchange for a resource the grant lacks: %d %v", r.Status, r.Raw)
	}
	if r := s.Token(t, sesametest.AppC, code); r.Status != 200 {
		t.Errorf("a refused resource burnt the code: %v", r.Raw)
	}
}

// R3, RI4: client_credentials with resource answers a JWT access token
// whose sub is the client, with the scopes its roles permit (all of them
// when it asks for none; a requested one they do not permit is dropped).
// A client whose roles permit nothing it asked for gets invalid_scope,
// not a token that opens nothing. Without resource nothing changed.
func TestClientCredentialsWithResource(t *testing.T) { eachAPIs(t, testClientCredentialsWithResource) }

func testClientCredentialsWithResource(t *testing.T, s *sesametest.Sesame) {
	cc := url.Values{"grant_type": {"client_credentials"}}
	for _, scope := range []string{"", "read:orders write:orders"} {
		form := url.Values{"grant_type": {"client_credentials"}}
		if scope != "" {
			form.Set("scope", scope)
		}
		tok := resourceToken(t, s, sesametest.Worker, form, orders)
		if tok.Status != 200 || tok.Scope != "read:orders" || tok.ExpiresIn != 3600 || tok.TokenType != "Bearer" || tok.RefreshToken != "" || tok.IDToken != "" {
			t.Fatalf("scope %q: %d %v", scope, tok.Status, tok.Raw)
		}
		typ, c, raw := accessJWT(t, s, tok.AccessToken)
		if typ != "at+jwt" || c.Subject != sesametest.Worker || c.ClientID != sesametest.Worker || c.Audience != orders || c.Scope != "read:orders" {
			t.Errorf("scope %q: typ %q, claims %+v", scope, typ, c)
		}
		if _, ok := raw["auth_time"]; ok || raw["sid"] != nil {
			t.Errorf("a client's token names a person's sign-in: %v", raw)
		}
		if rec, err := s.Store.JWTAccessToken(t.Context(), c.JTI); err != nil || rec.GrantID != "" || rec.Subject != sesametest.Worker {
			t.Errorf("record %+v, %v", rec, err)
		}
	}
	if r := resourceToken(t, s, sesametest.Worker, url.Values{"grant_type": {"client_credentials"}, "scope": {"write:orders"}}, orders); r.Error != "invalid_scope" {
		t.Errorf("only a scope the roles do not permit: %d %v", r.Status, r.Raw)
	}
	if r := resourceToken(t, s, sesametest.Robot, cc, orders); r.Error != "invalid_scope" {
		t.Errorf("a client without roles: %d %v", r.Status, r.Raw)
	}
	if r := resourceToken(t, s, sesametest.Worker, cc, "https://api.example.com/nope"); r.Error != "invalid_target" || r.Status != 400 {
		t.Errorf("an unregistered resource: %d %v", r.Status, r.Raw)
	}
	admin := s.Token(t, sesametest.Robot, url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}})
	if admin.Status != 200 || admin.Scope != "sesame:admin" || strings.Contains(admin.AccessToken, ".") {
		t.Errorf("client_credentials without resource changed: %v", admin.Raw)
	}
}

// RI2, R3: at /token one API per request, counted after repeats: the
// same indicator twice is that one, answered with its JWT, on a code
// exchange and a refresh alike; two different ones are invalid_target
// though the grant covers each, and consume neither the code nor the
// refresh token.
func TestRepeatedResourceAtTheTokenEndpoint(t *testing.T) {
	eachAPIs(t, testRepeatedResourceAtTheTokenEndpoint)
}

func testRepeatedResourceAtTheTokenEndpoint(t *testing.T, s *sesametest.Sesame) {
	cb := s.NewBrowser(t).SignIn(sesametest.AppA, "alice", url.Values{
		"scope": {"openid read:orders offline_access"}, "prompt": {"consent"}, "resource": {orders, billing},
	})
	if cb.Code == "" {
		t.Fatalf("sign-in with both APIs: %+v", cb)
	}
	if g := grantOf(t, s, "alice", sesametest.AppA); len(g.Resources) != 2 {
		t.Fatalf("the grant covers %v, want both APIs", g.Resources)
	}
	verifier, _ := sesametest.PKCE()
	code := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Code},
		"redirect_uri": {sesametest.RedirectURI(sesametest.AppA)}, "code_verifier": {verifier}}
	refresh := func(rt string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	}
	refused := func(what string, r sesametest.Tokens) {
		t.Helper()
		if r.Status != 400 || r.Error != "invalid_target" || r.AccessToken != "" {
			t.Errorf("%s: %d %v, want invalid_target", what, r.Status, r.Raw)
		}
	}
	answered := func(what string, r sesametest.Tokens, aud, scope string) {
		t.Helper()
		if r.Status != 200 || r.RefreshToken == "" || r.Scope != scope {
			t.Fatalf("%s: %d %v", what, r.Status, r.Raw)
		}
		if typ, c, raw := accessJWT(t, s, r.AccessToken); typ != "at+jwt" || c.Audience != aud || raw["aud"] != aud {
			t.Errorf("%s: typ %q, aud %v, want %s", what, typ, raw["aud"], aud)
		}
	}

	refused("code exchange for two APIs", resourceToken(t, s, sesametest.AppA, code, orders, billing))
	tok := resourceToken(t, s, sesametest.AppA, code, orders, orders)
	answered("code exchange naming the Orders API twice", tok, orders, "read:orders")
	refused("refresh for two APIs", resourceToken(t, s, sesametest.AppA, refresh(tok.RefreshToken), billing, orders))
	tok = resourceToken(t, s, sesametest.AppA, refresh(tok.RefreshToken), billing, billing)
	answered("refresh naming the Billing API twice", tok, billing, "")
	tok = resourceToken(t, s, sesametest.AppA, refresh(tok.RefreshToken), orders, orders)
	answered("refresh naming the Orders API twice", tok, orders, "read:orders")
}

// RI1, R2: client_credentials with a malformed resource is
// invalid_target as JSON, as an unregistered one is
// (TestClientCredentialsWithResource), even from a client whose role
// gives it the API the value almost names, and issues no token.
func TestClientCredentialsWithAMalformedResource(t *testing.T) {
	eachAPIs(t, testClientCredentialsWithAMalformedResource)
}

func testClientCredentialsWithAMalformedResource(t *testing.T, s *sesametest.Sesame) {
	cc := url.Values{"grant_type": {"client_credentials"}}
	if tok := resourceToken(t, s, sesametest.Worker, cc, orders); tok.Status != 200 {
		t.Fatalf("the well-formed indicator: %d %v", tok.Status, tok.Raw)
	}
	for name, res := range map[string]string{
		"relative":       "/orders",
		"no scheme":      "api.example.com/orders",
		"fragment":       orders + "#read",
		"empty fragment": orders + "#",
		"white space":    orders + " ",
		"no host":        "https:///orders",
	} {
		r := resourceToken(t, s, sesametest.Worker, cc, res)
		if r.Status != 400 || r.Error != "invalid_target" || r.AccessToken != "" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s (%q): %d %v", name, res, r.Status, r.Raw)
		}
	}
}

// RI6, R3: userinfo refuses a JWT access token: 401 invalid_token.
func TestUserInfoRefusesJWTAccessTokens(t *testing.T) {
	eachAPIs(t, testUserInfoRefusesJWTAccessTokens)
}

func testUserInfoRefusesJWTAccessTokens(t *testing.T, s *sesametest.Sesame) {
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", ordersRequest())
	jwt := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, orders)
	if jwt.Status != 200 {
		t.Fatal(jwt.Raw)
	}
	req, _ := http.NewRequest(http.MethodGet, s.Issuer+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+jwt.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("userinfo with a JWT access token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// R3, spec I3, I4, O4: introspection describes a JWT access token, to
// its client and to the API's own client alike, while its grant stands;
// a global sign-out revokes a grant without offline_access and its JWT
// goes inactive at once, before it expires, while an offline grant's
// stays active. Forged, foreign and expired ones are exactly
// {"active":false}.
func TestIntrospectionOfJWTAccessTokens(t *testing.T) {
	eachAPIs(t, testIntrospectionOfJWTAccessTokens)
}

func testIntrospectionOfJWTAccessTokens(t *testing.T, s *sesametest.Sesame) {
	b := s.NewBrowser(t)
	online := b.SignIn(sesametest.AppB, "alice", url.Values{"scope": {"openid read:orders"}, "resource": {orders}})
	verifier, _ := sesametest.PKCE()
	onlineJWT := resourceToken(t, s, sesametest.AppB, url.Values{"grant_type": {"authorization_code"}, "code": {online.Code},
		"redirect_uri": {sesametest.RedirectURI(sesametest.AppB)}, "code_verifier": {verifier}}, orders)
	offline := b.SignedIn(sesametest.AppA, "alice", ordersRequest())
	offlineJWT := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {offline.RefreshToken}}, orders)
	machine := resourceToken(t, s, sesametest.Worker, url.Values{"grant_type": {"client_credentials"}}, orders)
	for _, tok := range []sesametest.Tokens{onlineJWT, offlineJWT, machine} {
		if tok.Status != 200 {
			t.Fatal(tok.Raw)
		}
	}
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	_, c, _ := accessJWT(t, s, onlineJWT.AccessToken)
	for _, asker := range []string{sesametest.AppB, sesametest.Worker} {
		got := s.Introspect(t, asker, onlineJWT.AccessToken)
		want := map[string]any{"active": true, "scope": "read:orders", "client_id": sesametest.AppB, "sub": acct.ID, "aud": orders,
			"iss": s.Issuer, "exp": float64(c.Expiry), "iat": float64(c.IssuedAt), "token_type": "Bearer", "sid": c.SID}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("introspected by %s: %v, want %v", asker, got, want)
		}
	}
	if got := s.Introspect(t, sesametest.AppA, machine.AccessToken); got["active"] != true || got["sub"] != sesametest.Worker {
		t.Errorf("a client's own JWT: %v", got)
	}

	// Global sign-out (O4): the online grant is revoked, the offline one
	// kept (offline_survives_signout).
	b.Submit(b.Get(s.Issuer+"/session/end?client_id="+sesametest.AppA), map[string]string{"logout": "true"})
	inactive := map[string]any{"active": false}
	if got := s.Introspect(t, sesametest.AppB, onlineJWT.AccessToken); !reflect.DeepEqual(got, inactive) {
		t.Errorf("the JWT of a grant the sign-out revoked: %v", got)
	}
	if got := s.Introspect(t, sesametest.AppA, offlineJWT.AccessToken); got["active"] != true {
		t.Errorf("the JWT of an offline grant after sign-out: %v", got)
	}

	forged := offlineJWT.AccessToken[:len(offlineJWT.AccessToken)-4] + "AAAA"
	head, _, _ := strings.Cut(offlineJWT.AccessToken, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." +
		strings.Split(offlineJWT.AccessToken, ".")[1] + "."
	for name, tok := range map[string]string{
		"forged signature": forged,
		"alg none":         none,
		"not a JWT":        head + ".e30.AAAA",
		"an ID token":      offline.IDToken,
	} {
		if got := s.Introspect(t, sesametest.AppA, tok); !reflect.DeepEqual(got, inactive) {
			t.Errorf("%s: %v", name, got)
		}
	}
	s.Clock.Advance(time.Hour)
	if got := s.Introspect(t, sesametest.AppA, offlineJWT.AccessToken); !reflect.DeepEqual(got, inactive) {
		t.Errorf("an expired JWT: %v", got)
	}
}

// The scope each API token carries follows the account's roles at the
// time it is issued, not only at consent (R2): alice's role taken away,
// a refresh for the Orders API carries no scope.
func TestResourceTokenFollowsTheRolesNow(t *testing.T) {
	eachAPIs(t, testResourceTokenFollowsTheRolesNow)
}

func testResourceTokenFollowsTheRolesNow(t *testing.T, s *sesametest.Sesame) {
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", ordersRequest())
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	err := s.Store.InTx(t.Context(), store.Durable, func(tx store.Tx) error { return tx.SetAccountRoles(t.Context(), acct.ID, nil) })
	if err != nil {
		t.Fatal(err)
	}
	s.Resources.ForgetAll()
	r := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, orders)
	if r.Status != 200 || r.Scope != "" {
		t.Fatalf("refresh after the role was taken: %d %v", r.Status, r.Raw)
	}
	if _, c, raw := accessJWT(t, s, r.AccessToken); c.Scope != "" || slices.Contains(mapKeys(raw), "scope") {
		t.Errorf("claims %v", raw)
	}
}

func mapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// R2, C1a, S4: an SSO sign-in asking for an API the grant lacks widens
// the grant of a first-party app (UpdateGrantResources) before its code
// is issued, so the code's token request finds it; a third-party app
// must ask, so prompt=none is consent_required. One asking for what the
// grant holds writes nothing and still finds it.
func TestSSOWithResourceWidensTheGrant(t *testing.T) { eachAPIs(t, testSSOWithResourceWidensTheGrant) }

func testSSOWithResourceWidensTheGrant(t *testing.T, s *sesametest.Sesame) {
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	if g := grantOf(t, s, "alice", sesametest.AppA); g.Resources != nil {
		t.Fatalf("resources of a grant made without resource: %v", g.Resources)
	}
	verifier, _ := sesametest.PKCE()
	exchange := func(code string) sesametest.Tokens {
		return resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {sesametest.RedirectURI(sesametest.AppA)}, "code_verifier": {verifier}}, orders)
	}
	for i := range 2 {
		cb := b.SignIn(sesametest.AppA, "alice", url.Values{"scope": {"openid read:orders"}, "resource": {orders}, "prompt": {"none"}})
		if cb.Code == "" {
			t.Fatalf("SSO %d with resource: %+v", i, cb)
		}
		if tok := exchange(cb.Code); tok.Status != 200 || tok.Scope != "read:orders" {
			t.Errorf("SSO %d: exchange with resource: %v", i, tok.Raw)
		}
	}
	if g := grantOf(t, s, "alice", sesametest.AppA); !reflect.DeepEqual(g.Resources, map[string][]string{orders: {"read:orders"}}) {
		t.Errorf("grant resources after SSO %v", g.Resources)
	}
	b.SignedIn(sesametest.ThirdParty, "alice", nil)
	if cb := b.SignIn(sesametest.ThirdParty, "alice", url.Values{"resource": {orders}, "prompt": {"none"}}); cb.Error != "consent_required" {
		t.Errorf("a third-party app's SSO asking for a new API: %+v", cb)
	}
}

// C5: an m2m client holding admin as a role (no admin flag, not in
// admin_clients) gets sesame:admin by client_credentials, and the admin
// API and introspection take its token; losing the role ends the token
// at both at once.
func TestAdminRoleGivesAdminTokens(t *testing.T) {
	sesametest.EachBackend(t, testAdminRoleGivesAdminTokens)
}

func testAdminRoleGivesAdminTokens(t *testing.T, opts sesametest.Options) {
	opts.ClientRoles = map[string][]string{sesametest.Worker: {resource.RoleAdmin}}
	opts.Configure = func(c *config.Config) { c.AdminClients = nil }
	s := sesametest.New(t, opts)
	tok := s.Token(t, sesametest.Worker, url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}})
	if tok.Status != 200 || tok.Scope != "sesame:admin" {
		t.Fatalf("client_credentials for a client holding the admin role: %d %v", tok.Status, tok.Raw)
	}
	adminAPI := func() int {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/clients", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := adminAPI(); st != 200 {
		t.Errorf("admin API with the role's token: %d", st)
	}
	if got := s.Introspect(t, sesametest.Worker, tok.AccessToken); got["active"] != true {
		t.Errorf("introspection of the role's token: %v", got)
	}
	err := s.Store.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
		return tx.SetClientRoles(t.Context(), sesametest.Worker, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := adminAPI(); st != 401 {
		t.Errorf("admin API after the role was taken: %d", st)
	}
	if got := s.Introspect(t, sesametest.Worker, tok.AccessToken); !reflect.DeepEqual(got, map[string]any{"active": false}) {
		t.Errorf("introspection after the role was taken: %v", got)
	}
}
