package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/keys"
)

// BackchannelLogoutPath is where, on the console's base, Sesame tells the
// console that one of its sessions ended (Back-Channel Logout 1.0). The
// console's client is registered with it (Spec), and the server has the
// Deliverer serve it in process (backchannel.Local): the notification
// never leaves the process.
const BackchannelLogoutPath = "/console/backchannel-logout"

// BackchannelLogoutURI is the console's back-channel logout URI, exactly
// as Spec registers it.
func (c *Console) BackchannelLogoutURI() string { return c.base + BackchannelLogoutPath }

// BackchannelLogout is the handler of the console's back-channel logout
// URI. It does what Back-Channel Logout 1.0 asks of any app (§2.6-§2.8):
// it verifies the logout token, then remembers the sid (or, for a token
// without one, the subject) as ended, so that the console refuses a
// session of it at the next request before its token is even checked.
// The check of the token, grant, account and role at every request stays:
// the memory is this instance's alone and lasts only as long as a console
// session can.
func (c *Console) BackchannelLogout() http.Handler { return http.HandlerFunc(c.backchannelLogout) }

// maxLogoutBody bounds the body read: a logout token is a few hundred
// bytes, and a stranger posting here must not make Sesame read megabytes.
const maxLogoutBody = 64 << 10

// logoutSkew is how far a logout token's iat may be ahead of the clock,
// and, beyond the token's lifetime, behind it.
const logoutSkew = time.Minute

func (c *Console) backchannelLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		logoutError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	// A logout token comes as a form (§2.5).
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		logoutError(w, http.StatusBadRequest, "the logout token must be posted as a form")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutBody)
	tok, err := c.verifyLogout(r.Context(), r.PostFormValue("logout_token"))
	if err != nil {
		// §2.8: 400 for a token the app refuses; nothing is ended.
		c.cfg.Logger.WarnContext(r.Context(), "console refused a logout token", "err", err)
		logoutError(w, http.StatusBadRequest, "the logout token is not valid")
		return
	}
	// A sid names one session; a token without one names every session
	// of the subject (§2.4).
	key := endedKey{sid: true, value: tok.SessionID}
	if tok.SessionID == "" {
		key = endedKey{value: tok.Subject}
	}
	now := c.now()
	c.ended.add(key, tok.IssuedAt, now.Add(c.sessionMaxAge()), now)
	c.cfg.Logger.InfoContext(r.Context(), "console session ended by back-channel logout", "jti", tok.TokenID, "by_sid", key.sid)
	w.WriteHeader(http.StatusOK)
}

// logoutError answers a refused logout request with an OAuth 2.0 error
// body (§2.8).
func logoutError(w http.ResponseWriter, status int, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": description})
}

// verifyLogout checks raw as an app must (Back-Channel Logout 1.0 §2.6),
// with go-oidc's VerifyLogout, the validator the rp package's apps use,
// over Sesame's own keys in process instead of its JWKS: signed by one of
// Sesame's published keys (ES256 or RS256, never none) with typ
// logout+jwt; iss the issuer; aud the console; not expired; an events
// claim with the back-channel logout member; sub or sid; no nonce. It
// adds what go-oidc leaves to the app: iat present and recent, and the
// events member an object.
func (c *Console) verifyLogout(ctx context.Context, raw string) (*gooidc.LogoutToken, error) {
	if raw == "" {
		return nil, errors.New("no logout_token")
	}
	v := gooidc.NewVerifier(c.cfg.Issuer, logoutKeys{c.cfg.Keys}, &gooidc.Config{
		ClientID: client.ConsoleID, SupportedSigningAlgs: []string{keys.ES256, keys.RS256}, Now: c.cfg.Now,
	})
	tok, err := v.VerifyLogout(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify logout token: %w", err)
	}
	now := c.now()
	switch {
	case tok.IssuedAt.IsZero():
		return nil, errors.New("logout token without iat")
	case tok.IssuedAt.After(now.Add(logoutSkew)):
		return nil, fmt.Errorf("logout token issued in the future (iat %s)", tok.IssuedAt.UTC().Format(time.RFC3339))
	case tok.IssuedAt.Before(now.Add(-backchannel.TokenTTL - logoutSkew)):
		return nil, fmt.Errorf("logout token issued too long ago (iat %s)", tok.IssuedAt.UTC().Format(time.RFC3339))
	}
	var claims struct {
		Events map[string]json.RawMessage `json:"events"`
	}
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("read logout token claims: %w", err)
	}
	if ev := bytes.TrimSpace(claims.Events[backchannel.EventLogout]); len(ev) == 0 || ev[0] != '{' {
		return nil, errors.New("logout token's events member is not a JSON object")
	}
	return tok, nil
}

// logoutKeys are Sesame's keys as go-oidc's KeySet: the signature is
// checked in process against the keys Sesame publishes, and only a
// logout token's typ is taken, so that no other token Sesame signs (an
// ID token) passes for one.
type logoutKeys struct{ keys Verifier }

// VerifySignature checks jwt's signature and typ and returns its payload.
func (k logoutKeys) VerifySignature(_ context.Context, jwt string) ([]byte, error) {
	v, err := k.keys.Verify(jwt)
	if err != nil {
		return nil, err
	}
	if v.Type != "logout+jwt" {
		return nil, fmt.Errorf("typ %q is not logout+jwt", v.Type)
	}
	return v.Payload, nil
}

// sessionMaxAge is how long a console session can last: as long as its
// access token, since it asks for no refresh token. A session a logout
// ended is over by then anyway, so that is how long the logout is
// remembered.
func (c *Console) sessionMaxAge() time.Duration {
	return c.cfg.Tokens.TTL.Access + logoutSkew
}

// endedByLogout reports whether a back-channel logout ended sess: its sid
// (or its subject, for a logout that named no sid) was logged out after
// sess began. A session that began after the logout, in the same second
// or later, is not refused here: Sesame gives a new sign-in a new sid
// anyway, so this can never send a person round a sign-in loop.
func (c *Console) endedByLogout(sess consoleSession) bool {
	if c.ended.empty() {
		return false
	}
	id, ok := idTokenClaims(sess.IDToken)
	if !ok {
		// Not one the console sealed: the token check decides.
		return false
	}
	now := c.now()
	began := time.Unix(id.IssuedAt, 0)
	return (id.SID != "" && c.ended.endedAfter(endedKey{sid: true, value: id.SID}, began, now)) ||
		(id.Subject != "" && c.ended.endedAfter(endedKey{value: id.Subject}, began, now))
}

// idClaims are what endedByLogout reads of a console session's ID token.
type idClaims struct {
	Subject  string `json:"sub"`
	SID      string `json:"sid"`
	IssuedAt int64  `json:"iat"`
}

// idTokenClaims reads the claims of a console session's ID token without
// verifying its signature again: the callback verified it, and it has been
// sealed in the console's cookie since, which nobody but the console can
// write. Verifying it at every request would also refuse every session
// whose key has since been retired.
func idTokenClaims(idToken string) (idClaims, bool) {
	jws, err := jose.ParseSignedCompact(idToken, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return idClaims{}, false
	}
	var c idClaims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		return idClaims{}, false
	}
	return c, true
}

// maxEnded bounds the logouts remembered. Past it the one to be forgotten
// soonest goes first: the check of the token at every request still
// refuses that session.
const maxEnded = 10000

// endedKey names what a logout ended: a sid, or a subject.
type endedKey struct {
	sid   bool
	value string
}

// ended is one remembered logout: when it happened (its token's iat), and
// until when it is remembered.
type ended struct {
	at, until time.Time
}

// endedSessions are the logouts this instance heard, each kept until no
// session it ended can still be presented. The zero value is ready.
type endedSessions struct {
	mu sync.RWMutex
	m  map[endedKey]ended
}

// add remembers a logout of k at at, until until, forgetting what has
// expired by now and, when full, the entry to expire first.
func (e *endedSessions) add(k endedKey, at, until, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[endedKey]ended{}
	}
	for key, v := range e.m {
		if !now.Before(v.until) {
			delete(e.m, key)
		}
	}
	if old, ok := e.m[k]; ok {
		at, until = later(old.at, at), later(old.until, until)
	} else if len(e.m) >= maxEnded {
		var first endedKey
		var firstUntil time.Time
		for key, v := range e.m {
			if firstUntil.IsZero() || v.until.Before(firstUntil) {
				first, firstUntil = key, v.until
			}
		}
		delete(e.m, first)
	}
	e.m[k] = ended{at: at, until: until}
}

// endedAfter reports whether k was logged out after began (in a later
// second: iat counts seconds) and is still remembered at now.
func (e *endedSessions) endedAfter(k endedKey, began, now time.Time) bool {
	e.mu.RLock()
	v, ok := e.m[k]
	e.mu.RUnlock()
	return ok && now.Before(v.until) && began.Unix() < v.at.Unix()
}

// empty reports whether no logout is remembered: then no request pays
// for reading its session's ID token.
func (e *endedSessions) empty() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.m) == 0
}

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
