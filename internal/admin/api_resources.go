package admin

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
)

// resourceView is an API resource as the API shows it (R1).
type resourceView struct {
	Indicator string   `json:"indicator"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	// ScopeDescriptions are the consent page's words for scopes, by
	// scope: an empty object when none has any.
	ScopeDescriptions map[string]string `json:"scope_descriptions"`
	// AccessTokenTTL is in seconds; 0 follows the top-level
	// access_token_ttl.
	AccessTokenTTL int64     `json:"access_token_ttl"`
	Declared       bool      `json:"declared"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func viewResource(r store.APIResource) resourceView {
	return resourceView{Indicator: r.Indicator, Name: r.Name, Scopes: nonNil(r.Scopes), ScopeDescriptions: nonNilMap(r.ScopeDescriptions),
		AccessTokenTTL: int64(r.AccessTokenTTL / time.Second), Declared: r.Declared, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// resourceInput is an API resource in a request body. An update takes
// its indicator from the path; one in the body must then be the same.
// An update replaces every field, so descriptions left out are removed,
// as scopes left out are.
type resourceInput struct {
	Indicator         string            `json:"indicator"`
	Name              string            `json:"name"`
	Scopes            []string          `json:"scopes"`
	ScopeDescriptions map[string]string `json:"scope_descriptions"`
	AccessTokenTTL    int64             `json:"access_token_ttl"`
}

func (in resourceInput) spec() resource.APISpec {
	return resource.APISpec{Indicator: in.Indicator, Name: in.Name, Scopes: in.Scopes, ScopeDescriptions: in.ScopeDescriptions,
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
	return roleView{Name: r.Name, Permissions: nonNilMap(r.Permissions), Declared: r.Declared, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// answer writes err as the API answers it: a refusal of package resource
// with the status its rule calls for, another error as a 503. It reports
// whether err was nil.
func (a *API) answer(w http.ResponseWriter, r *http.Request, err error) bool {
	var ref *resource.Refused
	switch {
	case err == nil:
		return true
	case !errors.As(err, &ref):
		a.internal(w, r, err)
	case errors.Is(ref, resource.ErrInvalid):
		msg := ref.Problems.Error()
		fail(w, http.StatusBadRequest, "invalid", strings.ReplaceAll(msg, "\n", "; "), fieldOf(msg))
	case errors.Is(ref, resource.ErrUnknown), errors.Is(ref, resource.ErrUnknownRole):
		fail(w, http.StatusNotFound, "not_found", ref.Error(), "")
	case errors.Is(ref, resource.ErrExists):
		fail(w, http.StatusConflict, "conflict", ref.Error(), "indicator")
	case errors.Is(ref, resource.ErrNotM2M):
		fail(w, http.StatusBadRequest, "invalid", ref.Error(), "roles")
	default: // ErrDeclared (C4), ErrBuiltIn (C5)
		fail(w, http.StatusConflict, "conflict", ref.Error(), "")
	}
	return false
}

// registry makes the changes of resources, roles and their holders, under
// the rules the CLI's are made under. It only writes: the server's own
// registry forgets what it kept when the store reports the change.
func (a *API) registry() *resource.Registry {
	if a.Resources != nil {
		// The server's registry: its cache forgets this change as soon as
		// it commits, not when the change notice comes back.
		return a.Resources
	}
	return &resource.Registry{Store: a.Store, Now: a.Now}
}

// record is the resource.Record of r's change: its audit entry, made by
// the admin client, from the request's address, in the change's
// transaction.
func (a *API) record(r *http.Request) resource.Record {
	return func(tx store.Tx, e audit.Entry) error {
		return a.recorder().InTx(r.Context(), tx, a.entry(r, e.Action, e.Target, e.Account, e.Detail))
	}
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
	saved, err := a.registry().CreateAPI(r.Context(), in.spec(), a.record(r))
	if a.answer(w, r, err) {
		writeJSON(w, http.StatusCreated, viewResource(saved))
	}
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
	saved, err := a.registry().UpdateAPI(r.Context(), ind, func(s *resource.APISpec) { *s = in.spec() }, a.record(r))
	if a.answer(w, r, err) {
		writeJSON(w, http.StatusOK, viewResource(saved))
	}
}

// deleteResource removes an API resource, named as updateResource names
// it, and every role's permission on it. Grants keep the resources they
// recorded; the token endpoint refuses it from then on (invalid_target).
func (a *API) deleteResource(w http.ResponseWriter, r *http.Request) {
	if a.answer(w, r, a.registry().DeleteAPI(r.Context(), r.PathValue("indicator"), a.record(r))) {
		w.WriteHeader(http.StatusNoContent)
	}
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
// file declares is the file's (C4); the built-in admin role holds none
// (C5).
func (a *API) putRole(w http.ResponseWriter, r *http.Request) {
	var in roleInput
	if !decode(w, r, &in) {
		return
	}
	spec := resource.RoleSpec{Name: r.PathValue("name"), Permissions: in.Permissions}
	saved, created, err := a.registry().PutRole(r.Context(), spec, a.record(r))
	if !a.answer(w, r, err) {
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, viewRole(saved))
}

// deleteRole removes a role, its permissions, and every account's and
// client's hold of it. The built-in admin role and the roles the
// configuration file declares are refused (C5, C4).
func (a *API) deleteRole(w http.ResponseWriter, r *http.Request) {
	if a.answer(w, r, a.registry().DeleteRole(r.Context(), r.PathValue("name"), a.record(r))) {
		w.WriteHeader(http.StatusNoContent)
	}
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
	if a.Declared.UserRoles(acct.Username) {
		refuseManaged(w, "the role list of user "+acct.Username, "roles")
		return
	}
	a.setRoles(w, r, resource.Account(acct.ID), in.Roles)
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
	if a.Declared.ClientRoles(c.ID) {
		refuseManaged(w, "the role list of client "+c.ID, "roles")
		return
	}
	a.setRoles(w, r, resource.Client(c.ID), in.Roles)
}

// setRoles gives h the roles and answers the roles it holds. The
// registry checks them (unknown roles, a client that is not m2m: a 400 on
// roles), revokes what losing the admin role ends (C5), and records the
// change in its transaction.
func (a *API) setRoles(w http.ResponseWriter, r *http.Request, h resource.Holder, roles []string) {
	held, err := a.registry().SetRoles(r.Context(), h, roles, a.record(r))
	var ref *resource.Refused
	switch {
	case errors.As(err, &ref):
		fail(w, http.StatusBadRequest, "invalid", "roles: "+ref.Error(), "roles")
	case errors.Is(err, store.ErrNotFound): // the client went since it was read
		fail(w, http.StatusNotFound, "not_found", "no client "+r.PathValue("id"), "")
	case a.answer(w, r, err):
		writeJSON(w, http.StatusOK, map[string]any{"roles": held})
	}
}
