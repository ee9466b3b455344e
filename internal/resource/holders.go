package resource

import (
	"context"
	"fmt"
	"slices"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/store"
)

// CreateRole makes the role name, without permissions, and returns it. A
// name taken already is ErrExists: where PutRole would replace the
// permissions of a role made meanwhile by someone else, this never
// touches one that exists. The check and the write are one transaction
// under the lock of every change to roles. An invalid name is ErrInvalid;
// the built-in admin role always exists (ErrExists).
func (r *Registry) CreateRole(ctx context.Context, name string, rec Record) (store.Role, error) {
	spec := RoleSpec{Name: name}
	if err := spec.Validate(nil); err != nil {
		return store.Role{}, invalid(err)
	}
	now := r.now()
	saved := store.Role{Name: name, CreatedAt: now, UpdatedAt: now}
	err := r.manage(ctx, "create role "+name, func(tx store.Tx) error {
		roles, err := tx.Roles(ctx)
		if err != nil {
			return err
		}
		if name == RoleAdmin || slices.ContainsFunc(roles, func(x store.Role) bool { return x.Name == name }) {
			return refuse(ErrExists, "a role %s exists already", name)
		}
		if err := tx.UpsertRole(ctx, saved); err != nil {
			return err
		}
		return rec.write(tx, audit.Entry{Action: audit.RoleCreate, Target: onRole(name), Detail: permissionsOn(nil)})
	})
	if err != nil {
		return store.Role{}, err
	}
	r.ForgetAll()
	return saved, nil
}

// Holders are who holds one role (R1): a page of its accounts, in
// username order, and every client holding it.
type Holders struct {
	Accounts []store.Account
	// More tells that accounts past this page hold the role too: the next
	// page starts after the last username of this one.
	More    bool
	Clients []store.Client
}

// HoldersOf reads who holds the role name, from the store (not the
// cache: what a page shows after a change must include it): at most
// limit accounts after the username after ("" from the first), and its
// clients. An unknown role is ErrUnknownRole.
func (r *Registry) HoldersOf(ctx context.Context, name, after string, limit int) (Holders, error) {
	if limit <= 0 {
		return Holders{}, fmt.Errorf("holders of role %s: limit %d", name, limit)
	}
	roles, err := r.Store.Roles(ctx)
	if err != nil {
		return Holders{}, fmt.Errorf("read roles: %w", err)
	}
	if name != RoleAdmin && !slices.ContainsFunc(roles, func(x store.Role) bool { return x.Name == name }) {
		return Holders{}, refuse(ErrUnknownRole, "no role %s", name)
	}
	accounts, err := r.Store.AccountsWithRole(ctx, name, after, limit+1)
	if err != nil {
		return Holders{}, fmt.Errorf("holders of role %s: %w", name, err)
	}
	clients, err := r.Store.ClientsWithRole(ctx, name)
	if err != nil {
		return Holders{}, fmt.Errorf("holders of role %s: %w", name, err)
	}
	h := Holders{Accounts: accounts, Clients: clients}
	if len(accounts) > limit {
		h.Accounts, h.More = accounts[:limit], true
	}
	return h, nil
}

// GiveRole adds the role name to those h holds, keeping the others, and
// returns the roles h holds then. It reads and writes in one transaction
// under the lock of every change to roles, so two admins giving h two
// roles at once both stand, where reading the roles and then setting
// them (SetRoles) could lose one. The refusals and the audit entry are
// SetRoles': an unknown role is ErrUnknownRole, a client that is not m2m
// ErrNotM2M, an unknown client store.ErrNotFound; a role held already
// writes and records nothing. Whether the configuration file lists h's
// roles (C4) is the caller's to check, as for SetRoles.
func (r *Registry) GiveRole(ctx context.Context, h Holder, name string, rec Record) ([]string, error) {
	return r.changeRole(ctx, h, name, rec, func(held []string) []string { return append(slices.Clone(held), name) })
}

// TakeRole removes the role name from those h holds, keeping the others,
// as GiveRole adds one, and returns the roles h holds then. An m2m client
// that loses the admin role loses its admin tokens at once (C5), as with
// SetRoles. A role h does not hold writes and records nothing; an
// unknown role is ErrUnknownRole.
func (r *Registry) TakeRole(ctx context.Context, h Holder, name string, rec Record) ([]string, error) {
	return r.changeRole(ctx, h, name, rec, func(held []string) []string {
		return slices.DeleteFunc(slices.Clone(held), func(x string) bool { return x == name })
	})
}

// changeRole sets h's roles to what change makes of those it holds, in
// one transaction under manageLock.
func (r *Registry) changeRole(ctx context.Context, h Holder, name string, rec Record, change func([]string) []string) ([]string, error) {
	var now []string
	err := r.manage(ctx, "change the roles of "+h.key, func(tx store.Tx) error {
		known, err := knownRoles(ctx, tx)
		if err != nil {
			return err
		}
		if !known[name] {
			return refuse(ErrUnknownRole, "no role %s", name)
		}
		held, err := heldRoles(ctx, tx, h)
		if err != nil {
			return err
		}
		now, err = setRoles(ctx, tx, h, change(held), known, r.now(), rec)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.Forget(h.key)
	return now, nil
}
