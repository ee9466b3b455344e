package rp

import (
	"context"
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

	"github.com/sesame-id/sesame/rp/internal/jwks"
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
	// Scopes default to openid profile email. An app that calls its APIs
	// adds their scopes (read:orders...) here.
	Scopes []string
	// Resources are the indicators of the APIs the app calls (RFC 8707),
	// sent as resource on every sign-in so that the grant covers them:
	// AccessTokenFor can get a token only for an API of the grant.
	Resources []string
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
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Client signs people in to a web app through Sesame. Each method takes
// the context of the call it serves (ctx, or the request's) and keeps
// none: a Client holds no context between calls.
type Client struct {
	cfg        Config
	verifier   *gooidc.IDTokenVerifier
	oauth      oauth2.Config
	tokenURL   string
	userinfo   string
	endSession string
	revocation string
	// refreshes serialises refreshes per session: Sesame revokes a grant
	// whose rotated refresh token is presented again (G4).
	mu        sync.Mutex
	refreshes map[string]*refreshLock
}

// New reads Sesame's discovery document (OpenID Connect Discovery §4) and
// returns a Client. ctx bounds the discovery only; the keys that verify ID
// tokens are fetched later, with the context of the call that needs them.
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{gooidc.ScopeOpenID, "profile", "email"}
	}
	for _, r := range cfg.Resources {
		if err := checkResource(r); err != nil {
			return nil, err
		}
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, cfg.HTTPClient), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("rp: discovery of %s: %w", cfg.Issuer, err)
	}
	var extra struct {
		JWKS       string   `json:"jwks_uri"`
		EndSession string   `json:"end_session_endpoint"`
		Revocation string   `json:"revocation_endpoint"`
		Algs       []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&extra); err != nil {
		return nil, fmt.Errorf("rp: discovery of %s: %w", cfg.Issuer, err)
	}
	if extra.JWKS == "" {
		return nil, fmt.Errorf("rp: discovery of %s: no jwks_uri", cfg.Issuer)
	}
	keys := jwks.New(extra.JWKS, cfg.HTTPClient, cfg.Now)
	c := &Client{
		cfg:      cfg,
		verifier: gooidc.NewVerifier(cfg.Issuer, keys, &gooidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: extra.Algs, Now: cfg.Now}),
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes},
		tokenURL:   p.Endpoint().TokenURL,
		userinfo:   p.UserInfoEndpoint(),
		endSession: extra.EndSession,
		revocation: extra.Revocation,
		refreshes:  map[string]*refreshLock{},
	}
	return c, nil
}

// Verifier checks ID tokens (and logout tokens, in rp/backchannel) with
// Sesame's published keys, fetched with the context handed to its Verify.
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
// offline_access with prompt=consent, as Sesame requires (G3). Refreshes,
// and tokens for APIs (AccessTokenFor), need it.
func WithOfflineAccess() SignInOption {
	return func(r *signInRequest) {
		r.offline = true
		r.prompt = append(r.prompt, "consent")
	}
}

// SignIn starts a sign-in: it keeps PKCE S256, state and nonce in a new app
// session and redirects the browser to Sesame, with a resource parameter
// for each of Config.Resources.
func (c *Client) SignIn(w http.ResponseWriter, r *http.Request, opts ...SignInOption) error {
	s := &Session{ID: random(32), Created: c.cfg.Now(), State: random(24), Nonce: random(24), Verifier: oauth2.GenerateVerifier()}
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
	to, err := url.Parse(conf.AuthCodeURL(s.State, authOpts...))
	if err != nil {
		return fmt.Errorf("rp: authorization URL: %w", err)
	}
	if len(c.cfg.Resources) > 0 {
		// resource repeats, one per API (RFC 8707 §2): x/oauth2's options
		// set a parameter once.
		q := to.Query()
		q["resource"] = slices.Clone(c.cfg.Resources)
		to.RawQuery = q.Encode()
	}
	if err := c.save(r.Context(), w, s); err != nil {
		return fmt.Errorf("rp: keep sign-in: %w", err)
	}
	http.Redirect(w, r, to.String(), http.StatusFound)
	return nil
}

// HandleCallback completes a sign-in at the redirect URL: it checks state,
// redeems the code with the PKCE verifier, verifies the ID token and its
// nonce, and stores the tokens in the app session.
func (c *Client) HandleCallback(w http.ResponseWriter, r *http.Request) (*Session, error) {
	ctx := r.Context()
	s, err := c.sessionOf(ctx, r)
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
	tok, err := c.tokenRequest(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {c.cfg.RedirectURL}, "code_verifier": {s.Verifier}})
	if err != nil {
		return nil, err
	}
	if err := c.adopt(ctx, s, tok, adoptSignIn); err != nil {
		return nil, err
	}
	// The signed-in session gets a new ID: the one the sign-in ran under
	// was in the browser before authentication, where someone else may
	// have put it (session fixation). A sealed sign-in cookie need not be
	// ended: it holds no tokens, its code is spent, and it expires within
	// signInTimeout.
	if _, sealed := c.cfg.Sessions.(Encoder); !sealed {
		if err := c.cfg.Sessions.Delete(ctx, s.ID); err != nil {
			return nil, fmt.Errorf("rp: end the sign-in session: %w", err)
		}
	}
	s.ID, s.Created = random(32), c.cfg.Now()
	s.State, s.Nonce, s.Verifier = "", "", ""
	if err := c.save(ctx, w, s); err != nil {
		return nil, fmt.Errorf("rp: keep session: %w", err)
	}
	c.log(ctx, "signed in", "sub", s.Subject, "sid", s.SID)
	return s, nil
}

// adoptMode says what a token response comes from.
type adoptMode int

const (
	// adoptSignIn: a code redeemed; the ID token is required and carries
	// the sign-in's nonce.
	adoptSignIn adoptMode = iota
	// adoptRefresh: a refresh; an ID token is optional (OpenID Connect
	// Core §12.2) and, when sent, must name the same person.
	adoptRefresh
)

// adopt verifies tok's ID token and copies the tokens into s.
func (c *Client) adopt(ctx context.Context, s *Session, tok *tokenResponse, mode adoptMode) error {
	if tok.IDToken == "" && mode == adoptSignIn {
		return &Error{Code: "invalid_grant", Description: "no ID token"}
	}
	if tok.IDToken != "" {
		idt, err := c.verifier.Verify(ctx, tok.IDToken)
		if err != nil {
			return fmt.Errorf("rp: ID token: %w", err)
		}
		if mode == adoptSignIn && idt.Nonce != s.Nonce {
			return &Error{Code: "invalid_request", Description: "nonce does not match"}
		}
		if mode == adoptRefresh && idt.Subject != s.Subject {
			return &Error{Code: "invalid_grant", Description: "the refreshed ID token names another subject"}
		}
		var claims Claims
		if err := idt.Claims(&claims); err != nil {
			return fmt.Errorf("rp: ID token claims: %w", err)
		}
		s.Subject, s.SID, s.Claims, s.IDToken = idt.Subject, claims.SessionID, claims, tok.IDToken
	}
	s.AccessToken, s.Expiry = tok.AccessToken, tok.expiry
	if tok.RefreshToken != "" {
		s.RefreshToken = tok.RefreshToken
	}
	return nil
}

// Session returns the request's signed-in app session, or ErrNoSession.
func (c *Client) Session(r *http.Request) (*Session, error) {
	return c.session(r.Context(), r)
}

func (c *Client) session(ctx context.Context, r *http.Request) (*Session, error) {
	s, err := c.sessionOf(ctx, r)
	if err != nil || !s.SignedIn() {
		return nil, ErrNoSession
	}
	return s, nil
}

// Claims returns the signed-in person's ID token claims.
func (c *Client) Claims(r *http.Request) (*Claims, error) {
	s, err := c.Session(r)
	if err != nil {
		return nil, err
	}
	claims := s.Claims.clone()
	return &claims, nil
}

// AccessToken returns a valid access token for Sesame's userinfo,
// refreshing it when it expires within a minute. Refreshes of one session
// are serialised (a rotated refresh token presented twice would revoke the
// grant), and a session that ends while a refresh is under way stays
// ended: ErrSignedOut. w receives the updated cookie when the store keeps
// sessions in it (CookieStore); with other stores it may be nil. ctx is
// used for every call this makes, the session store's included.
func (c *Client) AccessToken(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, error) {
	s, err := c.refreshed(ctx, w, r, c.accessTokenFresh, c.renewAccessToken)
	if err != nil {
		return "", err
	}
	return s.AccessToken, nil
}

// accessTokenFresh: a session without a refresh token keeps its access
// token until it expires, as it cannot do better.
func (c *Client) accessTokenFresh(s *Session) bool {
	return s.RefreshToken == "" || s.Expiry.Sub(c.cfg.Now()) > time.Minute
}

func (c *Client) renewAccessToken(ctx context.Context, s *Session) error {
	tok, err := c.tokenRequest(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.RefreshToken}})
	if err != nil {
		return err
	}
	return c.adopt(ctx, s, tok, adoptRefresh)
}

// refreshed returns the request's session once fresh holds for it: as it
// is, or after renew has refreshed it with the session's refresh token and
// the store has kept the result. Only one refresh of a session runs at a
// time, in this process and, with a RefreshLocker, across instances; each
// waiter reads the session again once it holds the lock, and finds what
// the refresh before it got.
func (c *Client) refreshed(ctx context.Context, w http.ResponseWriter, r *http.Request,
	fresh func(*Session) bool, renew func(context.Context, *Session) error) (*Session, error) {
	s, err := c.session(ctx, r)
	if err != nil || fresh(s) {
		return s, err
	}
	unlock, err := c.lockRefresh(ctx, s.ID)
	if err != nil {
		return nil, fmt.Errorf("rp: wait for the refresh under way: %w", err)
	}
	defer unlock()
	if l, ok := c.cfg.Sessions.(RefreshLocker); ok {
		unlockShared, err := l.LockRefresh(ctx, s.ID)
		if err != nil {
			return nil, fmt.Errorf("rp: lock the refresh: %w", err)
		}
		defer unlockShared()
	}
	s, err = c.sessionOf(ctx, r) // another request, or instance, may have refreshed meanwhile
	if err != nil || !s.SignedIn() {
		return nil, ErrSignedOut
	}
	if fresh(s) {
		return s, nil
	}
	// Once the refresh token is sent, Sesame spends it whether or not the
	// answer arrives: a caller that gives up (a browser closing the page)
	// must not lose the rotated one, which nothing could recover. So the
	// refresh and its write run to their end, within refreshTimeout, with
	// ctx's values but not its cancellation.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	if err := renew(ctx, s); err != nil {
		// A sign-out meanwhile revoked the refresh token: say so, rather
		// than invalid_grant.
		if cur, gerr := c.sessionOf(ctx, r); gerr != nil || !cur.SignedIn() {
			return nil, ErrSignedOut
		}
		return nil, err
	}
	// Update stores only if the session has not ended during the refresh:
	// a sign-out must not be undone by a refresh that was in flight.
	switch err := c.cfg.Sessions.Update(ctx, s); {
	case errors.Is(err, ErrSignedOut) || errors.Is(err, ErrNoSession):
		c.revoke(ctx, s.RefreshToken)
		return nil, ErrSignedOut
	case err != nil:
		return nil, fmt.Errorf("rp: keep refreshed tokens: %w", err)
	}
	if err := c.writeCookie(w, s); err != nil {
		return nil, fmt.Errorf("rp: keep refreshed tokens: %w", err)
	}
	return s, nil
}

// refreshTimeout bounds a refresh once its refresh token is on the wire.
const refreshTimeout = 30 * time.Second

// refreshLock serialises the refreshes of one session; the count of
// holders and waiters lets the last one remove it, so the map holds only
// sessions being refreshed. Holding it is holding the channel's one slot,
// so a waiter can give up when its context ends.
type refreshLock struct {
	slot  chan struct{}
	users int
}

// lockRefresh locks session id's refreshes and returns the unlock, or
// ctx's error if it ends first.
func (c *Client) lockRefresh(ctx context.Context, id string) (unlock func(), err error) {
	c.mu.Lock()
	l, ok := c.refreshes[id]
	if !ok {
		l = &refreshLock{slot: make(chan struct{}, 1)}
		c.refreshes[id] = l
	}
	l.users++
	c.mu.Unlock()
	leave := func() {
		c.mu.Lock()
		if l.users--; l.users == 0 {
			delete(c.refreshes, id)
		}
		c.mu.Unlock()
	}
	select {
	case l.slot <- struct{}{}:
		return func() { <-l.slot; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
}

// UserInfo calls Sesame's userinfo endpoint with the session's access
// token (OpenID Connect Core §5.3), refreshing it first if need be; w is
// as for AccessToken. An answer about another subject than the session's
// is refused (§5.3.2).
func (c *Client) UserInfo(ctx context.Context, w http.ResponseWriter, r *http.Request) (*UserInfo, error) {
	s, err := c.refreshed(ctx, w, r, c.accessTokenFresh, c.renewAccessToken)
	if err != nil {
		return nil, err
	}
	info, err := c.fetchUserInfo(ctx, s.AccessToken)
	if err != nil {
		return nil, err
	}
	if info.Subject != s.Subject {
		return nil, fmt.Errorf("rp: userinfo answered for subject %q, not the session's", info.Subject)
	}
	return info, nil
}

// SignOutLocal ends the app session and revokes its refresh token (RFC
// 7009); Sesame's session and other apps stay signed in (O1).
func (c *Client) SignOutLocal(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	s, err := c.sessionOf(ctx, r)
	c.clearCookie(w)
	if err != nil {
		return nil // nothing to end
	}
	if err := c.cfg.Sessions.Delete(ctx, s.ID); err != nil {
		return fmt.Errorf("rp: end session: %w", err)
	}
	c.revoke(ctx, s.RefreshToken)
	c.log(ctx, "signed out of the app", "sub", s.Subject)
	return nil
}

// SignOutWeb does SignOutLocal, then sends the browser to Sesame's
// end-session endpoint with id_token_hint, client_id,
// post_logout_redirect_uri and state (RP-Initiated Logout §2), which signs
// the person out of Sesame and every app in this browser.
func (c *Client) SignOutWeb(w http.ResponseWriter, r *http.Request) error {
	s, _ := c.sessionOf(r.Context(), r)
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

func (c *Client) sessionOf(ctx context.Context, r *http.Request) (*Session, error) {
	ck, err := r.Cookie(c.cfg.CookieName)
	if err != nil {
		return nil, ErrNoSession
	}
	s, err := c.cfg.Sessions.Get(ctx, ck.Value)
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
