package oidc_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// Interop with clients nobody here wrote: go-oidc and x/oauth2 drive a real
// Sesame listener through discovery, code + PKCE, ID token verification
// (nonce, sid, auth_time), userinfo and refresh; the used refresh token then
// fails with invalid_grant, and so does its successor (G4).
func TestInteropGoOIDCAndOAuth2(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	ctx := gooidc.ClientContext(t.Context(), http.DefaultClient)
	provider, err := gooidc.NewProvider(ctx, s.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{
		ClientID: sesametest.AppA, ClientSecret: sesametest.Secret, Endpoint: provider.Endpoint(),
		RedirectURL: sesametest.RedirectURI(sesametest.AppA),
		Scopes:      []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n-1"),
		oauth2.SetAuthURLParam("prompt", "consent"))

	b := s.NewBrowser(t)
	p := b.Get(authURL)
	cb := sesametest.Landed(t, b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password}))
	if cb.State != "st-1" || cb.Code == "" {
		t.Fatalf("callback %+v", cb)
	}
	tok, err := conf.Exchange(ctx, cb.Code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: sesametest.AppA, Now: s.Clock.Now}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc rejected the ID token: %v", err)
	}
	var claims struct {
		SID      string `json:"sid"`
		AuthTime int64  `json:"auth_time"`
		Email    string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != "n-1" || claims.SID == "" || claims.AuthTime == 0 || claims.Email != "alice@example.com" {
		t.Errorf("ID token: nonce %q, claims %+v", idt.Nonce, claims)
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != idt.Subject || ui.Email != "alice@example.com" {
		t.Fatalf("userinfo: %+v %v", ui, err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access and prompt=consent")
	}

	used := tok.RefreshToken
	stale := &oauth2.Token{RefreshToken: used, Expiry: time.Now().Add(-time.Minute)}
	next, err := conf.TokenSource(ctx, stale).Token()
	if err != nil || next.RefreshToken == "" || next.RefreshToken == used {
		t.Fatalf("refresh: %+v %v", next, err)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: used, Expiry: time.Now().Add(-time.Minute)}).Token()
	assertInvalidGrant(t, "the used refresh token", err)
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	assertInvalidGrant(t, "its successor", err)
}

func assertInvalidGrant(t *testing.T, what string, err error) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("%s: got %v, want invalid_grant", what, err)
	}
}
