package sql

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// API resources, roles and their holders (design R1). Resources and roles
// are few and read whole (each instance keeps them in memory, package
// resource); a holder's roles are a range of their table's key.

const apiResourceCols = `indicator, name, scopes, access_token_ttl, declared, created_at, updated_at, scope_descriptions`

const (
	qAPIResources      = `SELECT ` + apiResourceCols + ` FROM api_resources ORDER BY indicator`
	qUpsertAPIResource = `
		INSERT INTO api_resources (` + apiResourceCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (indicator) DO UPDATE SET
			name = excluded.name,
			scopes = excluded.scopes,
			scope_descriptions = excluded.scope_descriptions,
			access_token_ttl = excluded.access_token_ttl,
			declared = excluded.declared,
			updated_at = excluded.updated_at`

	// A role without permissions has one row, of empty indicator (no
	// real indicator is empty).
	qRoles = `
		SELECT r.name, r.declared, r.created_at, r.updated_at, coalesce(p.indicator, ''), coalesce(p.scopes, '')
		FROM roles r LEFT JOIN role_permissions p ON p.role = r.name
		ORDER BY r.name, p.indicator`
	// The upsert takes the role's row lock on PostgreSQL, so concurrent
	// upserts of one role replace its permissions one after the other.
	qUpsertRole = `
		INSERT INTO roles (name, declared, created_at, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET declared = excluded.declared, updated_at = excluded.updated_at`
	qDeleteRolePermissions = `DELETE FROM role_permissions WHERE role = $1`
	qAddRolePermission     = `INSERT INTO role_permissions (role, indicator, scopes) VALUES ($1, $2, $3)`

	qDeleteAPIResource   = `DELETE FROM api_resources WHERE indicator = $1`
	qDeletePermissionsOn = `DELETE FROM role_permissions WHERE indicator = $1`
	qDeleteRole          = `DELETE FROM roles WHERE name = $1`
	// A role's holders are found by the role (account_roles_by_role,
	// client_roles_by_role), not by reading every holder's row.
	qDeleteRoleFromAccounts = `DELETE FROM account_roles WHERE role = $1`
	qDeleteRoleFromClients  = `DELETE FROM client_roles WHERE role = $1`

	qAccountRoles       = `SELECT role FROM account_roles WHERE account_id = $1 ORDER BY role`
	qDeleteAccountRoles = `DELETE FROM account_roles WHERE account_id = $1`
	qAddAccountRole     = `INSERT INTO account_roles (account_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	qClientRoles        = `SELECT role FROM client_roles WHERE client_id = $1 ORDER BY role`
	qDeleteClientRoles  = `DELETE FROM client_roles WHERE client_id = $1`
	qAddClientRole      = `INSERT INTO client_roles (client_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING`
)

func scanAPIResource(row scanner) (store.APIResource, error) {
	var r store.APIResource
	var ttl int64
	err := row.Scan(&r.Indicator, &r.Name, wordsDest{&r.Scopes}, &ttl, &r.Declared, timeDest{&r.CreatedAt}, timeDest{&r.UpdatedAt},
		jsonDest{&r.ScopeDescriptions})
	r.AccessTokenTTL = time.Duration(ttl)
	// None reads as nil, whether it went in nil or empty, as lists do.
	if len(r.ScopeDescriptions) == 0 {
		r.ScopeDescriptions = nil
	}
	return r, err
}

// APIResources lists every API resource, by indicator.
func (r reader) APIResources(ctx context.Context) ([]store.APIResource, error) {
	list, err := queryList(ctx, r.q, scanAPIResource, qAPIResources)
	if err != nil {
		return nil, fmt.Errorf("list API resources: %w", err)
	}
	return list, nil
}

// UpsertAPIResource creates the resource or replaces every field but
// CreatedAt.
func (t *tx) UpsertAPIResource(ctx context.Context, a store.APIResource) error {
	if a.Indicator == "" {
		return errors.New("upsert API resource: empty indicator")
	}
	_, err := t.q.exec(ctx, qUpsertAPIResource, a.Indicator, a.Name, wordsArg(a.Scopes), int64(a.AccessTokenTTL), a.Declared,
		timeArg(a.CreatedAt), timeArg(a.UpdatedAt), textMapArg(a.ScopeDescriptions))
	if err != nil {
		return fmt.Errorf("upsert API resource %s: %w", a.Indicator, dbErr(err))
	}
	return t.changed(ctx, store.Change{Kind: store.ChangeResources})
}

// permissionRow is one row of qRoles: a role, and one of its permissions
// (none when indicator is empty).
type permissionRow struct {
	role      store.Role
	indicator string
	scopes    []string
}

func scanPermissionRow(row scanner) (permissionRow, error) {
	var p permissionRow
	err := row.Scan(&p.role.Name, &p.role.Declared, timeDest{&p.role.CreatedAt}, timeDest{&p.role.UpdatedAt},
		&p.indicator, wordsDest{&p.scopes})
	return p, err
}

// Roles lists every role with its permissions, by name.
func (r reader) Roles(ctx context.Context) ([]store.Role, error) {
	rows, err := queryList(ctx, r.q, scanPermissionRow, qRoles)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	var list []store.Role
	for _, p := range rows {
		if n := len(list); n == 0 || list[n-1].Name != p.role.Name {
			list = append(list, p.role)
		}
		if p.indicator == "" {
			continue
		}
		last := &list[len(list)-1]
		if last.Permissions == nil {
			last.Permissions = map[string][]string{}
		}
		last.Permissions[p.indicator] = p.scopes
	}
	return list, nil
}

// UpsertRole creates the role or replaces every field but CreatedAt, its
// permissions included.
func (t *tx) UpsertRole(ctx context.Context, role store.Role) error {
	if role.Name == "" {
		return errors.New("upsert role: empty name")
	}
	if _, err := t.q.exec(ctx, qUpsertRole, role.Name, role.Declared, timeArg(role.CreatedAt), timeArg(role.UpdatedAt)); err != nil {
		return fmt.Errorf("upsert role %s: %w", role.Name, dbErr(err))
	}
	if _, err := exec(ctx, t.q, qDeleteRolePermissions, role.Name); err != nil {
		return fmt.Errorf("replace permissions of role %s: %w", role.Name, err)
	}
	for _, ind := range slices.Sorted(maps.Keys(role.Permissions)) {
		if ind == "" {
			return fmt.Errorf("role %s: a permission names no resource", role.Name)
		}
		if _, err := exec(ctx, t.q, qAddRolePermission, role.Name, ind, wordsArg(role.Permissions[ind])); err != nil {
			return fmt.Errorf("role %s: permission on %s: %w", role.Name, ind, err)
		}
	}
	return t.changed(ctx, store.Change{Kind: store.ChangeResources})
}

// DeleteAPIResource removes the resource and every role's permission on
// it; grants keep what they recorded.
func (t *tx) DeleteAPIResource(ctx context.Context, indicator string) error {
	if err := execOne(ctx, t.q, qDeleteAPIResource, indicator); err != nil {
		return fmt.Errorf("delete API resource %s: %w", indicator, err)
	}
	if _, err := exec(ctx, t.q, qDeletePermissionsOn, indicator); err != nil {
		return fmt.Errorf("delete the permissions on API resource %s: %w", indicator, err)
	}
	return t.changed(ctx, store.Change{Kind: store.ChangeResources})
}

// DeleteRole removes the role, its permissions and every hold of it. The
// change names no holder: every instance forgets every holder's roles.
func (t *tx) DeleteRole(ctx context.Context, name string) error {
	if err := execOne(ctx, t.q, qDeleteRole, name); err != nil {
		return fmt.Errorf("delete role %s: %w", name, err)
	}
	// Its permissions went with it (their foreign key cascades); its
	// holders' rows name it by no key, so they go here.
	for _, q := range []string{qDeleteRoleFromAccounts, qDeleteRoleFromClients} {
		if _, err := exec(ctx, t.q, q, name); err != nil {
			return fmt.Errorf("delete role %s: %w", name, err)
		}
	}
	return t.changed(ctx, store.Change{Kind: store.ChangeResources})
}

// holderRoles are the statements of one kind of role holder.
type holderRoles struct {
	kind, list, clear, add string
}

var (
	accountHolder = holderRoles{kind: store.ResourceHolderAccount, list: qAccountRoles, clear: qDeleteAccountRoles, add: qAddAccountRole}
	clientHolder  = holderRoles{kind: store.ResourceHolderClient, list: qClientRoles, clear: qDeleteClientRoles, add: qAddClientRole}
)

func scanRoleName(row scanner) (string, error) {
	var name string
	err := row.Scan(&name)
	return name, err
}

// roles lists the roles of holder id.
func (h holderRoles) roles(ctx context.Context, q querier, id string) ([]string, error) {
	list, err := queryList(ctx, q, scanRoleName, h.list, id)
	if err != nil {
		return nil, fmt.Errorf("roles of %s%s: %w", h.kind, id, dbErr(err))
	}
	if list == nil {
		list = []string{}
	}
	return list, nil
}

// set replaces the roles of holder id, under the holder's lock: on
// PostgreSQL two concurrent replacements would otherwise each delete
// what was committed before both and insert their own, leaving the union.
func (h holderRoles) set(ctx context.Context, t *tx, id string, roles []string) error {
	if id == "" {
		return fmt.Errorf("set roles: empty %sid", h.kind)
	}
	if err := t.Lock(ctx, "roles "+h.kind+id); err != nil {
		return err
	}
	if _, err := exec(ctx, t.q, h.clear, id); err != nil {
		return fmt.Errorf("set roles of %s%s: %w", h.kind, id, err)
	}
	for _, role := range roles {
		if role == "" {
			return fmt.Errorf("set roles of %s%s: an empty role name", h.kind, id)
		}
		if _, err := exec(ctx, t.q, h.add, id, role); err != nil {
			return fmt.Errorf("set roles of %s%s: %s: %w", h.kind, id, role, err)
		}
	}
	return t.changed(ctx, store.Change{Kind: store.ChangeResources, ID: h.kind + id})
}

// AccountRoles lists the roles an account holds, in name order.
func (r reader) AccountRoles(ctx context.Context, accountID string) ([]string, error) {
	return accountHolder.roles(ctx, r.q, accountID)
}

// ClientRoles lists the roles a client holds, in name order.
func (r reader) ClientRoles(ctx context.Context, clientID string) ([]string, error) {
	return clientHolder.roles(ctx, r.q, clientID)
}

// SetAccountRoles replaces the roles an account holds.
func (t *tx) SetAccountRoles(ctx context.Context, accountID string, roles []string) error {
	return accountHolder.set(ctx, t, accountID, roles)
}

// SetClientRoles replaces the roles a client holds.
func (t *tx) SetClientRoles(ctx context.Context, clientID string, roles []string) error {
	return clientHolder.set(ctx, t, clientID, roles)
}

// JWT access tokens (R3): a record by jti, for introspection to find the
// token's grant.

const jwtAccessTokenCols = `grant_id, client_id, subject, resource, created_at, expires_at`

// A JWT access token's jti leads with its expiry, as an opaque token's
// value does (store.SplitJTI): its record is keyed by (expires_at, jti),
// written at the table's end and swept from its start. Records of older
// jtis (16 bytes) are found through the partial index only they enter.
var (
	qJWTAccessToken       = keyedJTI(`SELECT ` + jwtAccessTokenCols + ` FROM jwt_access_tokens WHERE {key}`)
	qDeleteJWTAccessToken = keyedJTI(`DELETE FROM jwt_access_tokens WHERE {key}`)
	qCreateJWTAccessToken = `INSERT INTO jwt_access_tokens (jti, ` + jwtAccessTokenCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT DO NOTHING`
)

func keyedJTI(query string) byKey {
	return keyedBy(query, "", "jti", store.JTILen, 1, func(jti []byte) (time.Time, []byte, bool) {
		exp, ok := store.SplitJTI(jti)
		return exp, jti, ok
	})
}

// JWTAccessToken reads the record of a JWT access token by its jti.
func (r reader) JWTAccessToken(ctx context.Context, jti string) (store.JWTAccessToken, error) {
	key, ok := jtiKey(jti)
	if !ok {
		return store.JWTAccessToken{}, fmt.Errorf("read JWT access token: a jti that is not base64url: %w", store.ErrNotFound)
	}
	t := store.JWTAccessToken{JTI: jti}
	q, args := qJWTAccessToken.with(key)
	err := r.q.queryRow(ctx, q, args...).Scan(&t.GrantID, &t.ClientID, &t.Subject, &t.Resource,
		timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt})
	if err != nil {
		return store.JWTAccessToken{}, fmt.Errorf("read JWT access token: %w", dbErr(err))
	}
	return t, nil
}

// CreateJWTAccessToken records a JWT access token; a taken jti is
// store.ErrConflict, and one that is not base64url is refused.
func (t *tx) CreateJWTAccessToken(ctx context.Context, a store.JWTAccessToken) error {
	key, ok := jtiKey(a.JTI)
	if !ok {
		return fmt.Errorf("create JWT access token: jti %q is not unpadded base64url", a.JTI)
	}
	exp, jti, err := qJWTAccessToken.keyColumns(key, a.ExpiresAt)
	if err == nil {
		err = insertNew(ctx, t.q, qCreateJWTAccessToken, jti, a.GrantID, a.ClientID, a.Subject, a.Resource,
			timeArg(a.CreatedAt), exp)
	}
	if err != nil {
		return fmt.Errorf("create JWT access token for %s: %w", a.Resource, err)
	}
	return nil
}

// DeleteJWTAccessToken deletes the record of a JWT access token; an
// unknown or malformed jti deletes nothing.
func (t *tx) DeleteJWTAccessToken(ctx context.Context, jti string) error {
	key, ok := jtiKey(jti)
	if !ok {
		return nil
	}
	q, args := qDeleteJWTAccessToken.with(key)
	if _, err := exec(ctx, t.q, q, args...); err != nil {
		return fmt.Errorf("delete JWT access token: %w", err)
	}
	return nil
}
