package resource

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/store"
)

// The rules that refuse a change to API resources and roles (R1, C4,
// C5), beside ErrUnknown, ErrUnknownRole and ErrNotM2M. Each refusal is a
// *Refused, tested with errors.Is.
var (
	// ErrInvalid means a field of the resource or role breaks its rule;
	// Refused.Problems names each.
	ErrInvalid = errors.New("invalid")
	// ErrExists means an API resource with that indicator, or a role
	// with that name (CreateRole), exists already.
	ErrExists = errors.New("exists already")
	// ErrDeclared means the configuration file declares what was to be
	// changed, and manages it (C4). Its text ends every such refusal,
	// whatever the object, by the admin API or the CLI.
	ErrDeclared = errors.New("managed by the configuration file: change it there")
	// ErrBuiltIn means the change would give the built-in admin role
	// permissions, or remove it (C5).
	ErrBuiltIn = errors.New("built-in role")
)

// Refused is a change the rules refuse, said in one line for a person:
// the admin API answers it and the CLI prints it as it is. It unwraps to
// its Kind, so errors.Is(err, ErrDeclared) and the like test it.
type Refused struct {
	// Kind is the rule: ErrInvalid, ErrExists, ErrDeclared, ErrBuiltIn,
	// ErrUnknown, ErrUnknownRole or ErrNotM2M.
	Kind error
	Msg  string
	// Problems are, for ErrInvalid, Validate's: one a line, each
	// starting with the field it names.
	Problems error
}

func (e *Refused) Error() string { return e.Msg }

// Unwrap is the rule that refused.
func (e *Refused) Unwrap() error { return e.Kind }

func refuse(kind error, format string, a ...any) *Refused {
	return &Refused{Kind: kind, Msg: fmt.Sprintf(format, a...)}
}

func invalid(problems error) *Refused {
	return &Refused{Kind: ErrInvalid, Msg: strings.ReplaceAll(problems.Error(), "\n", "; "), Problems: problems}
}

// ManagedByFile is the refusal of a change to what the configuration
// file declares (C4); what names it: "role orders-reader", "client
// app-a".
func ManagedByFile(what string) *Refused {
	return &Refused{Kind: ErrDeclared, Msg: what + " is " + ErrDeclared.Error()}
}

// Record writes the audit entry of a change in the change's own
// transaction, so the log never claims a change that was rolled back
// (package audit). The entry says what was done to what; Record adds who
// did it and from where. A nil Record writes nothing.
type Record func(tx store.Tx, e audit.Entry) error

func (rec Record) write(tx store.Tx, e audit.Entry) error {
	if rec == nil {
		return nil
	}
	return rec(tx, e)
}

// manageLock is taken by every transaction that changes resources, roles
// or who holds a role (Seed included), so that none reads a resource or
// role that another is removing and writes a permission on it or a hold
// of it: a role made again under a removed role's name must find no
// holder.
const manageLock = "resources and roles"

// manage runs fn in one durable transaction (a change may take access
// away) under manageLock. A refusal comes back as it is, other failures
// with what was being done.
func (r *Registry) manage(ctx context.Context, doing string, fn func(tx store.Tx) error) error {
	err := r.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		if err := tx.Lock(ctx, manageLock); err != nil {
			return err
		}
		return fn(tx)
	})
	var refused *Refused
	switch {
	case errors.As(err, &refused):
		return refused
	case err != nil:
		return fmt.Errorf("%s: %w", doing, err)
	}
	return nil
}

// onResource is the audit target of the resource indicator names.
func onResource(indicator string) audit.Target {
	return audit.Target{Kind: audit.TargetResource, ID: indicator}
}

// onRole is the audit target of the role name names.
func onRole(name string) audit.Target { return audit.Target{Kind: audit.TargetRole, ID: name} }

// CreateAPI registers the API resource spec describes (R1), not
// declared: the admin API and the CLI manage it from then on. A spec that
// breaks a rule is ErrInvalid; an indicator already registered is
// ErrExists.
func (r *Registry) CreateAPI(ctx context.Context, spec APISpec, rec Record) (store.APIResource, error) {
	if err := spec.Validate(); err != nil {
		return store.APIResource{}, invalid(err)
	}
	now := r.now()
	saved := store.APIResource{Indicator: spec.Indicator, Name: spec.Name, Scopes: spec.Scopes,
		ScopeDescriptions: storedDescriptions(spec.ScopeDescriptions), AccessTokenTTL: spec.AccessTokenTTL, CreatedAt: now, UpdatedAt: now}
	err := r.manage(ctx, "create API resource "+spec.Indicator, func(tx store.Tx) error {
		apis, err := tx.APIResources(ctx)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(apis, func(a store.APIResource) bool { return a.Indicator == spec.Indicator }) {
			return refuse(ErrExists, "an API resource %s exists already", spec.Indicator)
		}
		if err := tx.UpsertAPIResource(ctx, saved); err != nil {
			return err
		}
		return rec.write(tx, audit.Entry{Action: audit.ResourceCreate, Target: onResource(spec.Indicator),
			Detail: "scopes: " + strings.Join(spec.Scopes, " ")})
	})
	if err != nil {
		return store.APIResource{}, err
	}
	r.ForgetAll()
	return saved, nil
}

// UpdateAPI changes the API resource indicator names as edit says (its
// indicator cannot change) and returns it. An unknown indicator is
// ErrUnknown, one the configuration file declares ErrDeclared (C4), an
// edit that breaks a rule ErrInvalid. An edit that changes nothing writes
// and records nothing.
//
// edit is handed copies of the resource's scopes and scope descriptions,
// and may change them in place. A scope the edit removes takes its
// description with it, unless the edit also changed that description:
// then it is refused (ErrInvalid), since that text was meant for a scope
// the resource no longer has. So an edit of the scopes alone never fails
// for the descriptions it leaves behind.
func (r *Registry) UpdateAPI(ctx context.Context, indicator string, edit func(*APISpec), rec Record) (store.APIResource, error) {
	var saved store.APIResource
	err := r.manage(ctx, "update API resource "+indicator, func(tx store.Tx) error {
		old, err := undeclaredAPI(ctx, tx, indicator)
		if err != nil {
			return err
		}
		spec := APISpec{Indicator: indicator, Name: old.Name, Scopes: slices.Clone(old.Scopes),
			ScopeDescriptions: maps.Clone(old.ScopeDescriptions), AccessTokenTTL: old.AccessTokenTTL}
		edit(&spec)
		spec.Indicator = indicator
		// A copy, so that dropping the descriptions left behind never
		// changes a map the edit put in.
		spec.ScopeDescriptions = storedDescriptions(spec.ScopeDescriptions)
		maps.DeleteFunc(spec.ScopeDescriptions, func(sc, text string) bool {
			was, ok := old.ScopeDescriptions[sc]
			return ok && was == text && !slices.Contains(spec.Scopes, sc)
		})
		if err := spec.Validate(); err != nil {
			return invalid(err)
		}
		saved = old
		saved.Name, saved.Scopes, saved.AccessTokenTTL, saved.UpdatedAt = spec.Name, spec.Scopes, spec.AccessTokenTTL, r.now()
		// Nil when none is left, as the store reads it back.
		saved.ScopeDescriptions = storedDescriptions(spec.ScopeDescriptions)
		fields := changedAPIFields(old, saved)
		if len(fields) == 0 {
			saved = old
			return nil
		}
		if err := tx.UpsertAPIResource(ctx, saved); err != nil {
			return err
		}
		return rec.write(tx, audit.Entry{Action: audit.ResourceUpdate, Target: onResource(indicator), Detail: audit.Fields(fields...)})
	})
	if err != nil {
		return store.APIResource{}, err
	}
	r.ForgetAll()
	return saved, nil
}

// DeleteAPI removes the API resource indicator names and every role's
// permission on it. The grants that cover it keep it recorded, and a
// token request for it is invalid_target from then on (R2); JWT access
// tokens issued for it live out their short lifetime. Unknown is
// ErrUnknown, declared ErrDeclared (C4).
func (r *Registry) DeleteAPI(ctx context.Context, indicator string, rec Record) error {
	err := r.manage(ctx, "delete API resource "+indicator, func(tx store.Tx) error {
		if _, err := undeclaredAPI(ctx, tx, indicator); err != nil {
			return err
		}
		roles, err := tx.Roles(ctx)
		if err != nil {
			return err
		}
		var losing []string
		for _, role := range roles {
			if _, ok := role.Permissions[indicator]; ok {
				losing = append(losing, role.Name)
			}
		}
		if err := tx.DeleteAPIResource(ctx, indicator); err != nil {
			return err
		}
		detail := ""
		if len(losing) > 0 {
			detail = "permissions removed from roles: " + strings.Join(losing, " ")
		}
		return rec.write(tx, audit.Entry{Action: audit.ResourceDelete, Target: onResource(indicator), Detail: detail})
	})
	if err != nil {
		return err
	}
	r.ForgetAll()
	return nil
}

// undeclaredAPI reads the resource indicator names, refusing an unknown
// one (ErrUnknown) and one the configuration file manages (ErrDeclared).
func undeclaredAPI(ctx context.Context, tx store.Tx, indicator string) (store.APIResource, error) {
	apis, err := tx.APIResources(ctx)
	if err != nil {
		return store.APIResource{}, err
	}
	i := slices.IndexFunc(apis, func(a store.APIResource) bool { return a.Indicator == indicator })
	switch {
	case i < 0:
		return store.APIResource{}, refuse(ErrUnknown, "no API resource %s", indicator)
	case apis[i].Declared:
		return store.APIResource{}, ManagedByFile("API resource " + indicator)
	}
	return apis[i], nil
}

// changedAPIFields names the fields that differ, as the configuration
// and the admin API spell them.
func changedAPIFields(before, after store.APIResource) []string {
	var out []string
	if before.Name != after.Name {
		out = append(out, "name")
	}
	if !slices.Equal(before.Scopes, after.Scopes) {
		out = append(out, "scopes")
	}
	if !maps.Equal(before.ScopeDescriptions, after.ScopeDescriptions) {
		out = append(out, "scope_descriptions")
	}
	if before.AccessTokenTTL != after.AccessTokenTTL {
		out = append(out, "access_token_ttl")
	}
	return out
}

// PutRole creates the role spec names, or replaces its permissions (those
// spec does not list are removed), and returns it and whether it was
// created. Its permissions must name registered resources and their
// scopes (ErrInvalid). A role the configuration file declares is the
// file's (ErrDeclared), and the built-in admin role holds no permissions
// (ErrBuiltIn). Permissions as they were write and record nothing.
func (r *Registry) PutRole(ctx context.Context, spec RoleSpec, rec Record) (store.Role, bool, error) {
	return r.putRole(ctx, spec, rec, false)
}

// UpdateRole replaces the permissions of an existing role, as PutRole
// does, and never creates one: a role deleted since the caller read it is
// ErrUnknownRole, decided under the same lock as the change, so a page
// that outlived its role cannot bring it back.
func (r *Registry) UpdateRole(ctx context.Context, spec RoleSpec, rec Record) (store.Role, error) {
	role, _, err := r.putRole(ctx, spec, rec, true)
	return role, err
}

// putRole is PutRole, or UpdateRole when mustExist.
func (r *Registry) putRole(ctx context.Context, spec RoleSpec, rec Record, mustExist bool) (store.Role, bool, error) {
	if spec.Name == RoleAdmin {
		return store.Role{}, false, refuse(ErrBuiltIn, "role %s is built in: it holds no permissions; give it to users and m2m clients as any other role", RoleAdmin)
	}
	now := r.now()
	saved := store.Role{Name: spec.Name, Permissions: spec.Permissions, CreatedAt: now, UpdatedAt: now}
	created := false
	err := r.manage(ctx, "save role "+spec.Name, func(tx store.Tx) error {
		apis, err := tx.APIResources(ctx)
		if err != nil {
			return err
		}
		scopes := map[string][]string{}
		for _, api := range apis {
			scopes[api.Indicator] = api.Scopes
		}
		roles, err := tx.Roles(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(roles, func(x store.Role) bool { return x.Name == spec.Name })
		if i >= 0 && roles[i].Declared {
			return ManagedByFile("role " + spec.Name)
		}
		if i < 0 && mustExist {
			return refuse(ErrUnknownRole, "no role %s", spec.Name)
		}
		if err := spec.Validate(scopes); err != nil {
			return invalid(err)
		}
		action := audit.RoleCreate
		if i >= 0 {
			if maps.EqualFunc(roles[i].Permissions, spec.Permissions, slices.Equal[[]string]) {
				saved = roles[i]
				return nil
			}
			saved.CreatedAt, action = roles[i].CreatedAt, audit.RoleUpdate
		} else {
			created = true
		}
		if err := tx.UpsertRole(ctx, saved); err != nil {
			return err
		}
		return rec.write(tx, audit.Entry{Action: action, Target: onRole(spec.Name), Detail: permissionsOn(spec.Permissions)})
	})
	if err != nil {
		return store.Role{}, false, err
	}
	r.ForgetAll()
	return saved, created, nil
}

// permissionsOn is the detail of a role's change: the resources it gives
// permissions on.
func permissionsOn(perms map[string][]string) string {
	if len(perms) == 0 {
		return "no permissions"
	}
	return "permissions on: " + strings.Join(slices.Sorted(maps.Keys(perms)), " ")
}

// DeleteRole removes the role name names, its permissions, and every
// account's and client's hold of it. The built-in admin role is never
// removed (ErrBuiltIn); an unknown role is ErrUnknownRole, one the
// configuration file declares ErrDeclared (C4).
func (r *Registry) DeleteRole(ctx context.Context, name string, rec Record) error {
	if name == RoleAdmin {
		return refuse(ErrBuiltIn, "role %s is built in and cannot be removed", RoleAdmin)
	}
	err := r.manage(ctx, "delete role "+name, func(tx store.Tx) error {
		roles, err := tx.Roles(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(roles, func(x store.Role) bool { return x.Name == name })
		switch {
		case i < 0:
			return refuse(ErrUnknownRole, "no role %s", name)
		case roles[i].Declared:
			return ManagedByFile("role " + name)
		}
		if err := tx.DeleteRole(ctx, name); err != nil {
			return err
		}
		return rec.write(tx, audit.Entry{Action: audit.RoleDelete, Target: onRole(name), Detail: permissionsOn(roles[i].Permissions)})
	})
	if err != nil {
		return err
	}
	r.ForgetAll()
	return nil
}
