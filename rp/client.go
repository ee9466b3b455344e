package rp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config configures a Client.
type Config struct {
	// Issuer is Sesame's issuer URL, e.g. http://127.0.0.1:4000/oidc.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the app's callback; PostLogoutRedirectURL where
	// Sesame sends the person after signing out.
	RedirectURL           string
	PostLogoutRedirectURL string
	// Scopes default to openid profile email.
	Scopes []string
	// HTTPClient makes every call to Sesame; nil is http.DefaultClient.
	HTTPClient *http.Client
	// Sessions keeps app sessions; nil is a new MemoryStore.
	Sessions SessionStore
	// CookieName names the app's session cookie (default rp_session);
	// SecureCookie marks it Secure (always, behind https).
	CookieName   string
	SecureCookie bool
	// Logger, when set, logs sign-ins and sign-outs.
	Logger *slog.Logger
}

// Client signs people in to a web app through Sesame.
type Client struct {
	cfg        Config
	provider   *gooidc.Provider
	verifier   *gooidc.IDTokenVerifier
	oauth      oauth2.Config
	endSession string
	revocation string
	// refreshes serialises refreshes per session: Sesame revokes a grant
	// whose rotated refresh token is presented again (design G4).
	mu        sync.Mutex
	refreshes map[string]*refreshLock
}

// New reads Sesame's discovery document (OpenID Connect Discovery §4) and
// returns a Client.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Sessions == nil {
		cfg.Sessions = NewMemoryStore()
	}
	if cfg.CookieName == "" {
		cfg.CookieName = "rp_session"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{gooidc.ScopeOpenID, "profile", "email"}
	}
	ctx = gooidc.ClientContext(ctx, cfg.HTTPClient)
	p, err := gooidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("rp: discovery of %s: %w", cfg.Issuer, err)
	}
	var extra struct {
		EndSession string   `json:"end_session_endpoint"`
		Revocation string   `json:"revocation_endpoint"`
		Algs       []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&extra); err != nil {
		return nil, fmt.Errorf("rp: discovery of %s: %w", cfg.Issuer, err)
	}
	c := &Client{
		cfg:      cfg,
		provider: p,
		verifier: p.Verifier(&gooidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: extra.Algs}),
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes},
		endSession: extra.EndSession,
		revocation: extra.Revocation,
		refreshes:  map[string]*refreshLock{},
	}
	return c, nil
}

// Verifier checks ID tokens (and logout tokens, in rp/backchannel) with
// Sesame's published keys.
func (c *Client) Verifier() *gooidc.IDTokenVerifier { return c.verifier }

// SignInOption changes one sign-in request.
type SignInOption func(*signInRequest)

// signInRequest is what the options set; prompt values combine
// (prompt=login consent).
type signInRequest struct {
	prompt  []string
	offline bool
}

// WithPromptLogin asks for the password again even with a Sesame session
// (prompt=login, OpenID Connect Core §3.1.2.1).
func WithPromptLogin() SignInOption {
	return func(r *signInRequest) { r.prompt = append(r.prompt, "login") }
}

// WithOfflineAccess asks for a refresh token that outlives sign-out:
// offline_access with prompt=consent, as Sesame requires (design G3).
func WithOfflineAccess() SignInOption {
	return func(r *signInRequest) {
		r.offline = true
		r.prompt = append(r.prompt, "consent")
	}
}

// SignIn starts a sign-in: it keeps PKCE S256, state and nonce in a new app
// session and redirects the browser to Sesame.
func (c *Client) SignIn(w http.ResponseWriter, r *http.Request, opts ...SignInOption) error {
	s := &Session{ID: random(32), Created: time.Now(), State: random(24), Nonce: random(24), Verifier: oauth2.GenerateVerifier()}
	var req signInRequest
	for _, o := range opts {
		o(&req)
	}
	authOpts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(s.Verifier), gooidc.Nonce(s.Nonce)}
	if len(req.prompt) > 0 {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("prompt", strings.Join(slices.Compact(req.prompt), " ")))
	}
	conf := c.oauth
	if req.offline && !slices.Contains(conf.Scopes, gooidc.ScopeOfflineAccess) {
		conf.Scopes = append(slices.Clone(conf.Scopes), gooidc.ScopeOfflineAccess)
	}
	if err := c.save(r.Context(), w, s); err != nil {
		return fmt.Errorf("rp: keep sign-in: %w", err)
	}
	http.Redirect(w, r, conf.AuthCodeURL(s.State, authOpts...), http.StatusFound)
	return nil
}

// HandleCallback completes a sign-in at the redirect URL: it checks state,
// redeems the code with the PKCE verifier, verifies the ID token and its
// nonce, and stores the tokens in the app session.
func (c *Client) HandleCallback(w http.ResponseWriter, r *http.Request) (*Session, error) {
	ctx := gooidc.ClientContext(r.Context(), c.cfg.HTTPClient)
	s, err := c.sessionOf(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	if q.Get("error") != "" {
		return nil, &Error{Code: q.Get("error"), Description: q.Get("error_description")}
	}
	if s.State == "" || q.Get("state") != s.State {
		return nil, &Error{Code: "invalid_request", Description: "state does not match this browser's sign-in"}
	}
	if q.Get("iss") != "" && q.Get("iss") != c.cfg.Issuer { // RFC 9207
		return nil, &Error{Code: "invalid_request", Description: "the response names another issuer"}
	}
	tok, err := c.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(s.Verifier))
	if err != nil {
		return nil, oauthError(err)
	}
	if err := c.adopt(ctx, s, tok, true); err != nil {
		return nil, err
	}
	// The signed-in session gets a new ID: the one the sign-in ran under
	// was in the browser before authentication, where someone else may
	// have put it (session fixation). A sealed sign-in cookie need not be
	// ended: it holds no tokens, its code is spent, and it expires within
	// signInTimeout.
	if _, sealed := c.cfg.Sessions.(Encoder); !sealed {
		if err := c.cfg.Sessions.Delete(r.Context(), s.ID); err != nil {
			return nil, fmt.Errorf("rp: end the sign-in session: %w", err)
		}
	}
	s.ID, s.Created = random(32), time.Now()
	s.State, s.Nonce, s.Verifier = "", "", ""
	if err := c.save(r.Context(), w, s); err != nil {
		return nil, fmt.Errorf("rp: keep session: %w", err)
	}
	c.log(r.Context(), "signed in", "sub", s.Subject, "sid", s.SID)
	return s, nil
}

// adopt verifies tok's ID token and copies the tokens into s.
func (c *Client) adopt(ctx context.Context, s *Session, tok *oauth2.Token, checkNonce bool) error {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return &Error{Code: "invalid_grant", Description: "no ID token"}
	}
	idt, err := c.verifier.Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("rp: ID token: %w", err)
	}
	if checkNonce && idt.Nonce != s.Nonce {
		return &Error{Code: "invalid_request", Description: "nonce does not match"}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return fmt.Errorf("rp: ID token claims: %w", err)
	}
	sid, _ := claims["sid"].(string)
	s.Subject, s.SID, s.Claims, s.IDToken = idt.Subject, sid, claims, raw
	s.AccessToken, s.Expiry = tok.AccessToken, tok.Expiry
	if tok.RefreshToken != "" {
		s.RefreshToken = tok.RefreshToken
	}
	return nil
}

// Session returns the request's signed-in app session, or ErrNoSession.
func (c *Client) Session(r *http.Request) (*Session, error) {
	s, err := c.sessionOf(r)
	if err != nil || !s.SignedIn() {
		return nil, ErrNoSession
	}
	return s, nil
}

// Claims returns the signed-in person's ID token claims.
func (c *Client) Claims(r *http.Request) (map[string]any, error) {
	s, err := c.Session(r)
	if err != nil {
		return nil, err
	}
	return s.Claims, nil
}

// AccessToken returns a valid access token, refreshing it when it expires
// within a minute. Refreshes of one session are serialised (a rotated
// refresh token presented twice would revoke the grant), and a session
// that ends while a refresh is under way stays ended: ErrSignedOut. w
// receives the updated cookie when the store keeps sessions in it
// (CookieStore); with other stores it may be nil.
func (c *Client) AccessToken(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, error) {
	s, err := c.Session(r)
	if err != nil {
		return "", err
	}
	if time.Until(s.Expiry) > time.Minute || s.RefreshToken == "" {
		return s.AccessToken, nil
	}
	unlock := c.lockRefresh(s.ID)
	defer unlock()
	if l, ok := c.cfg.Sessions.(RefreshLocker); ok {
		unlockShared, err := l.LockRefresh(ctx, s.ID)
		if err != nil {
			return "", fmt.Errorf("rp: lock the refresh: %w", err)
		}
		defer unlockShared()
	}
	s, err = c.sessionOf(r) // another request, or instance, may have refreshed meanwhile
	if err != nil || !s.SignedIn() {
		return "", ErrSignedOut
	}
	if time.Until(s.Expiry) > time.Minute {
		return s.AccessToken, nil
	}
	hctx := gooidc.ClientContext(ctx, c.cfg.HTTPClient)
	tok, err := c.oauth.TokenSource(hctx, &oauth2.Token{RefreshToken: s.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		// A sign-out meanwhile revoked the refresh token: say so, rather
		// than invalid_grant.
		if cur, gerr := c.sessionOf(r); gerr != nil || !cur.SignedIn() {
			return "", ErrSignedOut
		}
		return "", oauthError(err)
	}
	if err := c.adopt(hctx, s, tok, false); err != nil {
		return "", err
	}
	// Update stores only if the session has not ended during the refresh:
	// a sign-out must not be undone by a refresh that was in flight.
	switch err := c.cfg.Sessions.Update(ctx, s); {
	case errors.Is(err, ErrSignedOut) || errors.Is(err, ErrNoSession):
		c.revoke(ctx, tok.RefreshToken)
		return "", ErrSignedOut
	case err != nil:
		return "", fmt.Errorf("rp: keep refreshed tokens: %w", err)
	}
	if err := c.writeCookie(w, s); err != nil {
		return "", fmt.Errorf("rp: keep refreshed tokens: %w", err)
	}
	return s.AccessToken, nil
}

// refreshLock serialises the refreshes of one session; the count of
// holders and waiters lets the last one remove it, so the map holds only
// sessions being refreshed.
type refreshLock struct {
	sync.Mutex
	users int
}

// lockRefresh locks session id's refreshes and returns the unlock.
func (c *Client) lockRefresh(id string) (unlock func()) {
	c.mu.Lock()
	l, ok := c.refreshes[id]
	if !ok {
		l = &refreshLock{}
		c.refreshes[id] = l
	}
	l.users++
	c.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		c.mu.Lock()
		if l.users--; l.users == 0 {
			delete(c.refreshes, id)
		}
		c.mu.Unlock()
	}
}

// UserInfo calls Sesame's userinfo endpoint with the session's access
// token (OpenID Connect Core §5.3); w is as for AccessToken.
func (c *Client) UserInfo(ctx context.Context, w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	at, err := c.AccessToken(ctx, w, r)
	if err != nil {
		return nil, err
	}
	ui, err := c.provider.UserInfo(gooidc.ClientContext(ctx, c.cfg.HTTPClient), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: at}))
	if err != nil {
		return nil, fmt.Errorf("rp: userinfo: %w", err)
	}
	var claims map[string]any
	if err := ui.Claims(&claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// SignOutLocal ends the app session and revokes its refresh token (RFC
// 7009); Sesame's session and other apps stay signed in (design O1).
func (c *Client) SignOutLocal(w http.ResponseWriter, r *http.Request) error {
	s, err := c.sessionOf(r)
	c.clearCookie(w)
	if err != nil {
		return nil // nothing to end
	}
	if err := c.cfg.Sessions.Delete(r.Context(), s.ID); err != nil {
		return fmt.Errorf("rp: end session: %w", err)
	}
	c.revoke(r.Context(), s.RefreshToken)
	c.log(r.Context(), "signed out of the app", "sub", s.Subject)
	return nil
}

// SignOutWeb does SignOutLocal, then sends the browser to Sesame's
// end-session endpoint with id_token_hint, client_id,
// post_logout_redirect_uri and state (RP-Initiated Logout §2), which signs
// the person out of Sesame and every app in this browser.
func (c *Client) SignOutWeb(w http.ResponseWriter, r *http.Request) error {
	s, _ := c.sessionOf(r)
	if err := c.SignOutLocal(w, r); err != nil {
		return err
	}
	q := url.Values{"client_id": {c.cfg.ClientID}, "state": {random(16)}}
	if s != nil && s.IDToken != "" {
		q.Set("id_token_hint", s.IDToken)
	}
	if c.cfg.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", c.cfg.PostLogoutRedirectURL)
	}
	http.Redirect(w, r, c.endSession+"?"+q.Encode(), http.StatusFound)
	return nil
}

// revoke revokes a refresh token; a failure is logged, not returned: the
// app is signed out either way.
func (c *Client) revoke(ctx context.Context, refreshToken string) {
	if refreshToken == "" || c.revocation == "" {
		return
	}
	form := url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.revocation, strings.NewReader(form.Encode()))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.cfg.ClientID), url.QueryEscape(c.cfg.ClientSecret))
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		c.log(ctx, "revoke refresh token", "err", err)
		return
	}
	resp.Body.Close()
}

// save stores a new session s and writes its cookie.
func (c *Client) save(ctx context.Context, w http.ResponseWriter, s *Session) error {
	if err := c.cfg.Sessions.Put(ctx, s); err != nil {
		return err
	}
	return c.writeCookie(w, s)
}

// writeCookie writes s's cookie: the sealed session for a store that keeps
// it in the cookie, its ID otherwise.
func (c *Client) writeCookie(w http.ResponseWriter, s *Session) error {
	value := s.ID
	if enc, ok := c.cfg.Sessions.(Encoder); ok {
		var err error
		if value, err = enc.Encode(s); err != nil {
			return err
		}
	}
	if w != nil {
		c.setCookie(w, value)
	}
	return nil
}

func (c *Client) sessionOf(r *http.Request) (*Session, error) {
	ck, err := r.Cookie(c.cfg.CookieName)
	if err != nil {
		return nil, ErrNoSession
	}
	s, err := c.cfg.Sessions.Get(r.Context(), ck.Value)
	if err != nil {
		return nil, ErrNoSession
	}
	return s, nil
}

func (c *Client) setCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{Name: c.cfg.CookieName, Value: id, Path: "/", HttpOnly: true,
		Secure: c.cfg.SecureCookie, SameSite: http.SameSiteLaxMode})
}

func (c *Client) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: c.cfg.CookieName, Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: c.cfg.SecureCookie, SameSite: http.SameSiteLaxMode})
}

func (c *Client) log(ctx context.Context, msg string, args ...any) {
	if c.cfg.Logger != nil {
		c.cfg.Logger.InfoContext(ctx, msg, args...)
	}
}

// oauthError turns an x/oauth2 error into an *Error with the OAuth code.
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
		return e
	}
	return fmt.Errorf("rp: token request: %w", err)
}
