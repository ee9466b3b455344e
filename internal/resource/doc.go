// Package resource holds the rules of API resources and roles (design R1,
// R2): the APIs that apps get JWT access tokens for, each named by its
// indicator (RFC 8707), with its scopes and token lifetime; the roles
// that permit those scopes; and which accounts and m2m clients hold which
// roles. It answers the questions the protocol asks of them: is this
// indicator registered (invalid_target when not), which of the requested
// scopes the holder's roles permit (the others are dropped, as Logto
// does), and whether a holder has a role, the built-in admin role above
// all (C5).
//
// The Registry keeps resources, roles and recent holders' roles in
// memory; a store.ChangeResources from any instance makes it forget them
// (the server hears the changes and calls Forget). Seed applies what the
// configuration file declares at every start (C4). CreateAPI, UpdateAPI,
// DeleteAPI, CreateRole, PutRole, DeleteRole, SetRoles, GiveRole and
// TakeRole are the changes the admin API, the console and the CLI make,
// so all apply one set of rules: what the file
// declares is refused (ErrDeclared), the built-in admin role is never
// given permissions nor removed (ErrBuiltIn), and each change writes its
// audit entry (a Record) in its own transaction.
//
// It does not issue tokens or record the resources on a grant (packages
// token and oidc, R3), read the resource parameter from a request (package
// oidc), or validate the configuration as a whole (package config, which
// uses ValidIndicator and ValidScope).
package resource
