package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// accessTokenIn reads access_token from a token response.
func accessTokenIn(t *testing.T, body []byte) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("no access token in %s: %v", body, err)
	}
	return tok.AccessToken
}

// names lists the values of key in items.
func names(items []any, key string) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.(map[string]any)[key].(string))
	}
	return out
}

// R1 by API: an API resource is registered with its indicator in the
// body, listed, and replaced at its URL-escaped indicator; bad input is a
// 400 naming the field, and each change is audited as made by the admin
// client.
func TestAPIManagesAPIResources(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		manageAPIResources(t, sesametest.New(t, opts.WithOrders()))
	})
}

func manageAPIResources(t *testing.T, s *sesametest.Sesame) {
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	if st, got := (apiClient{t, s, ""}).do("POST", "/api/resources", map[string]any{"indicator": "https://x.example/api"}); st != 401 {
		t.Errorf("without a token: %d %v", st, got)
	}
	const ind = "https://api.example.com/billing"
	st, got := api.do("POST", "/api/resources", map[string]any{"indicator": ind, "name": "Billing", "scopes": []string{"read:bills"}, "access_token_ttl": 600})
	if st != 201 || got["indicator"] != ind || got["access_token_ttl"] != 600.0 || got["declared"] != false {
		t.Fatalf("create: %d %v", st, got)
	}
	if st, got := api.do("POST", "/api/resources", map[string]any{"indicator": ind}); st != 409 || got["field"] != "indicator" {
		t.Errorf("create twice: %d %v", st, got)
	}
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"indicator": "not a uri"}, "indicator"},
		{map[string]any{"indicator": "https://x.example/api#frag"}, "indicator"},
		{map[string]any{"indicator": "https://x.example/api", "scopes": []string{"a", "a"}}, "scopes"},
		{map[string]any{"indicator": "https://x.example/api", "access_token_ttl": -1}, "access_token_ttl"},
		{map[string]any{"indicator": "https://x.example/api", "colour": "red"}, "colour"},
	} {
		if st, got := api.do("POST", "/api/resources", bad.body); st != 400 || got["field"] != bad.field {
			t.Errorf("create %v: %d %v, want 400 on %s", bad.body, st, got, bad.field)
		}
	}
	st, list := api.do("GET", "/api/resources", nil)
	if items, _ := list["resources"].([]any); st != 200 || !slices.Equal(names(items, "indicator"), []string{ind, sesametest.OrdersAPI}) {
		t.Fatalf("list: %d %v", st, list)
	}

	path := "/api/resources/" + url.PathEscape(ind)
	st, got = api.do("PUT", path, map[string]any{"name": "Billing API", "scopes": []string{"read:bills", "write:bills"}, "access_token_ttl": 600})
	if st != 200 || got["name"] != "Billing API" || len(got["scopes"].([]any)) != 2 {
		t.Errorf("update: %d %v", st, got)
	}
	if st, got := api.do("PUT", path, map[string]any{"indicator": "https://other.example/", "name": "x"}); st != 400 || got["field"] != "indicator" {
		t.Errorf("update naming another indicator: %d %v", st, got)
	}
	if st, got := api.do("PUT", "/api/resources/"+url.PathEscape("https://nobody.example/api"), map[string]any{}); st != 404 {
		t.Errorf("update unknown: %d %v", st, got)
	}
	// C4: the file's resource is the file's.
	if st, got := api.do("PUT", "/api/resources/"+url.PathEscape(sesametest.OrdersAPI), map[string]any{"name": "Mine"}); st != 409 ||
		!strings.Contains(got["message"].(string), "managed by the configuration file") {
		t.Errorf("update declared: %d %v", st, got)
	}
	stored, err := s.Store.APIResources(t.Context())
	if err != nil || len(stored) != 2 || stored[0].Name != "Billing API" || stored[1].Name != "Orders API" {
		t.Errorf("stored: %+v %v", stored, err)
	}

	entries := api.auditOf("target_kind=resource")
	if len(entries) != 2 || entries[1]["action"] != "resource.create" || entries[0]["action"] != "resource.update" ||
		entries[0]["detail"] != "fields: name, scopes" {
		t.Fatalf("audit: %v", entries)
	}
	for _, e := range entries {
		actor := e["actor"].(map[string]any)
		if actor["kind"] != "admin_client" || actor["id"] != sesametest.Robot || e["target"].(map[string]any)["id"] != ind {
			t.Errorf("entry: %v", e)
		}
	}
}

// R1 by API: a role is created and its permissions replaced, checked
// against the resources' scopes; the file's roles, the built-in admin
// role among them, answer 409 (C4, C5).
func TestAPIManagesRoles(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) { manageRoles(t, sesametest.New(t, opts.WithOrders())) })
}

func manageRoles(t *testing.T, s *sesametest.Sesame) {
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	st, got := api.do("PUT", "/api/roles/orders-writer", map[string]any{"permissions": map[string]any{sesametest.OrdersAPI: []string{"write:orders"}}})
	if st != 201 || got["name"] != "orders-writer" || got["declared"] != false {
		t.Fatalf("create: %d %v", st, got)
	}
	st, got = api.do("PUT", "/api/roles/orders-writer", map[string]any{"permissions": map[string]any{sesametest.OrdersAPI: []string{"read:orders", "write:orders"}}})
	if perms, _ := got["permissions"].(map[string]any); st != 200 || len(perms[sesametest.OrdersAPI].([]any)) != 2 {
		t.Errorf("update: %d %v", st, got)
	}
	for _, bad := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"orders-writer", map[string]any{"permissions": map[string]any{sesametest.OrdersAPI: []string{"delete:orders"}}}, "permissions"},
		{"orders-writer", map[string]any{"permissions": map[string]any{"https://nobody.example/": []string{"x"}}}, "permissions"},
		{"bad%20name", map[string]any{}, "name"},
	} {
		if st, got := api.do("PUT", "/api/roles/"+bad.name, bad.body); st != 400 || got["field"] != bad.field {
			t.Errorf("PUT %s %v: %d %v, want 400 on %s", bad.name, bad.body, st, got, bad.field)
		}
	}
	for _, declared := range []string{sesametest.OrdersReader, resource.RoleAdmin} {
		if st, got := api.do("PUT", "/api/roles/"+declared, map[string]any{}); st != 409 {
			t.Errorf("PUT declared role %s: %d %v", declared, st, got)
		}
	}
	st, list := api.do("GET", "/api/roles", nil)
	if items, _ := list["roles"].([]any); st != 200 || !slices.Equal(names(items, "name"), []string{resource.RoleAdmin, sesametest.OrdersReader, "orders-writer"}) {
		t.Errorf("list: %d %v", st, list)
	}
	entries := api.auditOf("target_kind=role")
	if len(entries) != 2 || entries[1]["action"] != "role.create" || entries[0]["action"] != "role.update" ||
		entries[0]["target"].(map[string]any)["id"] != "orders-writer" {
		t.Errorf("audit: %v", entries)
	}
}

// R1, C5 by API: roles are given to an account and to an m2m client, not
// to a web client; an unknown role is a 400 naming it; the holders the
// file declares with roles are the file's (C4); a client that loses the
// admin role loses its admin tokens at once.
func TestAPIAssignsRoles(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) { assignRoles(t, sesametest.New(t, opts.WithOrders())) })
}

func assignRoles(t *testing.T, s *sesametest.Sesame) {
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	bob, err := s.Store.AccountByUsername(t.Context(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	st, got := api.do("PUT", "/api/accounts/"+bob.ID+"/roles", map[string]any{"roles": []string{sesametest.OrdersReader}})
	if st != 200 || len(got["roles"].([]any)) != 1 {
		t.Fatalf("bob: %d %v", st, got)
	}
	if roles, err := s.Store.AccountRoles(t.Context(), bob.ID); err != nil || !slices.Equal(roles, []string{sesametest.OrdersReader}) {
		t.Errorf("bob's stored roles: %v %v", roles, err)
	}
	if st, got := api.do("PUT", "/api/accounts/"+bob.ID+"/roles", map[string]any{"roles": []string{"nobody-role"}}); st != 400 ||
		got["field"] != "roles" || !strings.Contains(got["message"].(string), "nobody-role") {
		t.Errorf("unknown role: %d %v", st, got)
	}
	alice, _ := s.Store.AccountByUsername(t.Context(), "alice")
	if st, got := api.do("PUT", "/api/accounts/"+alice.ID+"/roles", map[string]any{"roles": []string{}}); st != 409 {
		t.Errorf("alice's declared roles: %d %v", st, got)
	}
	if st, got := api.do("PUT", "/api/clients/"+sesametest.Worker+"/roles", map[string]any{"roles": []string{}}); st != 409 {
		t.Errorf("worker's declared roles: %d %v", st, got)
	}
	if st, got := api.do("PUT", "/api/clients/"+sesametest.AppA+"/roles", map[string]any{"roles": []string{sesametest.OrdersReader}}); st != 400 || got["field"] != "roles" {
		t.Errorf("a web client: %d %v", st, got)
	}
	if st, got := api.do("PUT", "/api/accounts/nobody/roles", map[string]any{"roles": []string{}}); st != 404 {
		t.Errorf("unknown account: %d %v", st, got)
	}

	st, c := api.do("POST", "/api/clients", map[string]any{"id": "svc", "type": "m2m"})
	if st != 201 {
		t.Fatalf("create svc: %d %v", st, c)
	}
	if st, got := api.do("PUT", "/api/clients/svc/roles", map[string]any{"roles": []string{resource.RoleAdmin, sesametest.OrdersReader}}); st != 200 {
		t.Fatalf("svc: %d %v", st, got)
	}
	resp, body := s.PostForm(t, "/token", "svc", c["secret"].(string), url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}})
	if resp.StatusCode != 200 {
		t.Fatalf("svc's admin token: %d %s", resp.StatusCode, body)
	}
	svc := apiClient{t, s, accessTokenIn(t, body)}
	if st, _ := svc.do("GET", "/api/roles", nil); st != 200 {
		t.Fatalf("svc as admin: %d", st)
	}
	if st, got := api.do("PUT", "/api/clients/svc/roles", map[string]any{"roles": []string{sesametest.OrdersReader}}); st != 200 {
		t.Fatalf("svc demoted: %d %v", st, got)
	}
	if st, _ := svc.do("GET", "/api/roles", nil); st != 401 {
		t.Errorf("svc's admin token after losing the role: %d, want 401", st)
	}
	// Giving the same roles again changes nothing and records nothing.
	if st, _ := api.do("PUT", "/api/clients/svc/roles", map[string]any{"roles": []string{sesametest.OrdersReader}}); st != 200 {
		t.Errorf("same roles: %d", st)
	}

	entries := api.auditOf("action=roles.assign")
	want := []struct{ kind, id, account, detail string }{
		{"client", "svc", "", "roles: orders-reader (were: admin orders-reader)"},
		{"client", "svc", "", "roles: admin orders-reader (were: none)"},
		{"account", bob.ID, bob.ID, "roles: orders-reader (were: none)"},
	}
	if len(entries) != len(want) {
		t.Fatalf("audit: %v", entries)
	}
	for i, w := range want {
		e := entries[i]
		target := e["target"].(map[string]any)
		acct, _ := e["account_id"].(string)
		if target["kind"] != w.kind || target["id"] != w.id || acct != w.account || e["detail"] != w.detail ||
			e["actor"].(map[string]any)["id"] != sesametest.Robot {
			t.Errorf("entry %d: %v, want %+v", i, e, w)
		}
	}
}

// remove sends DELETE to path: its status, and the JSON body of an
// error (a success has none).
func (c apiClient) remove(path string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest("DELETE", c.s.URL+path, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			c.t.Fatalf("DELETE %s answered %d with %q", path, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, m
}

// R1, R2, C4 by API: removing an API resource takes every role's
// permission on it; grants keep the resource they recorded, and from then
// on the token endpoint answers invalid_target for it, and introspection
// inactive for the JWTs issued for it, while the grant's other tokens go
// on. The file's resources are refused, an unknown one is
// 404, and the removal is audited.
func TestAPIDeletesAPIResources(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		deleteAPIResources(t, sesametest.New(t, opts.WithOrders()))
	})
}

func deleteAPIResources(t *testing.T, s *sesametest.Sesame) {
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	const billing = "https://api.example.com/billing"
	path := "/api/resources/" + url.PathEscape(billing)
	if st, got := api.do("POST", "/api/resources", map[string]any{"indicator": billing, "name": "Billing", "scopes": []string{"read:bills"}}); st != 201 {
		t.Fatalf("create: %d %v", st, got)
	}
	for name, perms := range map[string]map[string]any{
		"billing-reader": {billing: []string{"read:bills"}},
		"mixed":          {billing: []string{"read:bills"}, sesametest.OrdersAPI: []string{"read:orders"}},
	} {
		if st, got := api.do("PUT", "/api/roles/"+name, map[string]any{"permissions": perms}); st != 201 {
			t.Fatalf("role %s: %d %v", name, st, got)
		}
	}
	bob, err := s.Store.AccountByUsername(t.Context(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if st, got := api.do("PUT", "/api/accounts/"+bob.ID+"/roles", map[string]any{"roles": []string{"billing-reader"}}); st != 200 {
		t.Fatalf("bob's roles: %d %v", st, got)
	}
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "bob", url.Values{
		"scope": {"openid read:bills offline_access"}, "prompt": {"consent"}, "resource": {billing}})
	refresh := func(rt string, resource ...string) sesametest.Tokens {
		t.Helper()
		return s.Token(t, sesametest.AppA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": resource})
	}
	jwt := refresh(tok.RefreshToken, billing)
	if jwt.Status != 200 || jwt.Scope != "read:bills" {
		t.Fatalf("a token for billing while it is registered: %d %v", jwt.Status, jwt.Raw)
	}

	if st, got := (apiClient{t, s, ""}).remove(path); st != 401 {
		t.Errorf("without a token: %d %v", st, got)
	}
	if st, got := api.remove("/api/resources/" + url.PathEscape(sesametest.OrdersAPI)); st != 409 ||
		!strings.Contains(got["message"].(string), "managed by the configuration file") {
		t.Errorf("delete declared: %d %v", st, got)
	}
	if st, got := api.remove("/api/resources/" + url.PathEscape("https://nobody.example/api")); st != 404 {
		t.Errorf("delete unknown: %d %v", st, got)
	}
	if st, got := api.remove(path); st != 204 || got != nil {
		t.Fatalf("delete: %d %v", st, got)
	}
	if st, _ := api.remove(path); st != 404 {
		t.Errorf("delete twice: %d", st)
	}

	// R2: the resource is gone for the token endpoint at once; the grant
	// and its refresh token are not.
	if r := refresh(jwt.RefreshToken, billing); r.Status != 400 || r.Error != "invalid_target" {
		t.Errorf("a token for the removed resource: %d %v", r.Status, r.Raw)
	}
	// R1: a JWT issued for it before is inactive at introspection (APIs
	// verifying it offline take it until it expires).
	if got := s.Introspect(t, sesametest.AppA, jwt.AccessToken); got["active"] != false {
		t.Errorf("a JWT for the removed resource at introspection: %v", got)
	}
	if r := refresh(jwt.RefreshToken); r.Status != 200 || strings.Contains(r.AccessToken, ".") {
		t.Errorf("the grant's refresh token after the removal: %d %v", r.Status, r.Raw)
	}
	grants, err := s.Store.GrantsByAccount(t.Context(), bob.ID)
	if err != nil || len(grants) != 1 || !slices.Equal(grants[0].Resources[billing], []string{"read:bills"}) {
		t.Errorf("bob's grant after the removal: %+v %v", grants, err)
	}

	st, list := api.do("GET", "/api/roles", nil)
	perms := map[string]map[string]any{}
	for _, it := range list["roles"].([]any) {
		role := it.(map[string]any)
		perms[role["name"].(string)] = role["permissions"].(map[string]any)
	}
	if st != 200 || len(perms["billing-reader"]) != 0 || len(perms["mixed"]) != 1 || perms["mixed"][sesametest.OrdersAPI] == nil {
		t.Errorf("roles after the removal: %d %v", st, perms)
	}
	if st, list := api.do("GET", "/api/resources", nil); st != 200 || !slices.Equal(names(list["resources"].([]any), "indicator"), []string{sesametest.OrdersAPI}) {
		t.Errorf("resources after the removal: %d %v", st, list)
	}

	entries := api.auditOf("action=resource.delete")
	if len(entries) != 1 || entries[0]["target"].(map[string]any)["id"] != billing ||
		entries[0]["detail"] != "permissions removed from roles: billing-reader mixed" {
		t.Errorf("audit: %v", entries)
	}
}

// R1, C4, C5 by API: removing a role takes it from every holder, so a
// role made again under its name is held by nobody; the file's roles and
// the built-in admin role are refused, an unknown one is 404, and the
// removal is audited.
func TestAPIDeletesRoles(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) { deleteRoles(t, sesametest.New(t, opts.WithOrders())) })
}

func deleteRoles(t *testing.T, s *sesametest.Sesame) {
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	writer := map[string]any{"permissions": map[string]any{sesametest.OrdersAPI: []string{"write:orders"}}}
	if st, got := api.do("PUT", "/api/roles/orders-writer", writer); st != 201 {
		t.Fatalf("create: %d %v", st, got)
	}
	bob, _ := s.Store.AccountByUsername(t.Context(), "bob")
	if st, got := api.do("PUT", "/api/accounts/"+bob.ID+"/roles", map[string]any{"roles": []string{"orders-writer", sesametest.OrdersReader}}); st != 200 {
		t.Fatalf("bob: %d %v", st, got)
	}
	st, c := api.do("POST", "/api/clients", map[string]any{"id": "svc", "type": "m2m"})
	if st != 201 {
		t.Fatalf("svc: %d %v", st, c)
	}
	if st, got := api.do("PUT", "/api/clients/svc/roles", map[string]any{"roles": []string{"orders-writer"}}); st != 200 {
		t.Fatalf("svc's roles: %d %v", st, got)
	}
	svcToken := func() (int, string) {
		resp, body := s.PostForm(t, "/token", "svc", c["secret"].(string),
			url.Values{"grant_type": {"client_credentials"}, "resource": {sesametest.OrdersAPI}})
		return resp.StatusCode, string(body)
	}
	if st, body := svcToken(); st != 200 || !strings.Contains(body, `"scope":"write:orders"`) {
		t.Fatalf("svc's token through orders-writer: %d %s", st, body)
	}

	for _, c := range []struct {
		name, want string
		status     int
	}{
		{sesametest.OrdersReader, "managed by the configuration file", 409},
		{resource.RoleAdmin, "cannot be removed", 409},
		{"nobody-role", "no role nobody-role", 404},
	} {
		if st, got := api.remove("/api/roles/" + c.name); st != c.status || !strings.Contains(got["message"].(string), c.want) {
			t.Errorf("DELETE %s: %d %v, want %d saying %q", c.name, st, got, c.status, c.want)
		}
	}
	if st, got := api.remove("/api/roles/orders-writer"); st != 204 || got != nil {
		t.Fatalf("delete: %d %v", st, got)
	}
	if roles, err := s.Store.AccountRoles(t.Context(), bob.ID); err != nil || !slices.Equal(roles, []string{sesametest.OrdersReader}) {
		t.Errorf("bob's roles after the removal: %v %v", roles, err)
	}
	if roles, err := s.Store.ClientRoles(t.Context(), "svc"); err != nil || len(roles) != 0 {
		t.Errorf("svc's roles after the removal: %v %v", roles, err)
	}
	// Made again, it is held by nobody.
	if st, got := api.do("PUT", "/api/roles/orders-writer", writer); st != 201 {
		t.Fatalf("made again: %d %v", st, got)
	}
	if roles, _ := s.Store.AccountRoles(t.Context(), bob.ID); slices.Contains(roles, "orders-writer") {
		t.Errorf("bob holds the role made again: %v", roles)
	}
	// The server's registry forgot too: svc's roles permit nothing.
	if st, body := svcToken(); st != 400 || !strings.Contains(body, "invalid_scope") {
		t.Errorf("svc's token once the role is removed: %d %s", st, body)
	}

	entries := api.auditOf("action=role.delete")
	if len(entries) != 1 || entries[0]["target"].(map[string]any)["id"] != "orders-writer" ||
		entries[0]["detail"] != "permissions on: "+sesametest.OrdersAPI {
		t.Errorf("audit: %v", entries)
	}
}
