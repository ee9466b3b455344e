package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/token"
)

// revoke asks the revocation endpoint, as clientID, to revoke tok, and
// returns its status and error code.
func revoke(t *testing.T, s *sesametest.Sesame, clientID, tok string) (int, string) {
	t.Helper()
	resp, body := s.PostForm(t, "/token/revocation", clientID, sesametest.Secret, url.Values{"token": {tok}})
	var e struct {
		Error string `json:"error"`
	}
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("revocation answered %d: %s", resp.StatusCode, body)
		}
	}
	return resp.StatusCode, e.Error
}

// jwtTokens are a person's JWT access token for the Orders API (alice,
// through app-a) and a client's own (the worker's).
func jwtTokens(t *testing.T, s *sesametest.Sesame) (person, client string) {
	t.Helper()
	offline := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", ordersRequest())
	p := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {offline.RefreshToken}}, orders)
	c := resourceToken(t, s, sesametest.Worker, url.Values{"grant_type": {"client_credentials"}}, orders)
	for _, tok := range []sesametest.Tokens{p, c} {
		if tok.Status != 200 {
			t.Fatal(tok.Raw)
		}
	}
	return p.AccessToken, c.AccessToken
}

// RFC 7009 §2.2, spec V3, R3: a value that is not a JWT access token
// Sesame signed and recorded is ignored with 200 (a forged or unsigned
// one, another issuer's, an ID token, one whose jti Sesame never
// recorded), and the tokens it imitates stay active.
func TestJWTRevocationIgnoresForeignTokens(t *testing.T) {
	eachAPIs(t, testJWTRevocationIgnoresForeignTokens)
}

func testJWTRevocationIgnoresForeignTokens(t *testing.T, s *sesametest.Sesame) {
	person, client := jwtTokens(t, s)
	_, claims, _ := accessJWT(t, s, person)
	sign := func(typ string, c token.AccessJWT) string {
		t.Helper()
		tok, err := s.Keys.Sign("ES256", typ, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	otherIssuer, unknownJTI := claims, claims
	otherIssuer.Issuer = "https://elsewhere.example"
	unknownJTI.JTI = base64.RawURLEncoding.EncodeToString([]byte("sixteen bytes...")) // never issued
	head, rest, _ := strings.Cut(person, ".")
	payload, _, _ := strings.Cut(rest, ".")
	idToken := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil).IDToken
	for name, tok := range map[string]string{
		"forged signature": person[:len(person)-4] + "AAAA",
		"alg none":         base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + payload + ".",
		"not a JWT":        head + ".e30.AAAA",
		"another issuer":   sign(token.TypeAccessJWT, otherIssuer),
		"never recorded":   sign(token.TypeAccessJWT, unknownJTI),
		"an ID token":      idToken,
	} {
		if st, code := revoke(t, s, sesametest.AppA, tok); st != http.StatusOK {
			t.Errorf("%s: %d %s", name, st, code)
		}
	}
	for name, tok := range map[string]string{"person's": person, "client's": client} {
		if got := s.Introspect(t, sesametest.AppA, tok); got["active"] != true {
			t.Errorf("the %s JWT after foreign revocations: %v", name, got)
		}
	}
}

// RFC 7009 §2.1, spec V2: a client cannot revoke a JWT access token issued
// to another client, a person's or a client's own: unauthorized_client,
// and the token stays active.
func TestJWTAccessTokensAreRevokedByTheirClientOnly(t *testing.T) {
	eachAPIs(t, testJWTAccessTokensAreRevokedByTheirClientOnly)
}

func testJWTAccessTokensAreRevokedByTheirClientOnly(t *testing.T, s *sesametest.Sesame) {
	person, client := jwtTokens(t, s)
	for _, c := range []struct{ name, tok, asker string }{
		{"alice's app-a token, by app-b", person, sesametest.AppB},
		{"alice's app-a token, by the worker", person, sesametest.Worker},
		{"the worker's token, by app-a", client, sesametest.AppA},
	} {
		if st, code := revoke(t, s, c.asker, c.tok); st != http.StatusBadRequest || code != "unauthorized_client" {
			t.Errorf("%s: %d %s", c.name, st, code)
		}
		if got := s.Introspect(t, sesametest.AppA, c.tok); got["active"] != true {
			t.Errorf("%s: introspection after the refusal: %v", c.name, got)
		}
	}
}

// RFC 7009 §2.1, R3: a client revokes its own JWT access token, a
// person's or a machine's: 200, introspection answers inactive from then
// on, and nothing else ends: the person's refresh token still gets a new
// JWT for the API, which is active.
func TestJWTAccessTokensAreRevokedByTheirClient(t *testing.T) {
	eachAPIs(t, testJWTAccessTokensAreRevokedByTheirClient)
}

func testJWTAccessTokensAreRevokedByTheirClient(t *testing.T, s *sesametest.Sesame) {
	offline := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", ordersRequest())
	person := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {offline.RefreshToken}}, orders)
	client := resourceToken(t, s, sesametest.Worker, url.Values{"grant_type": {"client_credentials"}}, orders)
	for _, c := range []struct{ name, tok, owner string }{
		{"alice's app-a token", person.AccessToken, sesametest.AppA},
		{"the worker's token", client.AccessToken, sesametest.Worker},
	} {
		if st, code := revoke(t, s, c.owner, c.tok); st != http.StatusOK {
			t.Errorf("%s revoked by its client: %d %s", c.name, st, code)
		}
		if got := s.Introspect(t, sesametest.AppA, c.tok); got["active"] != false {
			t.Errorf("%s after its revocation: %v", c.name, got)
		}
		if st, code := revoke(t, s, c.owner, c.tok); st != http.StatusOK {
			t.Errorf("%s revoked again: %d %s", c.name, st, code)
		}
	}
	again := resourceToken(t, s, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {person.RefreshToken}}, orders)
	if again.Status != 200 {
		t.Fatalf("refresh after the JWT was revoked: %v", again.Raw)
	}
	if got := s.Introspect(t, sesametest.AppA, again.AccessToken); got["active"] != true {
		t.Errorf("the new JWT: %v", got)
	}
}
