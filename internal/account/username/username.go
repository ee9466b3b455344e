// Package username gives usernames their one canonical form (design A1):
// the PRECIS UsernameCaseMapped profile of RFC 8265, so that `Alice`,
// `alice` and the full-width `ａｌｉｃｅ` are one account and no twin can be
// created beside it. The canonical form is what the store keeps and what
// every lookup compares.
//
// It is a leaf package, so that the store's migrations can apply the same
// rule as the domain without importing it. It does not look accounts up
// (package account) or store them (package store).
package username

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// MaxLen is the longest canonical username, in bytes. RFC 8265 leaves the
// bound to the application; 256 bytes holds any email address a person
// types, and keeps throttle keys and events short.
const MaxLen = 256

// ErrInvalid is wrapped by every *Error.
var ErrInvalid = errors.New("invalid username")

// Error says why a username cannot be used; it wraps ErrInvalid. Reason
// is written for the person or operator who chose the name.
type Error struct {
	Username string
	Reason   string
}

// Error names the username and the reason.
func (e *Error) Error() string { return fmt.Sprintf("%v %q: %s", ErrInvalid, e.Username, e.Reason) }

// Unwrap lets errors.Is see ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// Canonical returns the canonical form of s under RFC 8265's
// UsernameCaseMapped profile: full-width characters narrowed, lower case,
// NFC. It returns an *Error for what the profile refuses (spaces,
// controls, symbols outside ASCII such as emoji, a mixed-direction
// string) and for an empty or overlong name.
func Canonical(s string) (string, error) {
	switch {
	case s == "":
		return "", &Error{Username: s, Reason: "it is empty"}
	case !utf8.ValidString(s):
		return "", &Error{Username: s, Reason: "it is not valid UTF-8"}
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "", &Error{Username: s, Reason: "it holds a space (RFC 8265 usernames have none)"}
	}
	c, err := precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "", &Error{Username: s, Reason: "it holds a character RFC 8265 usernames may not have " +
			"(letters, digits and ASCII punctuation are allowed; spaces, controls and symbols such as emoji are not)"}
	}
	if c == "" {
		return "", &Error{Username: s, Reason: "it is empty"}
	}
	if len(c) > MaxLen {
		return "", &Error{Username: s, Reason: fmt.Sprintf("it is longer than %d bytes", MaxLen)}
	}
	return c, nil
}
