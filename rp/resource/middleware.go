package resource

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// Require returns middleware that lets a request through to next only
// with a valid access token for this API that grants every one of scopes
// (none: any valid token). next finds the token's claims with
// ClaimsFrom(r.Context()). Refusals are answered per RFC 6750 §3.
func (v *Verifier) Require(scopes ...string) func(http.Handler) http.Handler {
	scopes = append([]string(nil), scopes...)
	need := strings.Join(scopes, " ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, rerr := bearer(r)
			if rerr != nil {
				rerr.Scope = need
				v.refuse(w, r, rerr)
				return
			}
			claims, err := v.Verify(r.Context(), token)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					v.unavailable(w)
					return
				}
				e.Scope = need
				v.refuse(w, r, e)
				return
			}
			for _, s := range scopes {
				if !claims.HasScope(s) {
					v.refuse(w, r, &Error{Code: CodeInsufficientScope, Status: http.StatusForbidden, Scope: need,
						Description: "the token does not grant " + s})
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(withClaims(r.Context(), claims)))
		})
	}
}

// bearer reads the token from the Authorization header (RFC 6750 §2.1),
// the one way this package accepts: a request without one is refused
// without an error code (§3.1); one with the token elsewhere (§2.2, §2.3),
// or with two headers, is invalid_request.
func bearer(r *http.Request) (string, *Error) {
	if r.URL.Query().Has("access_token") {
		return "", invalidRequest("send the access token in the Authorization header, not in the URL")
	}
	headers := r.Header.Values("Authorization")
	switch {
	case len(headers) == 0:
		return "", &Error{Status: http.StatusUnauthorized, Description: "this API needs a bearer access token"}
	case len(headers) > 1:
		return "", invalidRequest("the request has more than one Authorization header")
	}
	scheme, token, _ := strings.Cut(headers[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		// Another scheme (Basic...) is no bearer credential at all (§3.1).
		return "", &Error{Status: http.StatusUnauthorized, Description: "this API needs a bearer access token"}
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || !b64token(token) {
		return "", invalidRequest("the Authorization header does not hold a bearer token")
	}
	return token, nil
}

// b64token reports whether s has the syntax of RFC 6750 §2.1's b64token.
func b64token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for _, c := range body {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// refuse answers e: WWW-Authenticate as RFC 6750 §3 words it, and a JSON
// body with the same error and description for clients that read bodies.
func (v *Verifier) refuse(w http.ResponseWriter, r *http.Request, e *Error) {
	v.log(r.Context(), slog.LevelDebug, "request refused", "code", e.Code, "description", e.Description, "cause", e.Err)
	challenge := `Bearer realm="` + quoted(v.cfg.Realm) + `"`
	if e.Code != "" {
		challenge += `, error="` + e.Code + `", error_description="` + quoted(e.Description) + `"`
	}
	if e.Scope != "" {
		challenge += `, scope="` + quoted(e.Scope) + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	body := struct {
		Error       string `json:"error,omitempty"`
		Description string `json:"error_description"`
		Scope       string `json:"scope,omitempty"`
	}{e.Code, e.Description, e.Scope}
	writeJSON(w, e.Status, body)
}

// unavailable answers a token that cannot be checked now.
func (v *Verifier) unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable",
		"error_description": "the access token cannot be checked now; try again shortly"})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// quoted makes s safe inside a quoted-string of WWW-Authenticate: RFC
// 6750 §3 allows %x20-21 / %x23-5B / %x5D-7E in error_description and
// scope, so '"', '\' and anything outside printable ASCII become a space.
func quoted(s string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return ' '
		}
		return c
	}, s)
}
