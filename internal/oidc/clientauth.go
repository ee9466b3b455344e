package oidc

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/web"
)

// authenticateClient authenticates the client of a token, revocation or
// introspection request (RFC 6749 §2.3, spec T3): client_secret_basic,
// client_secret_post, or none for a public client sending only client_id.
// Basic credentials plus a client_id in the body that agrees is one method,
// as Logto's SDKs send it (docs/endpoints.md); Basic plus client_secret in the
// body is two, and refused.
func (p *Provider) authenticateClient(r *http.Request, form url.Values) (store.Client, *Error) {
	basicID, basicSecret, hasBasic := r.BasicAuth()
	if hasBasic {
		// RFC 6749 §2.3.1: both parts are form-urlencoded before Basic.
		var err1, err2 error
		basicID, err1 = url.QueryUnescape(basicID)
		basicSecret, err2 = url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			return store.Client{}, invalidClient("malformed Basic credentials")
		}
		if len(basicID) > web.MaxValueLen || len(basicSecret) > web.MaxValueLen { // W2, as in the body
			return store.Client{}, invalidClient("Basic credentials longer than " + strconv.Itoa(web.MaxValueLen) + " bytes")
		}
	}
	bodyID, bodySecret := form.Get("client_id"), form.Get("client_secret")
	switch {
	case hasBasic && bodySecret != "":
		return store.Client{}, invalidRequest("use one client authentication method, not two")
	case hasBasic && bodyID != "" && bodyID != basicID:
		return store.Client{}, invalidClient("client_id does not match the Basic credentials")
	}
	id, secret := bodyID, bodySecret
	if hasBasic {
		id, secret = basicID, basicSecret
	}
	if id == "" {
		return store.Client{}, invalidClient("client authentication is required")
	}
	c, err := p.Clients.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, invalidClient("unknown client")
	}
	if err != nil {
		p.logError(r, "read client", err)
		return store.Client{}, &Error{Code: CodeTemporarilyUnavailable, Description: "try again later", Status: http.StatusServiceUnavailable}
	}
	if client.IsPublic(c) {
		if secret != "" {
			return store.Client{}, invalidClient("a public client has no secret")
		}
		return c, nil
	}
	if secret == "" {
		return store.Client{}, invalidClient("client authentication failed")
	}
	// C3: a client that failed too often from this source waits, refused
	// before its secret is evaluated; its own app elsewhere goes on.
	ip := web.ClientIP(r)
	var throttled *account.ThrottledError
	if err := p.ClientThrottle.Check(c.ID, ip); errors.As(err, &throttled) {
		return store.Client{}, &Error{Code: CodeInvalidClient, Status: http.StatusTooManyRequests, RetryAfter: throttled.RetryAfter,
			Description: "too many failed authentications of this client from this address; try again after Retry-After"}
	}
	// A4: a full hashing pool answers 503 + Retry-After without
	// evaluating the secret.
	if err := p.Clients.VerifySecret(r.Context(), c, secret); err != nil {
		if errors.Is(err, client.ErrWrongSecret) {
			if ferr := p.ClientThrottle.Failed(r.Context(), c.ID, ip); ferr != nil {
				p.logError(r, "count failed client authentication", ferr)
			}
		}
		e := fromDomain(err)
		if e == errServer && r.Context().Err() == nil {
			p.logError(r, "check client secret", err)
		}
		return store.Client{}, e
	}
	return c, nil
}

// clientRequest starts a back-channel request from a client (token,
// revocation, introspection): never cached (spec T1), a POSTed form, and an
// authenticated client. On failure it has answered and returns false.
func (p *Provider) clientRequest(w http.ResponseWriter, r *http.Request) (url.Values, store.Client, bool) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	form, ferr := readForm(r)
	if ferr != nil {
		writeJSONError(w, ferr)
		return nil, store.Client{}, false
	}
	c, cerr := p.authenticateClient(r, form)
	if cerr != nil {
		writeJSONError(w, cerr)
		return nil, store.Client{}, false
	}
	return form, c, true
}

// readForm parses a POSTed form body, refusing repeated parameters (RFC 6749
// §3.2; resource excepted, RFC 8707) and parameters in the query.
func readForm(r *http.Request) (url.Values, *Error) {
	if r.Method != http.MethodPost {
		return nil, invalidRequest("use POST")
	}
	if err := r.ParseForm(); err != nil {
		return nil, invalidRequest("the body must be application/x-www-form-urlencoded")
	}
	if name := repeated(r.PostForm); name != "" {
		return nil, invalidRequest("parameter " + name + " is repeated")
	}
	if l, ok := web.Oversized(r.PostForm, clientLimits); ok {
		return nil, tooLong(l)
	}
	if len(strings.Fields(r.PostForm.Get("scope"))) > web.MaxScopes {
		return nil, invalidRequest("scope has more than " + strconv.Itoa(web.MaxScopes) + " values")
	}
	return r.PostForm, nil
}

// clientLimits bound every parameter the token, revocation and
// introspection endpoints define (W2, spec S9), so none is read, hashed or
// compared past its limit; the 64 KB body cap bounds the rest, never read.
var clientLimits = []web.Limit{
	{Name: "grant_type", Max: web.MaxValueLen},
	{Name: "client_id", Max: web.MaxValueLen},
	{Name: "client_secret", Max: web.MaxValueLen},
	{Name: "code", Max: token.MaxCodeLen},
	{Name: "code_verifier", Max: web.MaxValueLen},
	{Name: "redirect_uri", Max: client.MaxURILen},
	{Name: "refresh_token", Max: web.MaxValueLen},
	{Name: "scope", Max: web.MaxScopeLen},
	{Name: "resource", Max: web.MaxValueLen},
	{Name: "token", Max: web.MaxTokenLen},
	{Name: "token_type_hint", Max: web.MaxValueLen},
}
