package oidc_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// spec V1-V6, G2: revoking a refresh token revokes its grant; every token of
// it is dead at userinfo, introspection and the token endpoint.
func TestRevokingARefreshTokenKillsTheGrant(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	if m := s.Introspect(t, sesametest.AppA, tok.AccessToken); m["active"] != true || m["client_id"] != sesametest.AppA {
		t.Fatalf("introspection before revocation: %v", m)
	}
	resp, body := s.PostForm(t, "/token/revocation", sesametest.AppA, sesametest.Secret,
		url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"something_unknown"}})
	if resp.StatusCode != 200 {
		t.Fatalf("revocation: %d %s", resp.StatusCode, body)
	}
	if m := s.Introspect(t, sesametest.AppA, tok.AccessToken); len(m) != 1 || m["active"] != false {
		t.Errorf("introspection of a dead access token: %v", m)
	}
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 401 {
		t.Errorf("userinfo: %d", st)
	}
	if r := s.Refresh(t, sesametest.AppA, tok.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("refresh: %+v", r.Raw)
	}
	// spec V3: unknown and already revoked tokens answer 200 too.
	for _, tk := range []string{tok.RefreshToken, "never-issued"} {
		if resp, _ := s.PostForm(t, "/token/revocation", sesametest.AppA, sesametest.Secret, url.Values{"token": {tk}}); resp.StatusCode != 200 {
			t.Errorf("revoke %q: %d", tk, resp.StatusCode)
		}
	}
}

// spec V4, V5: revoking an access token revokes that token alone.
func TestRevokingAnAccessTokenLeavesTheRefreshToken(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	if resp, _ := s.PostForm(t, "/token/revocation", sesametest.AppA, sesametest.Secret, url.Values{"token": {tok.AccessToken}}); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 401 {
		t.Errorf("revoked access token: %d", st)
	}
	if r := s.Refresh(t, sesametest.AppA, tok.RefreshToken); r.Status != 200 {
		t.Errorf("refresh after revoking the access token: %+v", r.Raw)
	}
}

// spec V2: a client cannot revoke another client's token; I3: nor see it.
func TestTokensBelongToTheirClient(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	resp, body := s.PostForm(t, "/token/revocation", sesametest.AppB, sesametest.Secret, url.Values{"token": {tok.RefreshToken}})
	if resp.StatusCode != 400 || !strings.Contains(string(body), "unauthorized_client") {
		t.Errorf("cross-client revocation: %d %s", resp.StatusCode, body)
	}
	if r := s.Refresh(t, sesametest.AppA, tok.RefreshToken); r.Status != 200 {
		t.Errorf("the token was revoked by another client: %+v", r.Raw)
	}
	if m := s.Introspect(t, sesametest.AppB, tok.AccessToken); len(m) != 1 || m["active"] != false {
		t.Errorf("another client introspected the token: %v", m)
	}
}

// spec I1, I2, I4: introspection needs client authentication and describes
// active tokens of both kinds.
func TestIntrospection(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	resp, _ := s.PostForm(t, "/token/introspection", "", "", url.Values{"token": {tok.AccessToken}})
	if resp.StatusCode != 401 {
		t.Errorf("unauthenticated introspection: %d", resp.StatusCode)
	}
	m := s.Introspect(t, sesametest.AppA, tok.AccessToken)
	for _, k := range []string{"scope", "client_id", "sub", "exp", "iat", "token_type", "iss"} {
		if m[k] == nil {
			t.Errorf("introspection lacks %s: %v", k, m)
		}
	}
	if m := s.Introspect(t, sesametest.AppA, tok.RefreshToken); m["active"] != true || m["token_type"] != "refresh_token" {
		t.Errorf("refresh token introspection: %v", m)
	}
	if m := s.Introspect(t, sesametest.AppA, "garbage"); len(m) != 1 || m["active"] != false {
		t.Errorf("unknown token: %v", m)
	}
}
