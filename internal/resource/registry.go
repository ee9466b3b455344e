package resource

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// Registry answers what the protocol asks of API resources and roles
// (R1, R2), from memory: every resource and role (a few rows) as one
// snapshot, and the roles of the holders it was recently asked about.
// Both are forgotten on a store.ChangeResources (Forget, ForgetAll), and
// reused at most CacheFor meanwhile.
type Registry struct {
	Store store.Store
	// DefaultAccessTokenTTL is the top-level access_token_ttl, the
	// lifetime of the tokens of a resource that sets none.
	DefaultAccessTokenTTL time.Duration
	// CacheFor is how long what was read is reused (default one second).
	// Where the store reports every instance's changes (see
	// store.Store.WatchesOtherProcesses), it can be long: it only bounds
	// the damage of a notification that never came.
	CacheFor time.Duration
	// MaxHolders bounds the holders whose roles are kept (default 1024);
	// past it the cache starts again empty, so no flood of requests grows
	// it.
	MaxHolders int
	// Now is the clock of what Seed and SetRoles write (time.Now when
	// nil).
	Now func() time.Time

	mu sync.Mutex
	// gen counts forgets: a read that began before one is not kept, so a
	// change committed while it ran is never covered by its old copy.
	gen     uint64
	snap    *snapshot
	holders map[string]held
}

// snapshot is every resource and role, as read at one time.
type snapshot struct {
	apis    map[string]API
	roles   map[string]Role
	expires time.Time
}

// held is one holder's roles, as read at one time.
type held struct {
	roles   []string
	expires time.Time
}

// Holder is an account or a client, as a holder of roles (R1).
type Holder struct {
	// key is the holder as store.Change IDs name it.
	key string
}

// Account is the holder that is the account id.
func Account(id string) Holder { return Holder{key: store.ResourceHolderAccount + id} }

// Client is the holder that is the client id.
func Client(id string) Holder { return Holder{key: store.ResourceHolderClient + id} }

// String names the holder, as the store's changes name it.
func (h Holder) String() string { return h.key }

// id is the holder's account or client id.
func (h Holder) id() (id string, account bool) {
	if id, ok := strings.CutPrefix(h.key, store.ResourceHolderAccount); ok {
		return id, true
	}
	return strings.TrimPrefix(h.key, store.ResourceHolderClient), false
}

func (r *Registry) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Registry) ttl() time.Duration {
	if r.CacheFor <= 0 {
		return time.Second
	}
	return r.CacheFor
}

// Forget drops what a store.ChangeResources with this ID makes stale: one
// holder's roles when it names one, everything when it is empty.
func (r *Registry) Forget(changeID string) {
	if changeID == "" {
		r.ForgetAll()
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	delete(r.holders, changeID)
}

// ForgetAll drops everything, after resources or roles changed or
// changes may have been missed.
func (r *Registry) ForgetAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	r.snap = nil
	clear(r.holders)
}

// load reads every resource and role, or returns the snapshot read less
// than CacheFor ago.
func (r *Registry) load(ctx context.Context) (*snapshot, error) {
	now := time.Now() // the cache runs on the wall clock, whatever the domain's clock
	r.mu.Lock()
	s, gen := r.snap, r.gen
	r.mu.Unlock()
	if s != nil && now.Before(s.expires) {
		return s, nil
	}
	apis, err := r.Store.APIResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("read API resources: %w", err)
	}
	roles, err := r.Store.Roles(ctx)
	if err != nil {
		return nil, fmt.Errorf("read roles: %w", err)
	}
	s = &snapshot{apis: make(map[string]API, len(apis)), roles: make(map[string]Role, len(roles)), expires: now.Add(r.ttl())}
	for _, a := range apis {
		s.apis[a.Indicator] = apiOf(a, r.DefaultAccessTokenTTL)
	}
	for _, role := range roles {
		s.roles[role.Name] = Role{Name: role.Name, Permissions: role.Permissions}
	}
	r.mu.Lock()
	if r.gen == gen {
		r.snap = s
	}
	r.mu.Unlock()
	return s, nil
}

// API returns the API resource indicator names (R1). An indicator that
// is malformed or names no registered resource is an error wrapping
// ErrUnknown, which the protocol answers with invalid_target (R2).
func (r *Registry) API(ctx context.Context, indicator string) (API, error) {
	if err := ValidIndicator(indicator); err != nil {
		return API{}, fmt.Errorf("%w: %w", ErrUnknown, err)
	}
	s, err := r.load(ctx)
	if err != nil {
		return API{}, err
	}
	return s.api(indicator)
}

// api is the resource indicator names in this snapshot (ErrUnknown when
// none).
func (s *snapshot) api(indicator string) (API, error) {
	a, ok := s.apis[indicator]
	if !ok {
		return API{}, fmt.Errorf("%w: %s", ErrUnknown, indicator)
	}
	return a, nil
}

// APIs lists every API resource, by indicator.
func (r *Registry) APIs(ctx context.Context) ([]API, error) {
	s, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	list := make([]API, 0, len(s.apis))
	for _, a := range s.apis {
		list = append(list, a)
	}
	slices.SortFunc(list, func(a, b API) int { return strings.Compare(a.Indicator, b.Indicator) })
	return list, nil
}

// Roles lists every role with its permissions, by name; the built-in
// admin role is among them once Seed has run.
func (r *Registry) Roles(ctx context.Context) ([]Role, error) {
	s, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	list := make([]Role, 0, len(s.roles))
	for _, role := range s.roles {
		list = append(list, role)
	}
	slices.SortFunc(list, func(a, b Role) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}

// RolesOf lists the roles h holds, in name order, from a cache of at
// most CacheFor. The caller must not change the list.
func (r *Registry) RolesOf(ctx context.Context, h Holder) ([]string, error) {
	now := time.Now()
	r.mu.Lock()
	hit, ok := r.holders[h.key]
	gen := r.gen
	r.mu.Unlock()
	if ok && now.Before(hit.expires) {
		return hit.roles, nil
	}
	roles, err := heldRoles(ctx, r.Store, h)
	if err != nil {
		return nil, fmt.Errorf("roles of %s: %w", h, err)
	}
	limit := r.MaxHolders
	if limit <= 0 {
		limit = 1024
	}
	r.mu.Lock()
	if r.gen == gen {
		if r.holders == nil || len(r.holders) >= limit {
			r.holders = map[string]held{}
		}
		r.holders[h.key] = held{roles: roles, expires: now.Add(r.ttl())}
	}
	r.mu.Unlock()
	return roles, nil
}

// HasRole reports whether h holds role (C5: RoleAdmin opens the admin
// API).
func (r *Registry) HasRole(ctx context.Context, h Holder, role string) (bool, error) {
	roles, err := r.RolesOf(ctx, h)
	if err != nil {
		return false, err
	}
	return slices.Contains(roles, role), nil
}

// ClientHasRole reports whether the client clientID holds role; it is
// HasRole for a client, in the form client.HoldsAdmin asks.
func (r *Registry) ClientHasRole(ctx context.Context, clientID, role string) (bool, error) {
	return r.HasRole(ctx, Client(clientID), role)
}

// PermittedForAccount returns the scopes of the API resource indicator
// that the account's roles permit (R2): the union over its roles, in the
// order the API defines them, and only scopes the API still defines. An
// unknown indicator is an error wrapping ErrUnknown.
func (r *Registry) PermittedForAccount(ctx context.Context, accountID, indicator string) ([]string, error) {
	_, out, err := r.Permitted(ctx, Account(accountID), indicator)
	return out, err
}

// PermittedForClient returns the scopes of the API resource indicator
// that the m2m client's roles permit, as PermittedForAccount does for an
// account (client_credentials with resource, R3).
func (r *Registry) PermittedForClient(ctx context.Context, clientID, indicator string) ([]string, error) {
	_, out, err := r.Permitted(ctx, Client(clientID), indicator)
	return out, err
}

// Permitted returns the API resource indicator names and the scopes of it
// that h's roles permit, as PermittedForAccount does, read from one
// snapshot: a caller that needs both looks the API up once.
func (r *Registry) Permitted(ctx context.Context, h Holder, indicator string) (API, []string, error) {
	if err := ValidIndicator(indicator); err != nil {
		return API{}, nil, fmt.Errorf("%w: %w", ErrUnknown, err)
	}
	s, err := r.load(ctx)
	if err != nil {
		return API{}, nil, err
	}
	api, err := s.api(indicator)
	if err != nil {
		return API{}, nil, err
	}
	roles, err := r.RolesOf(ctx, h)
	if err != nil {
		return API{}, nil, err
	}
	var out []string
	for _, scope := range api.Scopes {
		for _, name := range roles {
			if slices.Contains(s.roles[name].Permissions[indicator], scope) {
				out = append(out, scope)
				break
			}
		}
	}
	return api, out, nil
}
