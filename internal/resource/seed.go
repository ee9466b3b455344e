package resource

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/account/username"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/store"
)

// ReasonRoleRemoved is recorded on the grants revoked when their holder
// loses the admin role (C5): an m2m client's client_credentials grants, a
// person's grants carrying sesame:admin. The admin tokens end at once, as
// when a client's admin flag is cleared.
const ReasonRoleRemoved store.RevokeReason = "admin_role_removed"

// Seed applies what the configuration file declares (C4), in one durable
// transaction: every declared API resource and role is created or
// updated and marked declared; the built-in admin role exists, declared;
// a resource or role the file declared before and no longer does keeps
// its row, unmarked, so the admin API may manage it from now on; and each
// declared user (by username) and m2m client (by id) holds exactly the
// roles its entry lists. What the file does not declare is left alone:
// other resources and roles, and the roles of holders whose entry lists
// none. A record that already holds what the file says is not written,
// so a start that changes nothing tells no instance to forget anything.
//
// The users and clients must exist already (server.Seed upserts them
// first); d is validated as the configuration is, and nothing is written
// unless it is valid.
func (r *Registry) Seed(ctx context.Context, d Declaration) error {
	if err := d.Validate(); err != nil {
		return err
	}
	now := r.now()
	err := r.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		if err := tx.Lock(ctx, manageLock); err != nil {
			return err
		}
		if err := seedAPIs(ctx, tx, d.APIs, now); err != nil {
			return err
		}
		if err := seedRoles(ctx, tx, d.Roles, now); err != nil {
			return err
		}
		known, err := knownRoles(ctx, tx)
		if err != nil {
			return err
		}
		for _, a := range d.Users {
			canonical, err := username.Canonical(a.Holder)
			if err != nil {
				return fmt.Errorf("users (%s): %w", a.Holder, err)
			}
			acct, err := tx.AccountByUsername(ctx, canonical)
			if err != nil {
				return fmt.Errorf("users (%s): %w", a.Holder, err)
			}
			if _, err := setRoles(ctx, tx, Account(acct.ID), a.Roles, known, now, nil); err != nil {
				return fmt.Errorf("users (%s): %w", a.Holder, err)
			}
		}
		for _, a := range d.Clients {
			if _, err := setRoles(ctx, tx, Client(a.Holder), a.Roles, known, now, nil); err != nil {
				return fmt.Errorf("clients (%s): %w", a.Holder, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed API resources and roles: %w", err)
	}
	r.ForgetAll()
	return nil
}

// seedAPIs writes the declared resources that differ from what is stored,
// and unmarks those the file no longer declares.
func seedAPIs(ctx context.Context, tx store.Tx, specs []APISpec, now time.Time) error {
	stored, err := tx.APIResources(ctx)
	if err != nil {
		return err
	}
	want := map[string]store.APIResource{}
	for _, s := range specs {
		want[s.Indicator] = store.APIResource{Indicator: s.Indicator, Name: s.Name, Scopes: s.Scopes,
			ScopeDescriptions: storedDescriptions(s.ScopeDescriptions), AccessTokenTTL: s.AccessTokenTTL,
			Declared: true, CreatedAt: now, UpdatedAt: now}
	}
	return writeChanged(stored, want, func(a store.APIResource) string { return a.Indicator }, sameAPI,
		func(a *store.APIResource) { a.Declared, a.UpdatedAt = false, now },
		func(a store.APIResource) error { return tx.UpsertAPIResource(ctx, a) })
}

// writeChanged writes, in key order, the declared records of want that
// differ from their stored copy, and the stored records that were
// declared and no longer are, unmarked by undeclare: only those, so a
// start that changes nothing writes nothing.
func writeChanged[T any](stored []T, want map[string]T, key func(T) string, same func(a, b T) bool,
	undeclare func(*T), write func(T) error) error {
	for _, old := range stored {
		k := key(old)
		w, declared := want[k]
		switch {
		case declared && same(old, w):
			delete(want, k)
		case !declared:
			before := old
			undeclare(&old)
			if !same(before, old) {
				want[k] = old
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if err := write(want[k]); err != nil {
			return err
		}
	}
	return nil
}

func sameAPI(a, b store.APIResource) bool {
	return a.Name == b.Name && slices.Equal(a.Scopes, b.Scopes) && maps.Equal(a.ScopeDescriptions, b.ScopeDescriptions) &&
		a.AccessTokenTTL == b.AccessTokenTTL && a.Declared == b.Declared
}

// seedRoles writes the declared roles (and the built-in admin role) that
// differ from what is stored, and unmarks those the file no longer
// declares.
func seedRoles(ctx context.Context, tx store.Tx, specs []RoleSpec, now time.Time) error {
	stored, err := tx.Roles(ctx)
	if err != nil {
		return err
	}
	want := map[string]store.Role{RoleAdmin: {Name: RoleAdmin, Declared: true, CreatedAt: now, UpdatedAt: now}}
	for _, s := range specs {
		want[s.Name] = store.Role{Name: s.Name, Permissions: s.Permissions, Declared: true, CreatedAt: now, UpdatedAt: now}
	}
	return writeChanged(stored, want, func(r store.Role) string { return r.Name }, sameRole,
		func(r *store.Role) { r.Declared, r.UpdatedAt = false, now },
		func(r store.Role) error { return tx.UpsertRole(ctx, r) })
}

func sameRole(a, b store.Role) bool {
	return a.Declared == b.Declared && maps.EqualFunc(a.Permissions, b.Permissions, slices.Equal[[]string])
}

// SetRoles makes roles the roles h holds, replacing those it held, and
// returns them as held: in name order, each once. Every role must exist
// (ErrUnknownRole; RoleAdmin always does) and a client must be an m2m one
// (ErrNotM2M); both refusals are a *Refused. An m2m client that loses the
// admin role loses its admin tokens at once: its client_credentials
// grants are revoked in the same transaction (C5, G2); a client still
// admin by its deprecated flag or admin_clients simply gets new ones. rec
// records the change in its transaction, when there is one: roles held
// already write and record nothing. Whether the configuration file lists
// the holder's roles (C4) is the caller's to check.
func (r *Registry) SetRoles(ctx context.Context, h Holder, roles []string, rec Record) ([]string, error) {
	var held []string
	err := r.manage(ctx, "set roles of "+h.key, func(tx store.Tx) error {
		known, err := knownRoles(ctx, tx)
		if err != nil {
			return err
		}
		held, err = setRoles(ctx, tx, h, roles, known, r.now(), rec)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.Forget(h.key)
	return held, nil
}

// knownRoles are the names of the stored roles and the built-in admin
// role: read once per transaction, however many holders it assigns.
func knownRoles(ctx context.Context, tx store.Tx) (map[string]bool, error) {
	stored, err := tx.Roles(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{RoleAdmin: true}
	for _, r := range stored {
		known[r.Name] = true
	}
	return known, nil
}

// setRoles is SetRoles inside tx, with the roles known in it; a holder
// that already holds exactly roles is not written.
func setRoles(ctx context.Context, tx store.Tx, h Holder, roles []string, known map[string]bool, now time.Time, rec Record) ([]string, error) {
	want := slices.Compact(slices.Sorted(slices.Values(roles)))
	if want == nil {
		want = []string{}
	}
	for _, name := range want {
		if !known[name] {
			return nil, refuse(ErrUnknownRole, "no role %s", name)
		}
	}
	id, account := h.id()
	target, accountID := audit.Target{Kind: audit.TargetAccount, ID: id}, id
	if !account {
		c, err := tx.Client(ctx, id)
		if err != nil {
			return nil, err
		}
		if c.Type != client.TypeM2M && len(want) > 0 {
			return nil, refuse(ErrNotM2M, "client %s is %s: only m2m clients hold roles", id, c.Type)
		}
		target, accountID = audit.Target{Kind: audit.TargetClient, ID: id}, ""
	}
	held, err := heldRoles(ctx, tx, h)
	if err != nil || slices.Equal(held, want) {
		return want, err
	}
	if account {
		err = tx.SetAccountRoles(ctx, id, want)
	} else {
		err = tx.SetClientRoles(ctx, id, want)
	}
	if err != nil {
		return nil, err
	}
	err = rec.write(tx, audit.Entry{Action: audit.RolesAssign, Target: target, Account: accountID,
		Detail: "roles: " + roleList(want) + " (were: " + roleList(held) + ")"})
	if err != nil || !slices.Contains(held, RoleAdmin) || slices.Contains(want, RoleAdmin) {
		return want, err
	}
	// C5: the admin role lost ends the admin tokens at once, and for
	// good: the grants that carry it are revoked, so that their refresh
	// tokens do not come back to life if the role is given again.
	if account {
		n, err := tx.RevokeAccountGrantsWithScope(ctx, id, grant.ScopeAdmin, now, ReasonRoleRemoved)
		if err != nil || n == 0 {
			return want, err
		}
		return want, tx.AddEvent(ctx, store.Event{At: now, Kind: store.EventGrantRevoked, AccountID: id,
			Detail: fmt.Sprintf("%d grants with %s: %s", n, grant.ScopeAdmin, ReasonRoleRemoved)})
	}
	n, err := tx.RevokeClientCredentialGrants(ctx, id, now, ReasonRoleRemoved)
	if err != nil || n == 0 {
		return want, err
	}
	return want, tx.AddEvent(ctx, store.Event{At: now, Kind: store.EventGrantRevoked, ClientID: id,
		Detail: fmt.Sprintf("%d client_credentials grants: %s", n, ReasonRoleRemoved)})
}

// roleList is a list of roles in an audit entry: "none" for none.
func roleList(roles []string) string {
	if len(roles) == 0 {
		return "none"
	}
	return strings.Join(roles, " ")
}

// heldRoles are the roles h holds, as stored.
func heldRoles(ctx context.Context, r store.Reader, h Holder) ([]string, error) {
	id, account := h.id()
	if account {
		return r.AccountRoles(ctx, id)
	}
	return r.ClientRoles(ctx, id)
}
