package oidc

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// Error is a protocol error: the code and description the client sees and
// the HTTP status it comes with. Internal detail goes to the log, never
// here.
type Error struct {
	Code        string
	Description string
	Status      int
	// RetryAfter, when set, is sent as the Retry-After header (429 and
	// 503 answers of throttling and admission, A3, A4).
	RetryAfter time.Duration
}

// Error is the code and its description.
func (e *Error) Error() string { return e.Code + ": " + e.Description }

// OAuth and OpenID error codes used by Sesame.
const (
	CodeInvalidRequest          = "invalid_request"
	CodeInvalidClient           = "invalid_client"
	CodeInvalidGrant            = "invalid_grant"
	CodeInvalidScope            = "invalid_scope"
	CodeInvalidTarget           = "invalid_target"
	CodeUnauthorizedClient      = "unauthorized_client"
	CodeUnsupportedGrantType    = "unsupported_grant_type"
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeAccessDenied            = "access_denied"
	CodeServerError             = "server_error"
	CodeTemporarilyUnavailable  = "temporarily_unavailable"
	CodeLoginRequired           = "login_required"
	CodeConsentRequired         = "consent_required"
	CodeInteractionRequired     = "interaction_required"
	CodeRequestNotSupported     = "request_not_supported"
	CodeRequestURINotSupported  = "request_uri_not_supported"
	CodeInvalidToken            = "invalid_token"
	CodeInsufficientScope       = "insufficient_scope"
)

func invalidRequest(desc string) *Error {
	return &Error{Code: CodeInvalidRequest, Description: desc, Status: http.StatusBadRequest}
}

func invalidClient(desc string) *Error {
	return &Error{Code: CodeInvalidClient, Description: desc, Status: http.StatusUnauthorized}
}

var errServer = &Error{Code: CodeServerError, Description: "the server could not complete the request", Status: http.StatusInternalServerError}

// errUnavailable is the database out of reach: RFC 6749 §4.1.2.1's
// temporarily_unavailable, with 503 so clients and load balancers retry.
var errUnavailable = &Error{Code: CodeTemporarilyUnavailable, Description: "the server is temporarily unavailable; try again shortly", Status: http.StatusServiceUnavailable}

// busy is a hashing pool's refusal (A4): 503 temporarily_unavailable with
// the pool's Retry-After; nothing was evaluated.
func busy(b *secret.BusyError) *Error {
	return &Error{Code: CodeTemporarilyUnavailable, Description: "too many requests at once; try again shortly",
		Status: http.StatusServiceUnavailable, RetryAfter: b.RetryAfter}
}

// fromDomain maps a domain error to its protocol error. Errors the domain
// does not classify (the database failing) become server_error; the caller
// logs them.
func fromDomain(err error) *Error {
	var b *secret.BusyError
	if errors.As(err, &b) {
		return busy(b)
	}
	if errors.Is(err, client.ErrWrongSecret) {
		return invalidClient("client authentication failed")
	}
	var d *token.Denied
	if errors.As(err, &d) {
		switch {
		case errors.Is(d.Kind, token.ErrInvalidGrant):
			return &Error{Code: CodeInvalidGrant, Description: d.Detail, Status: http.StatusBadRequest}
		case errors.Is(d.Kind, token.ErrInvalidScope):
			return &Error{Code: CodeInvalidScope, Description: d.Detail, Status: http.StatusBadRequest}
		case errors.Is(d.Kind, token.ErrInvalidTarget):
			return &Error{Code: CodeInvalidTarget, Description: d.Detail, Status: http.StatusBadRequest}
		case errors.Is(d.Kind, token.ErrInvalidToken):
			return &Error{Code: CodeInvalidToken, Description: d.Detail, Status: http.StatusUnauthorized}
		case errors.Is(d.Kind, token.ErrNotOwner):
			return &Error{Code: CodeUnauthorizedClient, Description: d.Detail, Status: http.StatusBadRequest}
		}
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	if errors.Is(err, store.ErrUnavailable) {
		return errUnavailable
	}
	return errServer
}

// failJSON answers a back-channel request that the domain refused or
// could not serve, logging what was not the client's fault.
func (p *Provider) failJSON(w http.ResponseWriter, r *http.Request, what string, err error) {
	e := fromDomain(err)
	if e == errServer || e == errUnavailable {
		p.logError(r, what, err)
	}
	writeJSONError(w, e)
}

// writeJSONError answers a back-channel request (RFC 6749 §5.2, spec T2).
func writeJSONError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if e.Status == http.StatusUnauthorized && e.Code == CodeInvalidClient {
		h.Set("WWW-Authenticate", `Basic realm="sesame"`)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", retryAfter(e.RetryAfter))
	}
	writeJSON(w, e.Status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.Code, e.Description})
}

// retryAfter is a Retry-After value in whole seconds, rounded up so a
// client that waits it finds the room it was told of (RFC 9110 §10.2.3).
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// writeJSON sends v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// redirectError sends the error to the client's verified redirect URI
// (Core §3.1.2.6, spec A5), with state and iss (RFC 9207, spec D9).
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state string, e *Error) {
	q := url.Values{"error": {e.Code}, "iss": {p.Issuer}}
	if e.Description != "" {
		q.Set("error_description", e.Description)
	}
	if state != "" {
		q.Set("state", state)
	}
	redirectTo(w, r, appendQuery(redirectURI, q))
}

// redirectTo answers with 303 See Other, so that a redirect after a POST
// carrying credentials is never replayed as a POST (spec A17).
func redirectTo(w http.ResponseWriter, r *http.Request, target string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// appendQuery adds q to u's query, keeping what u already has.
func appendQuery(u string, q url.Values) string {
	parsed, err := url.Parse(u)
	if err != nil { // registered URIs were validated; this cannot happen
		return u
	}
	// The registered query is kept byte for byte: re-encoding it could
	// change what the client compares.
	if parsed.RawQuery == "" {
		parsed.RawQuery = q.Encode()
	} else {
		parsed.RawQuery += "&" + q.Encode()
	}
	return parsed.String()
}
