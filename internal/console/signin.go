package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/token"
)

// The console's cookies, by their base name (package web adds the
// __Host- prefix on an https issuer and writes every attribute of S1:
// HttpOnly, SameSite=Lax, path /, Secure on https).
const (
	// sessionCookie is the console session: the sealed access and ID
	// tokens.
	sessionCookie = "sesame_console"
	// flowCookie is the sign-in in progress: sealed state, nonce and PKCE
	// verifier, and where to go back to.
	flowCookie = "sesame_console_signin"
)

// flowTTL bounds a sign-in in progress: a person who takes longer starts
// again from the console.
const flowTTL = 10 * time.Minute

// maxCookie bounds a console cookie's value before it is decoded: a
// browser keeps at most about 4 KB per cookie.
const maxCookie = 4 << 10

// scopes are what the console asks for: who the person is, and the admin
// scope, granted only to an account holding the admin role through a
// first-party client (C5).
const scopes = "openid profile " + grant.ScopeAdmin

// Spec is the console's own client as Sesame registers it at every start
// (Register): a first-party web app at base (the issuer's scheme and
// host), redirected to /console/callback and, after signing out, to
// /console/. Its secret is random per start and kept by nobody: the
// console redeems its codes in process, so nothing can use the secret at
// the token endpoint. It asks for no refresh token: a global sign-out
// revokes its grant (O4), which ends the console session. Its back-channel
// logout URI, sid required, is BackchannelLogoutPath, which the server
// serves to the Deliverer in process: a sign-out tells the console as it
// tells any app, and its receipt shows the console told.
func Spec(base string) client.Spec {
	survives := false
	return client.Spec{
		ID: client.ConsoleID, Name: "Sesame console", Type: client.TypeWeb, FirstParty: true,
		Secret:                           secret.NewClientSecret(),
		RedirectURIs:                     []string{base + callbackPath},
		PostLogoutRedirectURIs:           []string{base + Home},
		BackchannelLogoutURI:             base + BackchannelLogoutPath,
		BackchannelLogoutSessionRequired: true,
		GrantTypes:                       []string{"authorization_code"},
		OfflineSurvivesSignout:           &survives,
	}
}

// Register registers (upserts) the console's own client; the server calls
// it at every start, after the configuration's clients. Its back-channel
// URI is served in process (backchannel.Local), so the registry does not
// hold it to the outbound address rule, whatever address the issuer has.
func (c *Console) Register(ctx context.Context) error {
	spec := Spec(c.base)
	if _, err := c.cfg.Registry.UpsertReserved(ctx, spec); err != nil {
		return fmt.Errorf("register the console's client: %w", err)
	}
	return nil
}

// flow is a sign-in in progress, sealed in flowCookie.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	// Return is the console address the person asked for.
	Return  string `json:"r"`
	Expires int64  `json:"e"` // Unix seconds
}

// consoleSession is the console session, sealed in sessionCookie. The
// tokens in it are checked at every request (check); the cookie itself
// proves nothing.
type consoleSession struct {
	AccessToken string `json:"a"`
	// IDToken is the id_token_hint of the sign-out.
	IDToken string `json:"i"`
	Expires int64  `json:"e"` // Unix seconds: the access token's expiry
}

// startSignIn sends the browser to the issuer's authorization endpoint:
// code + PKCE S256, state and nonce (C2). Sesame answers at once when its
// own session is there (SSO). returnTo is the console address to come
// back to.
func (c *Console) startSignIn(w http.ResponseWriter, r *http.Request, returnTo string) {
	f := flow{State: random(), Nonce: random(), Verifier: random(), Return: safeReturn(returnTo),
		Expires: c.now().Add(flowTTL).Unix()}
	sealed, err := seal(c.flows, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.cfg.Cookies.Set(w, r, flowCookie, sealed, time.Unix(f.Expires, 0))
	sum := sha256.Sum256([]byte(f.Verifier))
	q := url.Values{
		"client_id":             {client.ConsoleID},
		"redirect_uri":          {c.base + callbackPath},
		"response_type":         {"code"},
		"scope":                 {scopes},
		"state":                 {f.State},
		"nonce":                 {f.Nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	http.Redirect(w, r, c.cfg.Issuer+"/auth?"+q.Encode(), http.StatusSeeOther)
}

// callback ends a sign-in: it checks the state against the sealed flow,
// redeems the code in process (the console's secret is nobody's), checks
// the ID token's nonce, and sets the console session.
func (c *Console) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f flow
	ok := open(c.flows, c.cfg.Cookies.Get(r, flowCookie), &f) && c.now().Unix() < f.Expires &&
		f.State != "" && subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) == 1
	if !ok {
		c.message(w, r, http.StatusBadRequest, messagePage{
			Title:   "The sign-in could not be completed",
			Message: "This sign-in to the console was not started in this browser, took too long, or was replaced by another one opened since.",
			Link:    Home, LinkText: "Open the console again",
		})
		return
	}
	c.cfg.Cookies.Clear(w, r, flowCookie)
	if iss := q.Get("iss"); iss != "" && iss != c.cfg.Issuer { // RFC 9207
		c.signInFailed(w, r, "the answer came from another issuer")
		return
	}
	if e := q.Get("error"); e != "" {
		c.signInFailed(w, r, "Sesame answered "+e)
		return
	}
	cl, err := c.cfg.Registry.Get(r.Context(), client.ConsoleID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	resp, err := c.cfg.Tokens.Exchange(r.Context(), cl, token.ExchangeRequest{
		Code: q.Get("code"), RedirectURI: c.base + callbackPath, CodeVerifier: f.Verifier,
	})
	var denied *token.Denied
	switch {
	case errors.As(err, &denied):
		c.signInFailed(w, r, "the sign-in was refused ("+denied.Detail+")")
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	if err := c.checkNonce(resp.IDToken, f.Nonce); err != nil {
		c.signInFailed(w, r, err.Error())
		return
	}
	s := consoleSession{AccessToken: resp.AccessToken, IDToken: resp.IDToken,
		Expires: c.now().Add(time.Duration(resp.ExpiresIn) * time.Second).Unix()}
	sealed, err := seal(c.sessions, s)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// A cookie of the browser's session: its content says when it ends.
	c.cfg.Cookies.Set(w, r, sessionCookie, sealed, time.Time{})
	_, v, err := c.checkSession(r.Context(), s)
	switch {
	case err != nil:
		c.fail(w, r, err)
	case v == signedOut:
		// Fresh from the sign-in, so not for a lack of session: the token
		// came without sesame:admin though the account holds the role.
		// Going round again would loop; say so instead.
		c.signInFailed(w, r, "the token Sesame issued does not carry "+grant.ScopeAdmin)
	default:
		// An admin gets the page asked for; anyone else its refusal,
		// from there, so that a reload shows the same.
		http.Redirect(w, r, f.Return, http.StatusSeeOther)
	}
}

// signInFailed answers a sign-in that went wrong after it started.
func (c *Console) signInFailed(w http.ResponseWriter, r *http.Request, why string) {
	c.message(w, r, http.StatusBadRequest, messagePage{
		Title:   "The sign-in could not be completed",
		Message: "Sesame could not sign you in to the console: " + why + ".",
		Link:    Home, LinkText: "Try again",
	})
}

// checkNonce checks that idToken is Sesame's, for the console, and
// carries the nonce of this sign-in (OpenID Connect Core §3.1.3.7).
func (c *Console) checkNonce(idToken, nonce string) error {
	v, err := c.cfg.Keys.Verify(idToken)
	if err != nil {
		return errors.New("the ID token does not verify")
	}
	var claims struct {
		Audience string `json:"aud"`
		Nonce    string `json:"nonce"`
	}
	if err := json.Unmarshal(v.Payload, &claims); err != nil || claims.Audience != client.ConsoleID ||
		subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(nonce)) != 1 {
		return errors.New("the ID token is not the one this sign-in asked for")
	}
	return nil
}

// session opens the console session the request carries, if one is there
// and not past its expiry.
func (c *Console) session(r *http.Request) (consoleSession, bool) {
	var s consoleSession
	if !open(c.sessions, c.cfg.Cookies.Get(r, sessionCookie), &s) || s.AccessToken == "" || c.now().Unix() >= s.Expires {
		return consoleSession{}, false
	}
	return s, true
}

// signOut ends the console session and sends the browser to an ordinary
// Sesame sign-out: end-session with the console's ID token as hint, back
// to /console/ afterwards. It asks for no role: a person refused the
// console signs out through it too. Without a session it still goes to
// end-session, naming the console by client_id.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	q := url.Values{"post_logout_redirect_uri": {c.base + Home}}
	if s, ok := c.sessionEvenExpired(r); ok {
		q.Set("id_token_hint", s.IDToken)
	} else {
		q.Set("client_id", client.ConsoleID)
	}
	c.cfg.Cookies.Clear(w, r, sessionCookie)
	http.Redirect(w, r, c.cfg.Issuer+"/session/end?"+q.Encode(), http.StatusSeeOther)
}

// sessionEvenExpired opens the console session whatever its expiry: an
// expired ID token is still a good id_token_hint (O2).
func (c *Console) sessionEvenExpired(r *http.Request) (consoleSession, bool) {
	var s consoleSession
	ok := open(c.sessions, c.cfg.Cookies.Get(r, sessionCookie), &s) && s.IDToken != ""
	return s, ok
}

// maxReturn bounds the return address kept in the sign-in's cookie.
const maxReturn = 1 << 10

// safeReturn keeps a return address only when it is a console page of
// this server, short enough for a cookie.
func safeReturn(p string) string {
	if len(p) > maxReturn || !strings.HasPrefix(p, "/console/") || strings.HasPrefix(p, callbackPath) || strings.ContainsAny(p, "\\\r\n") {
		return appsPath
	}
	return p
}

// random is 256 random bits in base64url.
func random() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// seal seals v as JSON, for a cookie.
func seal(s *keys.Sealer, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode console cookie: %w", err)
	}
	sealed, err := s.Seal(b)
	if err != nil {
		return "", fmt.Errorf("seal console cookie: %w", err)
	}
	out := base64.RawURLEncoding.EncodeToString(sealed)
	if len(out) > maxCookie {
		return "", fmt.Errorf("console cookie of %d bytes is too large for a browser", len(out))
	}
	return out, nil
}

// open opens what seal sealed into v; anything else (absent, too long,
// tampered with, sealed for another purpose) is false.
func open(s *keys.Sealer, raw string, v any) bool {
	if raw == "" || len(raw) > maxCookie {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return false
	}
	plain, err := s.Open(b)
	return err == nil && json.Unmarshal(plain, v) == nil
}
