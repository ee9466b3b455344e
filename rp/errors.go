package rp

import (
	"errors"
	"fmt"
)

// ErrNoSession means the request has no signed-in app session.
var ErrNoSession = errors.New("rp: no signed-in session")

// ErrSignedOut means the session ended (signed out here, or by back-channel
// logout) while the call was under way: no credentials are brought back.
var ErrSignedOut = errors.New("rp: session signed out")

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
