package rp

import (
	"errors"
	"fmt"
)

// ErrNoSession means the request has no signed-in app session: send the
// person to SignIn.
var ErrNoSession = errors.New("rp: no signed-in session")

// ErrSignedOut means the session ended (signed out here, or by back-channel
// logout) while the call was under way: no credentials are brought back.
var ErrSignedOut = errors.New("rp: session signed out")

// ErrNoRefreshToken means the session holds no refresh token, so no token
// can be had for an API (AccessTokenFor): Sesame gives one only to a
// sign-in with offline_access (WithOfflineAccess). Send the person to
// SignIn with it.
var ErrNoRefreshToken = errors.New("rp: the session has no refresh token (sign in with offline access)")

// ErrInvalidTarget matches, with errors.Is, an *Error whose code is
// invalid_target (RFC 8707 §2): the API asked for is not registered at
// Sesame, or not part of what this sign-in was granted. Signing in again
// with the resource in Config.Resources (and its scopes in Config.Scopes)
// asks for it.
var ErrInvalidTarget = &Error{Code: "invalid_target"}

// ErrInvalidGrant matches, with errors.Is, an *Error whose code is
// invalid_grant (RFC 6749 §5.2): the refresh token is dead (the person
// signed out of Sesame, or the grant was revoked or expired). Send the
// person to SignIn.
var ErrInvalidGrant = &Error{Code: "invalid_grant"}

// Error is an OAuth error Sesame answered (RFC 6749 §4.1.2.1, §5.2).
type Error struct {
	Code        string
	Description string
}

// Error is the OAuth code and its description, as Sesame sent them.
func (e *Error) Error() string {
	if e.Description == "" {
		return "rp: " + e.Code
	}
	return fmt.Sprintf("rp: %s: %s", e.Code, e.Description)
}

// Is matches e against a code-only *Error (ErrInvalidTarget,
// ErrInvalidGrant): errors.Is(err, rp.ErrInvalidGrant) holds for every
// invalid_grant, whatever its description.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Description == "" && t.Code == e.Code
}

// TransportError means Sesame could not be asked, or did not answer in
// OAuth terms (a network failure, a timeout, a 5xx page): nothing is
// known about the person's sign-in, and trying again later may work.
type TransportError struct {
	// Op names the call: "token request", "userinfo"...
	Op string
	// StatusCode is the HTTP status Sesame answered, 0 when none came.
	StatusCode int
	Err        error
}

// Error says which call failed, and how.
func (e *TransportError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("rp: %s: HTTP %d: %v", e.Op, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("rp: %s: %v", e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// NeedsSignIn reports whether err means the person must sign in again
// before the app can act for them: no session, a session that ended, no
// refresh token, or a dead one (invalid_grant).
func NeedsSignIn(err error) bool {
	return errors.Is(err, ErrNoSession) || errors.Is(err, ErrSignedOut) ||
		errors.Is(err, ErrNoRefreshToken) || errors.Is(err, ErrInvalidGrant)
}
