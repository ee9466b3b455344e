package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// billing is the API resource the tests create through the console.
const billing = "https://api.example.com/billing"

// resourcePath is the console page of an API resource: its indicator
// escaped as one path segment.
func resourcePath(indicator string) string { return "/console/resources/" + url.PathEscape(indicator) }

// apiResource reads the API resource indicator from the store; ok is
// false when there is none.
func apiResource(t *testing.T, s *sesametest.Sesame, indicator string) (store.APIResource, bool) {
	t.Helper()
	list, err := s.Store.APIResources(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list, func(a store.APIResource) bool { return a.Indicator == indicator })
	if i < 0 {
		return store.APIResource{}, false
	}
	return list[i], true
}

// storedRole reads the role name from the store; ok is false when there
// is none.
func storedRole(t *testing.T, s *sesametest.Sesame, name string) (store.Role, bool) {
	t.Helper()
	list, err := s.Store.Roles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list, func(r store.Role) bool { return r.Name == name })
	if i < 0 {
		return store.Role{}, false
	}
	return list[i], true
}

// accountRoles are the roles the account username holds, as stored.
func accountRoles(t *testing.T, s *sesametest.Sesame, username string) []string {
	t.Helper()
	roles, err := s.Store.AccountRoles(t.Context(), accountID(t, s, username))
	if err != nil {
		t.Fatal(err)
	}
	return roles
}

// wantPage fails the test unless p has status and holds every one of
// want.
func wantPage(t *testing.T, what string, p sesametest.Page, status int, want ...string) {
	t.Helper()
	ok := p.Status == status
	for _, w := range want {
		if !strings.Contains(p.Body, w) {
			t.Errorf("%s lacks %q", what, w)
			ok = false
		}
	}
	if !ok {
		t.Fatalf("%s: %d %s\n%s", what, p.Status, p.URL, p.Body)
	}
}

// accessClaims verifies a JWT access token with Sesame's keys and
// returns its claims.
func accessClaims(t *testing.T, s *sesametest.Sesame, tok string) token.AccessJWT {
	t.Helper()
	v, err := s.Keys.Verify(tok)
	if err != nil {
		t.Fatalf("access token %q does not verify: %v", tok, err)
	}
	if v.Type != "at+jwt" {
		t.Errorf("access token typ %q", v.Type)
	}
	var c token.AccessJWT
	if err := json.Unmarshal(v.Payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// auditActions lists the actions recorded on target, oldest first,
// failing the test for any not made by alice as an admin person.
func auditActions(t *testing.T, s *sesametest.Sesame, kind audit.TargetKind, id string) []string {
	t.Helper()
	entries, err := s.Store.AuditEntries(t.Context(), store.AuditFilter{TargetKind: string(kind), TargetID: id, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range slices.Backward(entries) {
		actions = append(actions, e.Action)
		if e.ActorKind != string(audit.ActorAdminAccount) || e.ActorID != accountID(t, s, "alice") || e.Address == "" {
			t.Errorf("audit entry %s on %s by %s %s from %q, want alice as %s", e.Action, id, e.ActorKind, e.ActorID, e.Address, audit.ActorAdminAccount)
		}
	}
	return actions
}

// signedInWords are on every page of an operator: who is signed in, by
// the sign-out button.
const signedInWords = "Signed in as <strong>alice</strong>"

// R1, R2, R3: an admin creates an API resource with scopes and edits it,
// creates a role with a permission on it and gives it to bob, who then
// gets the scope on a JWT access token for that API, living the
// lifetime set here; deleting the role takes the scope from bob's next
// token; deleting the resource refuses it to apps. Refused input is
// shown in words with the form kept, and every change is audited with
// alice as its actor.
func TestAnAdminManagesResourcesAndRoles(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, p := signedIn(t, s)
		wantPage(t, "the nav", p, http.StatusOK, `<a href="/console/resources">API resources</a>`)

		p = b.Get(s.ConsoleURL("/console/resources"))
		wantPage(t, "the resource list", p, http.StatusOK, "<h1>API resources</h1>", `action="/console/resources"`, `aria-current="page">API resources`)

		// Create, with a lifetime in minutes.
		p = b.ConsolePost(p, "/console/resources", url.Values{"indicator": {billing}, "name": {"Billing"},
			"scopes": {"read:invoices\r\nwrite:invoices"}, "access_token_ttl": {"15m"}})
		wantPage(t, "the created resource", p, http.StatusOK, "The API resource is created", "<code>read:invoices</code>, <code>write:invoices</code>", "15 minutes")
		if !strings.HasSuffix(p.URL, resourcePath(billing)+"?done=created") {
			t.Errorf("created, the browser is at %s", p.URL)
		}
		api, ok := apiResource(t, s, billing)
		if !ok || api.Name != "Billing" || !slices.Equal(api.Scopes, []string{"read:invoices", "write:invoices"}) || api.AccessTokenTTL != 15*time.Minute || api.Declared {
			t.Fatalf("stored: %+v %v", api, ok)
		}
		list := b.Get(s.ConsoleURL("/console/resources"))
		wantPage(t, "the list after create", list, http.StatusOK, `href="`+resourcePath(billing)+`"`, "<code>"+billing+"</code>")

		// Refused input: the problems in words, what was typed kept.
		p = b.ConsolePost(list, "/console/resources", url.Values{"indicator": {"not a uri"}, "name": {"Broken"}, "scopes": {"a a"}})
		wantPage(t, "an invalid resource", p, http.StatusBadRequest, "The API resource was not created", "Indicator: the resource indicator", "Scopes: a is listed twice", `value="Broken"`)
		p = b.ConsolePost(list, "/console/resources", url.Values{"indicator": {billing}, "name": {"Again"}})
		wantPage(t, "a taken indicator", p, http.StatusConflict, "an API resource "+billing+" exists already")
		p = b.ConsolePost(list, "/console/resources", url.Values{"indicator": {"https://api.example.com/x"}, "access_token_ttl": {"soon"}})
		wantPage(t, "a lifetime that is none", p, http.StatusBadRequest, "is not a lifetime")
		if _, ok := apiResource(t, s, "https://api.example.com/x"); ok {
			t.Error("a refused resource was created")
		}

		// Edit: a third scope, a lifetime in seconds.
		p = b.Get(s.ConsoleURL(resourcePath(billing)))
		p = b.ConsolePost(p, resourcePath(billing), url.Values{"name": {"Billing API"},
			"scopes": {"read:invoices write:invoices pay:invoices"}, "access_token_ttl": {"600"}})
		wantPage(t, "the edited resource", p, http.StatusOK, "The changes are saved", "<h1>Billing API</h1>", "10 minutes")
		api, _ = apiResource(t, s, billing)
		if api.Name != "Billing API" || len(api.Scopes) != 3 || api.AccessTokenTTL != 10*time.Minute {
			t.Errorf("after the edit: %+v", api)
		}
		bad := b.ConsolePost(p, resourcePath(billing), url.Values{"name": {"Kept"}, "scopes": {`bad"scope`}})
		wantPage(t, "an invalid edit", bad, http.StatusBadRequest, "Nothing was changed", "Scopes: the scope", `value="Kept"`)
		if api, _ := apiResource(t, s, billing); api.Name != "Billing API" {
			t.Errorf("an invalid edit was saved: %+v", api)
		}

		// A role with a permission on it, given to bob.
		p = b.Get(s.ConsoleURL("/console/roles"))
		wantPage(t, "the role list", p, http.StatusOK, "<h1>Roles</h1>", `href="/console/roles/admin"`, "built in")
		p = b.ConsolePost(p, "/console/roles", url.Values{"name": {"billing-reader"}})
		wantPage(t, "the created role", p, http.StatusOK, "The role is created", `name="perm" value="`+billing+` read:invoices"`, "No account holds it.")
		p = b.ConsolePost(p, "/console/roles/billing-reader", url.Values{"perm": {billing + " read:invoices"}})
		wantPage(t, "the saved role", p, http.StatusOK, "The permissions are saved", `value="`+billing+` read:invoices" checked`)
		if role, _ := storedRole(t, s, "billing-reader"); !slices.Equal(role.Permissions[billing], []string{"read:invoices"}) || len(role.Permissions) != 1 {
			t.Errorf("stored permissions: %v", role.Permissions)
		}
		p = b.ConsolePost(p, "/console/roles/billing-reader/add", url.Values{"username": {"Bob"}})
		wantPage(t, "the role given to bob", p, http.StatusOK, "The role is given", `href="/console/users/`+accountID(t, s, "bob")+`"`)
		if got := accountRoles(t, s, "bob"); !slices.Equal(got, []string{"billing-reader"}) {
			t.Fatalf("bob's roles: %v", got)
		}
		nobody := b.ConsolePost(p, "/console/roles/billing-reader/add", url.Values{"username": {"nobody"}})
		wantPage(t, "an unknown username", nobody, http.StatusBadRequest, "There is no account named nobody.", `value="nobody"`, signedInWords)

		// bob gets read:invoices, and not write:invoices, on a JWT for
		// the API that lives the lifetime set above.
		person := s.NewBrowser(t)
		cb := person.SignIn(sesametest.AppA, "bob", url.Values{"scope": {"openid read:invoices write:invoices offline_access"},
			"prompt": {"consent"}, "resource": {billing}})
		if cb.Code == "" {
			t.Fatalf("bob's sign-in: %+v", cb)
		}
		verifier, _ := sesametest.PKCE()
		tok := s.Token(t, sesametest.AppA, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Code},
			"redirect_uri": {sesametest.RedirectURI(sesametest.AppA)}, "code_verifier": {verifier}, "resource": {billing}})
		if tok.Status != http.StatusOK || tok.RefreshToken == "" {
			t.Fatalf("bob's token: %d %v", tok.Status, tok.Raw)
		}
		claims := accessClaims(t, s, tok.AccessToken)
		if claims.Audience != billing || claims.Scope != "read:invoices" || claims.Subject != accountID(t, s, "bob") || claims.Expiry-claims.IssuedAt != 600 {
			t.Errorf("bob's JWT access token: %+v", claims)
		}

		// The role deleted, bob's next token lacks the scope.
		p = b.Get(s.ConsoleURL("/console/roles/billing-reader"))
		wantPage(t, "the role's page", p, http.StatusOK, `action="/console/roles/billing-reader/delete"`)
		p = b.ConsolePost(p, "/console/roles/billing-reader/delete", nil)
		wantPage(t, "the deleted role", p, http.StatusOK, "The role is deleted")
		if _, ok := storedRole(t, s, "billing-reader"); ok {
			t.Error("the role is still stored")
		}
		if got := accountRoles(t, s, "bob"); len(got) != 0 {
			t.Errorf("bob's roles after the delete: %v", got)
		}
		next := s.Token(t, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "resource": {billing}})
		if next.Status != http.StatusOK {
			t.Fatalf("bob's next token: %d %v", next.Status, next.Raw)
		}
		if c := accessClaims(t, s, next.AccessToken); c.Audience != billing || strings.Contains(c.Scope, "read:invoices") {
			t.Errorf("bob's next token still carries the scope: %+v", c)
		}

		// Deleting the resource: apps asking for it are refused.
		p = b.Get(s.ConsoleURL(resourcePath(billing)))
		wantPage(t, "the resource's page", p, http.StatusOK, `action="`+resourcePath(billing)+`/delete"`)
		p = b.ConsolePost(p, resourcePath(billing)+"/delete", nil)
		wantPage(t, "the deleted resource", p, http.StatusOK, "The API resource is deleted")
		if _, ok := apiResource(t, s, billing); ok {
			t.Error("the resource is still stored")
		}
		if again := s.Token(t, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.RefreshToken},
			"resource": {billing}}); again.Error != "invalid_target" {
			t.Errorf("a token for the deleted resource: %d %v", again.Status, again.Raw)
		}
		if gone := b.Get(s.ConsoleURL(resourcePath(billing))); gone.Status != http.StatusNotFound {
			t.Errorf("the deleted resource's page: %d", gone.Status)
		}

		if got, want := auditActions(t, s, audit.TargetResource, billing), []string{string(audit.ResourceCreate), string(audit.ResourceUpdate), string(audit.ResourceDelete)}; !slices.Equal(got, want) {
			t.Errorf("the resource's audit entries: %v, want %v", got, want)
		}
		if got, want := auditActions(t, s, audit.TargetRole, "billing-reader"), []string{string(audit.RoleCreate), string(audit.RoleUpdate), string(audit.RoleDelete)}; !slices.Equal(got, want) {
			t.Errorf("the role's audit entries: %v, want %v", got, want)
		}
		if got := auditActions(t, s, audit.TargetAccount, accountID(t, s, "bob")); !slices.Equal(got, []string{string(audit.RolesAssign)}) {
			t.Errorf("bob's audit entries: %v", got)
		}
	})
}

// C4: a resource and a role the configuration file declares are shown
// read-only and every change to them is refused in words; so are the
// role lists the file gives its users and clients. A declared role can
// still be given to an account whose roles the file does not list.
func TestDeclaredResourcesAndRolesAreReadOnly(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}).WithOrders())
	b, _ := signedIn(t, s)
	orders := resourcePath(sesametest.OrdersAPI)

	// Every page of the section is framed as the console's others: the
	// section current in the nav, who is signed in, the page's rules.
	for _, path := range []string{"/console/resources", orders, "/console/roles", "/console/roles/admin", "/console/roles/orders-reader"} {
		p := b.Get(s.ConsoleURL(path))
		wantPage(t, path, p, http.StatusOK, signedInWords, `aria-current="page">API resources`, `action="/console/sign-out"`)
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") ||
			p.Header.Get("Cache-Control") != "no-store" || strings.Contains(p.Body, "<script") {
			t.Errorf("%s: headers %v", path, p.Header)
		}
	}
	for _, path := range []string{resourcePath("https://api.example.com/none"), "/console/roles/none"} {
		wantPage(t, path, b.Get(s.ConsoleURL(path)), http.StatusNotFound, "There is no ", signedInWords)
	}

	p := b.Get(s.ConsoleURL(orders))
	wantPage(t, "a declared resource", p, http.StatusOK, "declared in the configuration file", "<code>read:orders</code>, <code>write:orders</code>", `href="/console/roles/orders-reader"`)
	if strings.Contains(p.Body, `action="`+orders) {
		t.Errorf("a declared resource's page has a form:\n%s", p.Body)
	}
	for _, path := range []string{orders, orders + "/delete"} {
		got := b.ConsolePost(p, path, url.Values{"name": {"Taken over"}, "scopes": {"read:orders"}})
		wantPage(t, "POST "+path, got, http.StatusConflict, "API resource "+sesametest.OrdersAPI+" is managed by the configuration file: change it there")
	}
	if api, ok := apiResource(t, s, sesametest.OrdersAPI); !ok || api.Name != "Orders API" || len(api.Scopes) != 2 {
		t.Errorf("the declared resource changed: %+v %v", api, ok)
	}

	p = b.Get(s.ConsoleURL("/console/roles/orders-reader"))
	wantPage(t, "a declared role", p, http.StatusOK, "declared in the configuration file", "<code>read:orders</code>")
	if strings.Contains(p.Body, `name="perm"`) || strings.Contains(p.Body, "/delete") {
		t.Errorf("a declared role's page offers to change it:\n%s", p.Body)
	}
	got := b.ConsolePost(p, "/console/roles/orders-reader", url.Values{"perm": {sesametest.OrdersAPI + " write:orders"}})
	wantPage(t, "saving a declared role", got, http.StatusConflict, "role orders-reader is managed by the configuration file")
	got = b.ConsolePost(p, "/console/roles/orders-reader/delete", nil)
	wantPage(t, "deleting a declared role", got, http.StatusConflict, "role orders-reader is managed by the configuration file")
	if role, ok := storedRole(t, s, sesametest.OrdersReader); !ok || !slices.Equal(role.Permissions[sesametest.OrdersAPI], []string{"read:orders"}) {
		t.Errorf("the declared role changed: %+v %v", role, ok)
	}

	// alice's and the worker's roles are the file's.
	if !strings.Contains(p.Body, "Its roles are listed in the configuration file.") {
		t.Errorf("the declared holders are not marked:\n%s", p.Body)
	}
	got = b.ConsolePost(p, "/console/roles/orders-reader/remove", url.Values{"account": {accountID(t, s, "alice")}})
	wantPage(t, "taking the role from alice", got, http.StatusConflict, "the role list of user alice is managed by the configuration file")
	got = b.ConsolePost(p, "/console/roles/orders-reader/remove", url.Values{"client": {sesametest.Worker}})
	wantPage(t, "taking the role from the worker", got, http.StatusConflict, "the role list of client worker is managed by the configuration file")
	got = b.ConsolePost(p, "/console/roles/orders-reader/add", url.Values{"client": {sesametest.Worker}})
	wantPage(t, "giving the worker a role", got, http.StatusConflict, "the role list of client worker is managed by the configuration file")
	if got := accountRoles(t, s, "alice"); !slices.Contains(got, sesametest.OrdersReader) {
		t.Errorf("alice lost the declared role: %v", got)
	}
	if roles, _ := s.Store.ClientRoles(t.Context(), sesametest.Worker); !slices.Equal(roles, []string{sesametest.OrdersReader}) {
		t.Errorf("the worker's roles changed: %v", roles)
	}

	got = b.ConsolePost(p, "/console/roles/orders-reader/add", url.Values{"username": {"bob"}})
	wantPage(t, "giving bob the declared role", got, http.StatusOK, "The role is given")
	if got := accountRoles(t, s, "bob"); !slices.Equal(got, []string{sesametest.OrdersReader}) {
		t.Errorf("bob's roles: %v", got)
	}
}

// C5: the built-in admin role holds no permissions and cannot be
// deleted or made again, but its holders are managed here: an m2m app
// (a web app is refused), and bob, who then opens the console; taking
// his own admin role away asks him first, then closes the console to
// him.
func TestTheAdminRoleIsBuiltIn(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}).WithOrders())
	b, _ := signedIn(t, s)

	p := b.Get(s.ConsoleURL("/console/roles/admin"))
	wantPage(t, "the admin role", p, http.StatusOK, "It holds no permissions on API resources and cannot be deleted", `href="/console/users/`+accountID(t, s, "alice")+`"`, `<span class="badge">you</span>`)
	if strings.Contains(p.Body, `name="perm"`) || strings.Contains(p.Body, "/console/roles/admin/delete") {
		t.Errorf("the admin role's page offers to change it:\n%s", p.Body)
	}
	got := b.ConsolePost(p, "/console/roles/admin/delete", nil)
	wantPage(t, "deleting the admin role", got, http.StatusConflict, "role admin is built in and cannot be removed")
	got = b.ConsolePost(p, "/console/roles/admin", url.Values{"perm": {sesametest.OrdersAPI + " read:orders"}})
	wantPage(t, "giving the admin role permissions", got, http.StatusConflict, "it holds no permissions")
	got = b.ConsolePost(p, "/console/roles", url.Values{"name": {"admin"}})
	wantPage(t, "creating the admin role", got, http.StatusConflict, "a role admin exists already")
	if role, ok := storedRole(t, s, "admin"); !ok || len(role.Permissions) != 0 {
		t.Errorf("the admin role: %+v %v", role, ok)
	}

	// An m2m app holds it and lets it go; a web app holds no role.
	got = b.ConsolePost(p, "/console/roles/admin/add", url.Values{"client": {sesametest.Robot}})
	wantPage(t, "giving robot the admin role", got, http.StatusOK, "The role is given", `href="/console/apps/robot"`)
	if roles, _ := s.Store.ClientRoles(t.Context(), sesametest.Robot); !slices.Equal(roles, []string{"admin"}) {
		t.Errorf("robot's roles: %v", roles)
	}
	got = b.ConsolePost(got, "/console/roles/admin/remove", url.Values{"client": {sesametest.Robot}})
	wantPage(t, "taking it from robot", got, http.StatusOK, "The role is taken away")
	if roles, _ := s.Store.ClientRoles(t.Context(), sesametest.Robot); len(roles) != 0 {
		t.Errorf("robot's roles: %v", roles)
	}
	got = b.ConsolePost(p, "/console/roles/admin/add", url.Values{"client": {sesametest.AppA}})
	wantPage(t, "giving a web app the admin role", got, http.StatusBadRequest, "client app-a is web: only m2m clients hold roles")
	if strings.Contains(p.Body, `<option value="app-a">`) {
		t.Error("a web app is offered the role")
	}

	// bob, made admin here, opens the console.
	got = b.ConsolePost(p, "/console/roles/admin/add", url.Values{"username": {"bob"}})
	wantPage(t, "giving bob the admin role", got, http.StatusOK, "The role is given")
	bob := s.NewBrowser(t)
	bp := bob.OpenConsole("bob")
	wantPage(t, "bob's console", bp, http.StatusOK, "<h1>Apps</h1>")
	bp = bob.Get(s.ConsoleURL("/console/roles/admin"))
	wantPage(t, "bob on the admin role", bp, http.StatusOK, "Yes, remove my admin role")

	// Removing his own role asks first, and changes nothing until he
	// confirms.
	bobID := accountID(t, s, "bob")
	ask := bob.ConsolePost(bp, "/console/roles/admin/remove", url.Values{"account": {bobID}})
	wantPage(t, "bob removing his own role", ask, http.StatusOK, "Remove your own admin role?", `name="confirm" value="yes"`)
	if got := accountRoles(t, s, "bob"); !slices.Equal(got, []string{"admin"}) {
		t.Fatalf("bob's roles before he confirmed: %v", got)
	}
	done := bob.ConsolePost(ask, "/console/roles/admin/remove", url.Values{"account": {bobID}, "confirm": {"yes"}})
	wantPage(t, "bob confirming", done, http.StatusOK, "You no longer hold the admin role")
	if got := accountRoles(t, s, "bob"); len(got) != 0 {
		t.Errorf("bob's roles after he confirmed: %v", got)
	}
	if after := bob.Get(s.ConsoleURL("/console/roles")); after.Status != http.StatusForbidden || !strings.Contains(after.Body, notAdminWords) {
		t.Errorf("bob's next page: %d\n%s", after.Status, after.Body)
	}
	// Each change names who made it: alice gave, bob took his own.
	entries, err := s.Store.AuditEntries(t.Context(), store.AuditFilter{TargetKind: string(audit.TargetAccount), TargetID: bobID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actors []string
	for _, e := range slices.Backward(entries) {
		if e.Action == string(audit.RolesAssign) && e.ActorKind == string(audit.ActorAdminAccount) {
			actors = append(actors, e.ActorID)
		}
	}
	if want := []string{accountID(t, s, "alice"), bobID}; !slices.Equal(actors, want) {
		t.Errorf("the actors of bob's role changes: %v, want %v", actors, want)
	}
}

// A person without the admin role posting the section's real forms
// changes nothing; a cross-site post of them by an admin neither.
func TestResourceFormsRefuseOthers(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}).WithOrders())
	b, p := signedIn(t, s)
	bob := s.NewBrowser(t)
	refusal := bob.OpenConsole("bob")
	if refusal.Status != http.StatusForbidden {
		t.Fatalf("bob opening the console: %d", refusal.Status)
	}
	posts := []struct {
		path   string
		fields url.Values
	}{
		{"/console/resources", url.Values{"indicator": {billing}, "scopes": {"read:invoices"}}},
		{resourcePath(sesametest.OrdersAPI) + "", url.Values{"name": {"x"}}},
		{"/console/roles", url.Values{"name": {"taken"}}},
		{"/console/roles/admin/add", url.Values{"username": {"bob"}}},
		{"/console/roles/orders-reader/add", url.Values{"username": {"bob"}}},
		{"/console/roles/admin/remove", url.Values{"account": {accountID(t, s, "alice")}, "confirm": {"yes"}}},
	}
	for _, post := range posts {
		if got := bob.ConsolePost(refusal, post.path, post.fields); got.Status != http.StatusForbidden || !strings.Contains(got.Body, notAdminWords) {
			t.Errorf("bob posting %s: %d", post.path, got.Status)
		}
		if got := b.ConsolePostFrom("cross-site", p, post.path, post.fields); got.Status != http.StatusForbidden || !strings.Contains(got.Body, crossSiteWords) {
			t.Errorf("a cross-site post to %s: %d", post.path, got.Status)
		}
	}
	if _, ok := apiResource(t, s, billing); ok {
		t.Error("a refused post created a resource")
	}
	if _, ok := storedRole(t, s, "taken"); ok {
		t.Error("a refused post created a role")
	}
	if got := accountRoles(t, s, "bob"); len(got) != 0 {
		t.Errorf("a refused post gave bob roles: %v", got)
	}
	if got := accountRoles(t, s, "alice"); !slices.Contains(got, "admin") {
		t.Errorf("a refused post took alice's role: %v", got)
	}
}
