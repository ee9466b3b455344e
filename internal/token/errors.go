package token

import (
	"errors"
	"slices"
)

// Kinds of refusal. Package oidc maps each to its OAuth error code.
var (
	// ErrInvalidGrant: the code or refresh token is unknown, expired, used,
	// revoked, bound to another client or redirect URI, or its grant is gone.
	ErrInvalidGrant = errors.New("invalid_grant")
	// ErrInvalidScope: a refresh asked for more than was granted (spec R2).
	ErrInvalidScope = errors.New("invalid_scope")
	// ErrInvalidTarget: the resource asked for is malformed, names no
	// registered API, or is not one the grant covers (RFC 8707 §2, R2,
	// spec RI1, RI2).
	ErrInvalidTarget = errors.New("invalid_target")
	// ErrInvalidToken: an access token presented to a resource is not
	// active (RFC 6750 §3.1).
	ErrInvalidToken = errors.New("invalid_token")
	// ErrNotOwner: a client presented another client's token for
	// revocation (RFC 7009 §2.1).
	ErrNotOwner = errors.New("token belongs to another client")
)

// Denied is a refusal whose Detail is safe to show the client as
// error_description; Kind is one of the errors above.
type Denied struct {
	Kind   error
	Detail string
}

// Error is the kind of denial and its detail.
func (d *Denied) Error() string { return d.Kind.Error() + ": " + d.Detail }

// Unwrap lets errors.Is see the Kind.
func (d *Denied) Unwrap() error { return d.Kind }

func deny(kind error, detail string) error { return &Denied{Kind: kind, Detail: detail} }

// requireScopes refuses with invalid_scope the first requested scope that
// allowed lacks (spec R2); why completes the error_description ("scope x
// why").
func requireScopes(requested, allowed []string, why string) error {
	for _, sc := range requested {
		if !slices.Contains(allowed, sc) {
			return deny(ErrInvalidScope, "scope "+sc+" "+why)
		}
	}
	return nil
}
