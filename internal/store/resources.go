package store

import (
	"context"
	"time"
)

// APIResource is an API that apps get JWT access tokens for (R1), named
// by its indicator (RFC 8707), which is the tokens' aud.
type APIResource struct {
	Indicator string
	Name      string
	// Scopes are the permissions the API defines, in the order declared.
	Scopes []string
	// ScopeDescriptions say in words what each of Scopes lets an app do
	// as the person, for the consent page, by scope; only scopes of
	// Scopes (package resource sees to it). A scope without one is shown
	// by its name. Nil for none: an empty map reads back nil.
	ScopeDescriptions map[string]string
	// AccessTokenTTL is how long its tokens live; zero follows the
	// top-level access_token_ttl.
	AccessTokenTTL time.Duration
	// Declared marks a resource the configuration file declares: the file
	// manages it, and the admin API refuses to change it (C4).
	Declared  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Role is a named set of permissions (R1): for each API resource, by
// indicator, the scopes the role allows. Accounts and m2m clients hold
// roles.
type Role struct {
	Name string
	// Permissions maps an indicator to the scopes the role allows on it.
	// Nil for a role with none (the built-in admin role).
	Permissions map[string][]string
	// Declared marks a role the configuration file declares (C4).
	Declared  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// resourceReader holds the lookups of API resources, roles and JWT access
// tokens; Reader embeds it.
type resourceReader interface {
	// APIResources lists every API resource, by indicator.
	APIResources(ctx context.Context) ([]APIResource, error)
	// Roles lists every role with its permissions, by name.
	Roles(ctx context.Context) ([]Role, error)
	// AccountRoles lists the names of the roles an account holds, in
	// name order; none is an empty list, not an error.
	AccountRoles(ctx context.Context, accountID string) ([]string, error)
	// ClientRoles lists the names of the roles a client holds, in name
	// order; none is an empty list, not an error.
	ClientRoles(ctx context.Context, clientID string) ([]string, error)

	// JWTAccessToken reads the record of a JWT access token by its jti;
	// an unknown jti (or one that is not base64url) is ErrNotFound.
	JWTAccessToken(ctx context.Context, jti string) (JWTAccessToken, error)
}

// resourceWriter holds the changes to API resources, roles and their
// holders, and the recording of JWT access tokens; Writer embeds it.
// Every change to resources, roles or who holds them reports a
// ChangeResources to watchers once committed.
type resourceWriter interface {
	// UpsertAPIResource creates the resource or replaces every field but
	// CreatedAt.
	UpsertAPIResource(ctx context.Context, r APIResource) error
	// UpsertRole creates the role or replaces every field but CreatedAt,
	// its permissions included: those r does not list are removed.
	UpsertRole(ctx context.Context, r Role) error
	// DeleteAPIResource removes the resource and every role's permission
	// on it; an unknown indicator is ErrNotFound. The grants that name it
	// keep it: what was granted is history, and a token request for it
	// answers invalid_target from then on (R2).
	DeleteAPIResource(ctx context.Context, indicator string) error
	// DeleteRole removes the role, its permissions, and every account's
	// and client's hold of it, so a role made again under its name is
	// held by nobody; an unknown name is ErrNotFound.
	DeleteRole(ctx context.Context, name string) error
	// SetAccountRoles makes roles the account's roles, replacing those it
	// held. Concurrent calls for one account take turns (Lock).
	SetAccountRoles(ctx context.Context, accountID string, roles []string) error
	// SetClientRoles makes roles the client's roles, replacing those it
	// held. Concurrent calls for one client take turns (Lock).
	SetClientRoles(ctx context.Context, clientID string, roles []string) error

	// CreateJWTAccessToken records a JWT access token Sesame issued; a
	// taken jti is ErrConflict. The record is swept at its ExpiresAt.
	CreateJWTAccessToken(ctx context.Context, t JWTAccessToken) error
	// DeleteJWTAccessToken deletes the record of a JWT access token by its
	// jti, which revokes the token for introspection (R3, RFC 7009). An
	// unknown jti, or one that is not base64url, is not an error: there is
	// nothing to revoke.
	DeleteJWTAccessToken(ctx context.Context, jti string) error
	// UpdateGrantResources replaces the API resources a grant covers
	// (consent to more, R2).
	UpdateGrantResources(ctx context.Context, id string, resources map[string][]string) error
}
