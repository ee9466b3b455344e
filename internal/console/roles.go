package console

import (
	"cmp"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
)

// The roles half of the API resources and roles section (R1): the list of
// roles, a role's page with its permissions and holders, and the changes
// to them, under the same rules as the API resources in resources.go.

// permLine is one permission of a role: an API and the scopes allowed on
// it.
type permLine struct {
	Indicator, Title string
	Scopes           []string
}

// URL is the API's page.
func (p permLine) URL() string { return resourceURL(p.Indicator) }

// roleItem is a role as the section shows it.
type roleItem struct {
	store.Role
	// Perms are its permissions, by indicator, each API named.
	Perms []permLine
}

// URL is the role's page.
func (r roleItem) URL() string { return roleURL(r.Name) }

// BuiltIn is whether it is the admin role (C5).
func (r roleItem) BuiltIn() bool { return r.Name == resource.RoleAdmin }

// roleItemOf is role with its permissions named by the APIs of apis.
func roleItemOf(role store.Role, apis []store.APIResource) roleItem {
	item := roleItem{Role: role}
	for _, ind := range slices.Sorted(maps.Keys(role.Permissions)) {
		title := ind
		if i := slices.IndexFunc(apis, func(a store.APIResource) bool { return a.Indicator == ind }); i >= 0 {
			title = cmp.Or(apis[i].Name, ind)
		}
		item.Perms = append(item.Perms, permLine{Indicator: ind, Title: title, Scopes: role.Permissions[ind]})
	}
	return item
}

// rolesPage fills the list of roles and the create form.
type rolesPage struct {
	frame
	Roles []roleItem
	// Name is the create form's, as typed.
	Name   string
	Errors []string
	// Notice says what the last action did: deleted.
	Notice string
}

// listRoles shows every role with its permissions, and the form that
// creates one.
func (c *Console) listRoles(w http.ResponseWriter, r *http.Request, op operator) {
	c.showRoles(w, r, op, http.StatusOK, rolesPage{Notice: r.URL.Query().Get("done")})
}

// showRoles renders the list with p's form and errors.
func (c *Console) showRoles(w http.ResponseWriter, r *http.Request, op operator, status int, p rolesPage) {
	apis, err := c.cfg.Store.APIResources(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	roles, err := c.cfg.Store.Roles(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, role := range roles {
		p.Roles = append(p.Roles, roleItemOf(role, apis))
	}
	p.frame = c.framed(w, r, op, "Roles", rolesSection)
	c.render(w, status, "roles.html", p)
}

// createRole makes a role without permissions; its page, where they are
// chosen, is the answer. A name taken already is refused, never its
// permissions replaced.
func (c *Console) createRole(w http.ResponseWriter, r *http.Request, op operator) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if _, err := c.cfg.Resources.CreateRole(r.Context(), name, c.roleRecord(r, op)); err != nil {
		c.refused(w, r, op, err, changed{again: func(w http.ResponseWriter, r *http.Request, op operator, status int, lines []string) {
			c.showRoles(w, r, op, status, rolesPage{Name: name, Errors: lines})
		}})
		return
	}
	http.Redirect(w, r, roleURL(name)+"?done=created", http.StatusSeeOther)
}

// gridScope is one checkbox of the permissions grid.
type gridScope struct {
	// Value is what it posts: the indicator and the scope, separated by a
	// space, which neither holds (RI1, RFC 6749 §3.3).
	Name, Value string
	Checked     bool
}

// gridAPI is one API of the permissions grid, with its scopes.
type gridAPI struct {
	apiItem
	Scopes []gridScope
}

// holderAccount is an account holding the role.
type holderAccount struct {
	store.Account
	// Declared: the configuration file lists the account's roles (C4).
	// Self: it is the operator's.
	Declared, Self bool
}

// URL is the account's page in the Users section.
func (a holderAccount) URL() string { return userURL(a.ID) }

// holderClient is an m2m client holding the role.
type holderClient struct {
	store.Client
	// Declared: the configuration file lists the client's roles (C4).
	Declared bool
}

// URL is the client's page in the Apps section.
func (h holderClient) URL() string { return appURL(h.ID) }

// rolePage fills a role's page.
type rolePage struct {
	frame
	Role roleItem
	// Grid is the permissions form: every API resource, its scopes
	// ticked as the role (or the refused post) has them.
	Grid []gridAPI
	// Accounts and Clients hold the role; Next is the next page of
	// accounts, when there is one.
	Accounts []holderAccount
	Next     string
	Clients  []holderClient
	// Candidates are the m2m clients the role can be given to.
	Candidates []store.Client
	// Typed is the username the add form was sent with.
	Typed  string
	Errors []string
	// Notice says what the last action did: created, saved, added,
	// removed.
	Notice string
}

// Editable is whether the console may change the role's permissions or
// delete it: not the file's (C4), not the built-in admin role (C5).
func (p rolePage) Editable() bool { return !p.Role.Declared && !p.Role.BuiltIn() }

// showRole shows a role's page: its permissions and who holds it.
func (c *Console) showRole(w http.ResponseWriter, r *http.Request, op operator) {
	p := rolePage{Notice: r.URL.Query().Get("done")}
	c.showRolePage(w, r, op, r.PathValue("name"), r.URL.Query().Get("after"), http.StatusOK, p, nil)
}

// showRolePage renders the page of the role name with p's errors and
// notice, the accounts listed after the username after; ticked, when not
// nil, are the permissions as posted, else the role's.
func (c *Console) showRolePage(w http.ResponseWriter, r *http.Request, op operator, name, after string, status int, p rolePage, ticked map[string][]string) {
	ctx := r.Context()
	apis, err := c.cfg.Store.APIResources(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	roles, err := c.cfg.Store.Roles(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(roles, func(x store.Role) bool { return x.Name == name })
	if i < 0 {
		c.missing(w, r, op, "role "+name, rolesPath, "Back to the roles")
		return
	}
	p.Role = roleItemOf(roles[i], apis)
	if ticked == nil {
		ticked = roles[i].Permissions
	}
	for _, a := range apis {
		g := gridAPI{apiItem: apiItem{APIResource: a, DefaultTTL: c.cfg.Resources.DefaultAccessTokenTTL}}
		for _, s := range a.Scopes {
			g.Scopes = append(g.Scopes, gridScope{Name: s, Value: a.Indicator + " " + s, Checked: slices.Contains(ticked[a.Indicator], s)})
		}
		p.Grid = append(p.Grid, g)
	}
	held, err := c.cfg.Resources.HoldersOf(ctx, name, after, holdersPerPage)
	if errors.Is(err, resource.ErrUnknownRole) { // removed since it was read
		c.missing(w, r, op, "role "+name, rolesPath, "Back to the roles")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, a := range held.Accounts {
		p.Accounts = append(p.Accounts, holderAccount{Account: a, Declared: c.cfg.Clients.Declared.UserRoles(a.Username), Self: a.ID == op.AccountID})
	}
	if held.More {
		p.Next = roleURL(name) + "?" + url.Values{"after": {held.Accounts[len(held.Accounts)-1].Username}}.Encode()
	}
	for _, cl := range held.Clients {
		p.Clients = append(p.Clients, holderClient{Client: cl, Declared: c.cfg.Clients.Declared.ClientRoles(cl.ID)})
	}
	clients, err := c.cfg.Store.Clients(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, cl := range clients {
		holds := slices.ContainsFunc(held.Clients, func(h store.Client) bool { return h.ID == cl.ID })
		if cl.Type == client.TypeM2M && !holds && !c.cfg.Clients.Declared.ClientRoles(cl.ID) {
			p.Candidates = append(p.Candidates, cl)
		}
	}
	p.frame = c.framed(w, r, op, "Role "+name, rolesSection)
	c.render(w, status, "role.html", p)
}

// saveRole replaces the role's permissions with the grid's ticks. A
// declared role is refused (C4), and the built-in admin role holds none
// (C5).
func (c *Console) saveRole(w http.ResponseWriter, r *http.Request, op operator) {
	name := r.PathValue("name")
	perms := map[string][]string{}
	for _, v := range r.PostForm["perm"] {
		ind, scope, ok := strings.Cut(v, " ")
		if !ok || ind == "" || scope == "" {
			continue
		}
		if !slices.Contains(perms[ind], scope) {
			perms[ind] = append(perms[ind], scope)
		}
	}
	// UpdateRole, not PutRole: a page that outlived its role must not
	// bring it back.
	if _, err := c.cfg.Resources.UpdateRole(r.Context(), resource.RoleSpec{Name: name, Permissions: perms}, c.roleRecord(r, op)); err != nil {
		c.refused(w, r, op, err, c.onRole(name, perms, ""))
		return
	}
	http.Redirect(w, r, roleURL(name)+"?done=saved", http.StatusSeeOther)
}

// deleteRole removes the role and every hold of it (R1). The built-in
// admin role and declared roles are refused (C5, C4).
func (c *Console) deleteRole(w http.ResponseWriter, r *http.Request, op operator) {
	name := r.PathValue("name")
	if err := c.cfg.Resources.DeleteRole(r.Context(), name, c.roleRecord(r, op)); err != nil {
		c.refused(w, r, op, err, c.onRole(name, nil, ""))
		return
	}
	http.Redirect(w, r, rolesPath+"?done=deleted", http.StatusSeeOther)
}

// addHolder gives the role to an account, named by its username, or to
// an m2m client, named by its id. A holder whose roles the configuration
// file lists is refused (C4).
func (c *Console) addHolder(w http.ResponseWriter, r *http.Request, op operator) {
	name := r.PathValue("name")
	typed := strings.TrimSpace(r.PostForm.Get("username"))
	var h resource.Holder
	switch id := r.PostForm.Get("client"); {
	case typed != "":
		acct, err := c.cfg.Accounts.Accounts.ByUsername(r.Context(), typed) // A1: its canonical form
		if errors.Is(err, store.ErrNotFound) {
			c.showRolePage(w, r, op, name, "", http.StatusBadRequest, rolePage{Errors: []string{"There is no account named " + typed + "."}, Typed: typed}, nil)
			return
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if c.cfg.Clients.Declared.UserRoles(acct.Username) {
			c.refused(w, r, op, resource.ManagedByFile("the role list of user "+acct.Username), c.onRole(name, nil, typed))
			return
		}
		h = resource.Account(acct.ID)
	case id != "":
		if c.cfg.Clients.Declared.ClientRoles(id) {
			c.refused(w, r, op, resource.ManagedByFile("the role list of client "+id), c.onRole(name, nil, ""))
			return
		}
		h = resource.Client(id)
	default:
		c.showRolePage(w, r, op, name, "", http.StatusBadRequest, rolePage{Errors: []string{"Type the username of an account, or choose an app."}}, nil)
		return
	}
	if _, err := c.cfg.Resources.GiveRole(r.Context(), h, name, c.roleRecord(r, op)); err != nil {
		if errors.Is(err, store.ErrNotFound) { // the client
			c.showRolePage(w, r, op, name, "", http.StatusBadRequest, rolePage{Errors: []string{"There is no app " + r.PostForm.Get("client") + "."}}, nil)
			return
		}
		c.refused(w, r, op, err, c.onRole(name, nil, typed))
		return
	}
	http.Redirect(w, r, roleURL(name)+"?done=added", http.StatusSeeOther)
}

// roleRemovePage asks the operator to confirm taking their own admin
// role (they lose the console at once).
type roleRemovePage struct {
	frame
	Role      roleItem
	AccountID string
}

// removeHolder takes the role from an account or an m2m client, by id. A
// holder whose roles the configuration file lists is refused (C4).
// Taking the admin role from oneself closes the console to one at once:
// it is done only once confirmed.
func (c *Console) removeHolder(w http.ResponseWriter, r *http.Request, op operator) {
	name := r.PathValue("name")
	var h resource.Holder
	self := false
	switch acctID, clientID := r.PostForm.Get("account"), r.PostForm.Get("client"); {
	case acctID != "":
		acct, err := c.cfg.Store.Account(r.Context(), acctID)
		if errors.Is(err, store.ErrNotFound) {
			c.missing(w, r, op, "account "+acctID, roleURL(name), "Back to the role")
			return
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if c.cfg.Clients.Declared.UserRoles(acct.Username) {
			c.refused(w, r, op, resource.ManagedByFile("the role list of user "+acct.Username), c.onRole(name, nil, ""))
			return
		}
		h, self = resource.Account(acct.ID), acct.ID == op.AccountID
	case clientID != "":
		if c.cfg.Clients.Declared.ClientRoles(clientID) {
			c.refused(w, r, op, resource.ManagedByFile("the role list of client "+clientID), c.onRole(name, nil, ""))
			return
		}
		h = resource.Client(clientID)
	default:
		c.showRolePage(w, r, op, name, "", http.StatusBadRequest, rolePage{Errors: []string{"Choose whom to take the role from."}}, nil)
		return
	}
	if self && name == resource.RoleAdmin && r.PostForm.Get("confirm") != "yes" {
		c.render(w, http.StatusOK, "role-remove.html", roleRemovePage{frame: c.framed(w, r, op, "Remove your own admin role?", rolesSection),
			Role: roleItem{Role: store.Role{Name: name}}, AccountID: op.AccountID})
		return
	}
	if _, err := c.cfg.Resources.TakeRole(r.Context(), h, name, c.roleRecord(r, op)); err != nil {
		if errors.Is(err, store.ErrNotFound) { // the client
			c.missing(w, r, op, "app "+r.PostForm.Get("client"), roleURL(name), "Back to the role")
			return
		}
		c.refused(w, r, op, err, c.onRole(name, nil, ""))
		return
	}
	if self && name == resource.RoleAdmin {
		c.message(w, r, http.StatusOK, messagePage{frame: frame{Username: op.Username},
			Title:   "You no longer hold the admin role",
			Message: "Your admin role is removed: the console is closed to you from now on.",
			Detail:  "Another admin can give it back, on this page or through the admin API.", SignOut: true})
		return
	}
	http.Redirect(w, r, roleURL(name)+"?done=removed", http.StatusSeeOther)
}
