package resource

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/sesame-id/sesame/internal/store"
)

// RoleAdmin is the built-in role that opens the admin API (C5): held by
// an account, to its own access tokens; held by an m2m client, to its
// client_credentials tokens. It is never declared with permissions.
const RoleAdmin = "admin"

// Errors the registry returns, tested with errors.Is.
var (
	// ErrUnknown means the indicator names no registered API resource,
	// or is no indicator at all: the protocol answers invalid_target
	// (R2, spec RI1).
	ErrUnknown = errors.New("unknown API resource")
	// ErrUnknownRole means a role to be held does not exist.
	ErrUnknownRole = errors.New("unknown role")
	// ErrNotM2M means roles were given to a client that is not a machine:
	// a person's roles come with their account (R1).
	ErrNotM2M = errors.New("only m2m clients hold roles")
)

// API is an API resource (R1): its indicator is the aud of the JWT access
// tokens issued for it.
type API struct {
	Indicator string
	// Name is what the consent page shows; the indicator when none was
	// given.
	Name string
	// Scopes are the permissions the API defines, in the order declared.
	Scopes []string
	// ScopeDescriptions say in words, by scope, what each of Scopes lets
	// an app do as the person, for the consent page; a scope without one
	// is shown by its name. Nil for none. Shared by every caller: read
	// it, never change it.
	ScopeDescriptions map[string]string
	// AccessTokenTTL is its tokens' lifetime, the top-level
	// access_token_ttl when the resource sets none.
	AccessTokenTTL time.Duration
}

// Role is a named set of permissions (R1): for each API resource, by
// indicator, the scopes it allows.
type Role struct {
	Name        string
	Permissions map[string][]string
}

// MaxIndicatorLen bounds an indicator, registered or sent, as a
// redirect_uri is bounded (W2).
const MaxIndicatorLen = 2048

// ValidIndicator reports whether s can name an API resource (RI1, RFC
// 8707 §2): an absolute URI without a fragment, at most MaxIndicatorLen
// bytes, holding no white space or control character (it is compared
// exactly, and stored and written as one word); an http or https one
// names a host. A query is allowed, as the RFC allows it (it SHOULD NOT
// be used).
func ValidIndicator(s string) error {
	switch {
	case s == "":
		return errors.New("the resource indicator is empty")
	case len(s) > MaxIndicatorLen:
		return fmt.Errorf("the resource indicator %.64q... is longer than %d bytes", s, MaxIndicatorLen)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Errorf("the resource indicator %q holds white space or a control character", s)
	case strings.Contains(s, "#"):
		return fmt.Errorf("the resource indicator %q must not have a fragment (RFC 8707 §2)", s)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs():
		return fmt.Errorf("the resource indicator %q is not an absolute URI (RFC 8707 §2)", s)
	case (u.Scheme == "https" || u.Scheme == "http") && u.Host == "":
		return fmt.Errorf("the resource indicator %q names no host", s)
	case u.Opaque == "" && u.Host == "" && u.Path == "":
		return fmt.Errorf("the resource indicator %q has nothing after its scheme", s)
	}
	return nil
}

// ValidScope reports whether s is a scope token (RFC 6749 §3.3): one or
// more printable ASCII characters other than space, `"` and `\`.
func ValidScope(s string) error {
	if s == "" {
		return errors.New("a scope is empty")
	}
	for _, c := range []byte(s) {
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return fmt.Errorf("the scope %q may hold only printable ASCII characters other than space, \" and \\ (RFC 6749 §3.3)", s)
		}
	}
	return nil
}

// ValidRoleName reports whether s can name a role: one word of printable
// characters, at most 128 bytes.
func ValidRoleName(s string) error {
	switch {
	case s == "":
		return errors.New("the role name is empty")
	case len(s) > 128:
		return fmt.Errorf("the role name %.32q... is longer than 128 bytes", s)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
		return fmt.Errorf("the role name %q holds white space or a control character", s)
	}
	return nil
}

// Filter returns the requested scopes that api defines and permitted
// allows, in the order requested and each once (R2): a scope the API does
// not define or the holder's roles do not permit is dropped, not an
// error, as Logto does. A scope of another API, or an OpenID one, is not
// this API's and is dropped here too.
func Filter(requested []string, api API, permitted []string) []string {
	var out []string
	for _, s := range requested {
		if slices.Contains(api.Scopes, s) && slices.Contains(permitted, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// apiOf is the API of a stored resource, its lifetime defaulted to
// defaultTTL.
func apiOf(r store.APIResource, defaultTTL time.Duration) API {
	a := API{Indicator: r.Indicator, Name: r.Name, Scopes: r.Scopes, ScopeDescriptions: r.ScopeDescriptions, AccessTokenTTL: r.AccessTokenTTL}
	if a.Name == "" {
		a.Name = a.Indicator
	}
	if a.AccessTokenTTL <= 0 {
		a.AccessTokenTTL = defaultTTL
	}
	return a
}
