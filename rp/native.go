package rp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sesame-id/sesame/rp/internal/jwks"
)

// NativeConfig configures the sign-in of a native app (command line or
// desktop) registered as a public "native" client with a loopback redirect
// URI such as http://127.0.0.1/callback (RFC 8252 §7.3: any port matches).
type NativeConfig struct {
	Issuer   string
	ClientID string
	// Scopes default to openid profile email offline_access; offline_access
	// is asked with prompt=consent, as Sesame requires (G3).
	Scopes []string
	// HTTPClient makes every call to Sesame; nil is http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds the whole sign-in (default 5 minutes).
	Timeout time.Duration
}

// Tokens are what a native sign-in gets.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	Expiry       time.Time
	Claims       Claims
}

// SignInNative signs a person in from a native app (RFC 8252): it listens
// on a free loopback port, calls open with the authorization URL (PKCE
// S256, state, nonce) for the system browser to show, waits for the
// redirect, redeems the code and verifies the ID token.
func SignInNative(ctx context.Context, cfg NativeConfig, open func(authURL string) error) (*Tokens, error) {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Minute
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	hctx := gooidc.ClientContext(ctx, cfg.HTTPClient)
	p, err := gooidc.NewProvider(hctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("rp: discovery of %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		JWKS string   `json:"jwks_uri"`
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKS == "" {
		return nil, fmt.Errorf("rp: discovery of %s: no jwks_uri", cfg.Issuer)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("rp: loopback listener: %w", err)
	}
	defer ln.Close()
	conf := oauth2.Config{ClientID: cfg.ClientID, Endpoint: p.Endpoint(), Scopes: cfg.Scopes,
		RedirectURL: fmt.Sprintf("http://%s/callback", ln.Addr())}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client sends client_id only
	verifier, state, nonce := oauth2.GenerateVerifier(), random(24), random(24)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)}
	for _, s := range cfg.Scopes {
		if s == gooidc.ScopeOfflineAccess {
			opts = append(opts, oauth2.SetAuthURLParam("prompt", "consent"))
		}
	}

	type result struct {
		code string
		err  error
	}
	got := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		res := result{code: q.Get("code")}
		switch {
		case q.Get("error") != "":
			res.err = &Error{Code: q.Get("error"), Description: q.Get("error_description")}
		case q.Get("state") != state:
			res.err = &Error{Code: "invalid_request", Description: "state does not match"}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			fmt.Fprint(w, "<p>Sign-in failed. You can close this window.</p>")
		} else {
			fmt.Fprint(w, "<p>Signed in. You can close this window and return to the app.</p>")
		}
		select {
		case got <- res:
		default:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	if err := open(conf.AuthCodeURL(state, opts...)); err != nil {
		return nil, fmt.Errorf("rp: open the browser: %w", err)
	}
	var res result
	select {
	case res = <-got:
	case <-ctx.Done():
		return nil, errors.New("rp: the sign-in was not completed in time")
	}
	if res.err != nil {
		return nil, res.err
	}
	tok, err := conf.Exchange(hctx, res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, oauthError(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	keys := jwks.New(meta.JWKS, cfg.HTTPClient, nil)
	idt, err := gooidc.NewVerifier(cfg.Issuer, keys, &gooidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: meta.Algs}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("rp: ID token: %w", err)
	}
	if idt.Nonce != nonce {
		return nil, &Error{Code: "invalid_request", Description: "nonce does not match"}
	}
	out := &Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, IDToken: raw, Expiry: tok.Expiry}
	if err := idt.Claims(&out.Claims); err != nil {
		return nil, err
	}
	return out, nil
}

// oauthError turns an x/oauth2 error into an *Error with the OAuth code,
// or a *TransportError when Sesame did not answer in OAuth terms.
func oauthError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &Error{Code: re.ErrorCode, Description: re.ErrorDescription}
		if e.Code == "" {
			var body struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(re.Body, &body)
			e.Code = body.Error
		}
		if e.Code == "" {
			status := 0
			if re.Response != nil {
				status = re.Response.StatusCode
			}
			return &TransportError{Op: "token request", StatusCode: status, Err: err}
		}
		return e
	}
	return &TransportError{Op: "token request", Err: err}
}
