package admin

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
)

// resourceView is an API resource as the API shows it (R1).
type resourceView struct {
	Indicator string   `json:"indicator"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	// AccessTokenTTL is in seconds; 0 follows the top-level
	// access_token_ttl.
	AccessTokenTTL int64     `json:"access_token_ttl"`
	Declared       bool      `json:"declared"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func viewResource(r store.APIResource) resourceView {
	return resourceView{Indicator: r.Indicator, Name: r.Name, Scopes: nonNil(r.Scopes),
		AccessTokenTTL: int64(r.AccessTokenTTL / time.Second), Declared: r.Declared, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// resourceInput is an API resource in a request body. An update takes
// its indicator from the path; one in the body must then be the same.
type resourceInput struct {
	Indicator      string   `json:"indicator"`
	Name           string   `json:"name"`
	Scopes         []string `json:"scopes"`
	AccessTokenTTL int64    `json:"access_token_ttl"`
}

func (in resourceInput) spec() resource.APISpec {
	return resource.APISpec{Indicator: in.Indicator, Name: in.Name, Scopes: in.Scopes,
		AccessTokenTTL: time.Duration(in.AccessTokenTTL) * time.Second}
}

// roleView is a role as the API shows it (R1).
type roleView struct {
	Name        string              `json:"name"`
	Permissions map[string][]string `json:"permissions"`
	Declared    bool                `json:"declared"`
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
}

func viewRole(r store.Role) roleView {
	perms := r.Permissions
	if perms == nil {
		perms = map[string][]string{}
	}
	return roleView{Name: r.Name, Permissions: perms, Declared: r.Declared, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// refusal is an answer decided inside a transaction, which rolls it back.
type refusal struct {
	status           int
	code, msg, field string
}

func (e *refusal) Error() string { return e.msg }

// answer writes err as the API answers it: a refusal as itself, another
// error as a 503. It reports whether err was nil.
func (a *API) answer(w http.ResponseWriter, r *http.Request, err error) bool {
	var ref *refusal
	switch {
	case err == nil:
		return true
	case errors.As(err, &ref):
		fail(w, ref.status, ref.code, ref.msg, ref.field)
	default:
		a.internal(w, r, err)
	}
	return false
}

func invalid(err error) *refusal {
	msg := err.Error()
	return &refusal{http.StatusBadRequest, "invalid", strings.ReplaceAll(msg, "\n", "; "), fieldOf(msg)}
}

func managed(what, field string) *refusal {
	return &refusal{http.StatusConflict, "conflict", what + " is managed by the configuration file: change it there", field}
}

func (a *API) listResources(w http.ResponseWriter, r *http.Request) {
	listAll(a, w, r, "resources", a.Store.APIResources, viewResource)
}

// createResource registers an API resource; its indicator is in the body,
// since a URI does not sit well in a path.
func (a *API) createResource(w http.ResponseWriter, r *http.Request) {
	var in resourceInput
	if !decode(w, r, &in) {
		return
	}
	a.saveResource(w, r, in, true)
}

// updateResource replaces an API resource, named in the path by its
// indicator, URL-escaped as one segment. One the configuration file
// declares is the file's to change (C4).
func (a *API) updateResource(w http.ResponseWriter, r *http.Request) {
	var in resourceInput
	if !decode(w, r, &in) {
		return
	}
	ind := r.PathValue("indicator")
	if in.Indicator != "" && in.Indicator != ind {
		fail(w, http.StatusBadRequest, "invalid", "indicator: the body names another resource than the path", "indicator")
		return
	}
	in.Indicator = ind
	a.saveResource(w, r, in, false)
}

// saveResource creates (create) or replaces the resource in, with its
// audit entry in the same transaction.
func (a *API) saveResource(w http.ResponseWriter, r *http.Request, in resourceInput, create bool) {
	spec := in.spec()
	if err := spec.Validate(); err != nil {
		a.answer(w, r, invalid(err))
		return
	}
	now := a.Now()
	saved := store.APIResource{Indicator: spec.Indicator, Name: spec.Name, Scopes: spec.Scopes,
		AccessTokenTTL: spec.AccessTokenTTL, CreatedAt: now, UpdatedAt: now}
	status := http.StatusOK
	err := a.Store.InTx(r.Context(), store.Durable, func(tx store.Tx) error {
		list, err := tx.APIResources(r.Context())
		if err != nil {
			return fmt.Errorf("read API resources: %w", err)
		}
		i := slices.IndexFunc(list, func(x store.APIResource) bool { return x.Indicator == spec.Indicator })
		var entry audit.Entry
		target := audit.Target{Kind: audit.TargetResource, ID: spec.Indicator}
		switch {
		case create && i >= 0:
			return &refusal{http.StatusConflict, "conflict", "an API resource " + spec.Indicator + " exists", "indicator"}
		case create:
			status = http.StatusCreated
			entry = a.entry(r, audit.ResourceCreate, target, "", "scopes: "+strings.Join(spec.Scopes, " "))
		case i < 0:
			return &refusal{http.StatusNotFound, "not_found", "no API resource " + spec.Indicator, ""}
		case list[i].Declared:
			return managed("API resource "+spec.Indicator, "")
		default:
			old := list[i]
			saved.CreatedAt = old.CreatedAt
			fields := changedResourceFields(old, saved)
			if len(fields) == 0 {
				saved = old // nothing changed: nothing written, nothing recorded
				return nil
			}
			entry = a.entry(r, audit.ResourceUpdate, target, "", audit.Fields(fields...))
		}
		if err := tx.UpsertAPIResource(r.Context(), saved); err != nil {
			return fmt.Errorf("save API resource %s: %w", spec.Indicator, err)
		}
		return a.recorder().InTx(r.Context(), tx, entry)
	})
	if a.answer(w, r, err) {
		writeJSON(w, status, viewResource(saved))
	}
}

// changedResourceFields names the fields that differ, as the API spells
// them.
func changedResourceFields(before, after store.APIResource) []string {
	var out []string
	if before.Name != after.Name {
		out = append(out, "name")
	}
	if !slices.Equal(before.Scopes, after.Scopes) {
		out = append(out, "scopes")
	}
	if before.AccessTokenTTL != after.AccessTokenTTL {
		out = append(out, "access_token_ttl")
	}
	return out
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request) {
	listAll(a, w, r, "roles", a.Store.Roles, viewRole)
}

// roleInput is a role's permissions in a request body: for each API
// resource, by indicator, the scopes the role allows.
type roleInput struct {
	Permissions map[string][]string `json:"permissions"`
}

// putRole creates the role named in the path or replaces its permissions
// (those the body does not list are removed). A role the configuration
// file declares, the built-in admin role among them, is the file's (C4).
func (a *API) putRole(w http.ResponseWriter, r *http.Request) {
	var in roleInput
	if !decode(w, r, &in) {
		return
	}
	spec := resource.RoleSpec{Name: r.PathValue("name"), Permissions: in.Permissions}
	now := a.Now()
	saved := store.Role{Name: spec.Name, Permissions: spec.Permissions, CreatedAt: now, UpdatedAt: now}
	status := http.StatusOK
	err := a.Store.InTx(r.Context(), store.Durable, func(tx store.Tx) error {
		apis, err := tx.APIResources(r.Context())
		if err != nil {
			return fmt.Errorf("read API resources: %w", err)
		}
		scopes := map[string][]string{}
		for _, api := range apis {
			scopes[api.Indicator] = api.Scopes
		}
		roles, err := tx.Roles(r.Context())
		if err != nil {
			return fmt.Errorf("read roles: %w", err)
		}
		i := slices.IndexFunc(roles, func(x store.Role) bool { return x.Name == spec.Name })
		if i >= 0 && roles[i].Declared || i < 0 && spec.Name == resource.RoleAdmin {
			return managed("role "+spec.Name, "")
		}
		if err := spec.Validate(scopes); err != nil {
			return invalid(err)
		}
		detail := "permissions on: " + strings.Join(slices.Sorted(maps.Keys(spec.Permissions)), " ")
		target := audit.Target{Kind: audit.TargetRole, ID: spec.Name}
		action := audit.RoleCreate
		if i >= 0 {
			if sameRolePermissions(roles[i].Permissions, spec.Permissions) {
				saved = roles[i] // nothing changed: nothing written, nothing recorded
				return nil
			}
			saved.CreatedAt, action = roles[i].CreatedAt, audit.RoleUpdate
		} else {
			status = http.StatusCreated
		}
		if err := tx.UpsertRole(r.Context(), saved); err != nil {
			return fmt.Errorf("save role %s: %w", spec.Name, err)
		}
		return a.recorder().InTx(r.Context(), tx, a.entry(r, action, target, "", detail))
	})
	if a.answer(w, r, err) {
		writeJSON(w, status, viewRole(saved))
	}
}

func sameRolePermissions(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for ind, scopes := range a {
		other, ok := b[ind]
		if !ok || !slices.Equal(scopes, other) {
			return false
		}
	}
	return true
}

// rolesInput is the roles a holder is to hold, replacing those it holds.
type rolesInput struct {
	Roles []string `json:"roles"`
}

// putAccountRoles replaces the roles an account holds (R1). The roles of
// a user the configuration file declares with roles are the file's (C4).
func (a *API) putAccountRoles(w http.ResponseWriter, r *http.Request) {
	var in rolesInput
	if !decode(w, r, &in) {
		return
	}
	acct, err := a.Store.Account(r.Context(), r.PathValue("id"))
	if !a.found(w, r, "account", err) {
		return
	}
	if u, ok := a.Declared.user(acct.Username); ok && u.Roles != nil {
		refuseManaged(w, "the roles of user "+acct.Username, "roles")
		return
	}
	a.setRoles(w, r, resource.Account(acct.ID), in.Roles, audit.Target{Kind: audit.TargetAccount, ID: acct.ID}, acct.ID)
}

// putClientRoles replaces the roles an m2m client holds (R1); other
// clients hold none. Taking the admin role away ends the client's admin
// tokens at once (C5). The roles of a client the configuration file
// declares with roles are the file's (C4).
func (a *API) putClientRoles(w http.ResponseWriter, r *http.Request) {
	var in rolesInput
	if !decode(w, r, &in) {
		return
	}
	c, err := a.Store.Client(r.Context(), r.PathValue("id"))
	if !a.found(w, r, "client", err) {
		return
	}
	if slices.ContainsFunc(a.Declared.Clients, func(s client.Spec) bool { return s.ID == c.ID && s.Roles != nil }) {
		refuseManaged(w, "the roles of client "+c.ID, "roles")
		return
	}
	if c.Type != client.TypeM2M && len(in.Roles) > 0 {
		fail(w, http.StatusBadRequest, "invalid", "roles: client "+c.ID+" is "+c.Type+": only m2m clients hold roles", "roles")
		return
	}
	a.setRoles(w, r, resource.Client(c.ID), in.Roles, audit.Target{Kind: audit.TargetClient, ID: c.ID}, "")
}

// setRoles gives h the roles, answering them. The registry writes them
// in its own transaction (with the revocation C5 asks when the admin
// role is taken away), so the audit entry follows it.
func (a *API) setRoles(w http.ResponseWriter, r *http.Request, h resource.Holder, roles []string, target audit.Target, accountID string) {
	want := slices.Compact(slices.Sorted(slices.Values(roles)))
	known, err := a.Store.Roles(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	for _, name := range want {
		if name != resource.RoleAdmin && !slices.ContainsFunc(known, func(x store.Role) bool { return x.Name == name }) {
			fail(w, http.StatusBadRequest, "invalid", "roles: no such role "+name, "roles")
			return
		}
	}
	var before []string
	if accountID != "" {
		before, err = a.Store.AccountRoles(r.Context(), accountID)
	} else {
		before, err = a.Store.ClientRoles(r.Context(), target.ID)
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	// The API's own registry only writes: the server's forgets what it
	// kept when the store reports the change.
	reg := &resource.Registry{Store: a.Store, Now: a.Now}
	err = reg.SetRoles(r.Context(), h, want)
	switch {
	case errors.Is(err, resource.ErrUnknownRole), errors.Is(err, resource.ErrNotM2M):
		// A race with another change since the checks above.
		fail(w, http.StatusBadRequest, "invalid", "roles: "+err.Error(), "roles")
		return
	case err != nil:
		a.internal(w, r, err)
		return
	}
	if !slices.Equal(before, want) {
		a.recordAfter(r, a.entry(r, audit.RolesAssign, target, accountID,
			"roles: "+strings.Join(want, " ")+" (were: "+strings.Join(before, " ")+")"))
	}
	writeJSON(w, http.StatusOK, map[string]any{"roles": nonNil(want)})
}
