package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// apiClient calls the admin API with a bearer token.
type apiClient struct {
	t     *testing.T
	s     *sesametest.Sesame
	token string
}

func adminToken(t *testing.T, s *sesametest.Sesame, clientID, scope string) string {
	t.Helper()
	tok := s.Token(t, clientID, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
	if tok.Status != 200 {
		t.Fatalf("client_credentials for %s: %+v", clientID, tok.Raw)
	}
	return tok.AccessToken
}

func (c apiClient) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	return c.doWith(nil, method, path, body)
}

// doWith is do with extra request headers.
func (c apiClient) doWith(h http.Header, method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, c.s.URL+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		c.t.Fatalf("%s %s answered %d with no JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, m
}

// Every API call without a valid admin token answers 401, with a
// non-admin token 403.
func TestAPINeedsAnAdminToken(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	worker := adminToken(t, s, sesametest.Worker, "")
	user := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil).AccessToken
	api := &admin.API{}
	for _, rt := range api.Routes() {
		if rt.Pattern == "/api/openapi.json" {
			continue
		}
		path := strings.ReplaceAll(rt.Pattern, "{id}", "x")
		for name, want := range map[string]struct {
			token  string
			status int
		}{"none": {"", 401}, "garbage": {"garbage", 401}, "m2m without scope": {worker, 403}, "a person's token": {user, 403}} {
			if st, m := (apiClient{t, s, want.token}).do(rt.Method, path, nil); st != want.status || m["error"] == nil {
				t.Errorf("%s %s with %s token: %d %v, want %d", rt.Method, path, name, st, m, want.status)
			}
		}
	}
}

// Clients: a secret is shown once and stored hashed; bad input is a 400
// naming the field; unknown ids are 404 JSON.
func TestAPIClients(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	st, c := api.do("POST", "/api/clients", map[string]any{"id": "svc", "type": "m2m"})
	secret, _ := c["secret"].(string)
	if st != 201 || len(secret) < 40 {
		t.Fatalf("create: %d %v", st, c)
	}
	if tok := s.Token(t, "svc", url.Values{"grant_type": {"client_credentials"}}); tok.Status != 401 {
		// sesametest.Token authenticates with the shared test secret: the
		// client's own secret is another.
		t.Errorf("the test secret worked for a client with its own: %d", tok.Status)
	}
	resp, _ := s.PostForm(t, "/token", "svc", secret, url.Values{"grant_type": {"client_credentials"}})
	if resp.StatusCode != 200 {
		t.Errorf("the shown secret does not work: %d", resp.StatusCode)
	}
	if st, got := api.do("GET", "/api/clients/svc", nil); st != 200 || got["secret"] != nil {
		t.Errorf("read: %d %v", st, got)
	}
	if st, got := api.do("POST", "/api/clients", map[string]any{"id": "svc", "type": "m2m"}); st != 409 {
		t.Errorf("duplicate: %d %v", st, got)
	}
	bad := []struct {
		body  any
		field string
	}{
		{map[string]any{"id": "w", "type": "web", "redirect_uris": []string{"http://evil.example/cb"}}, "redirect_uris"},
		{map[string]any{"id": "w", "type": "desktop", "redirect_uris": []string{"https://w.example/cb"}}, "type"},
		{map[string]any{"id": "w", "type": "web", "first_party": "yes"}, "first_party"},
		{map[string]any{"id": "w", "type": "web", "colour": "red"}, "colour"},
		{`{"id": "w",`, ""},
	}
	for _, b := range bad {
		st, got := api.do("POST", "/api/clients", b.body)
		if st != 400 || got["field"] != nil && got["field"] != b.field || (b.field != "" && got["field"] != b.field) {
			t.Errorf("bad input %v: %d %v, want 400 on %q", b.body, st, got, b.field)
		}
	}
	if _, err := s.Store.Client(t.Context(), "w"); err == nil {
		t.Error("a refused client was half-written")
	}
	if st, got := api.do("POST", "/api/clients", strings.Repeat(" ", 70<<10)+"{}"); st != 400 || !strings.Contains(got["message"].(string), "larger than") {
		t.Errorf("oversized body: %d %v", st, got)
	}
	for _, p := range []string{"/api/clients/nobody", "/api/accounts/nobody", "/api/receipts/nobody", "/api/clients/nobody/deliveries"} {
		if st, got := api.do("GET", p, nil); st != 404 || got["error"] != "not_found" {
			t.Errorf("GET %s: %d %v", p, st, got)
		}
	}
	if st, got := api.do("DELETE", "/api/sessions/nobody", nil); st != 404 {
		t.Errorf("DELETE unknown session: %d %v", st, got)
	}
	if st, _ := api.do("GET", "/api/nothing-here", nil); st != 404 {
		t.Errorf("unknown path: %d", st)
	}
	st, got := api.do("PUT", "/api/clients/svc", map[string]any{"type": "m2m", "name": "Service", "rotate_secret": true})
	if st != 200 || got["secret"] == nil || got["secret"] == secret || got["name"] != "Service" {
		t.Errorf("rotate: %d %v", st, got)
	}
}

// O7, O9 by API: revoking a session sends back-channel logouts, and its
// receipt shows each delivery.
func TestAPIRevokesASessionAndShowsTheReceipt(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil)
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	st, list := api.do("GET", "/api/accounts/"+acct.ID+"/sessions", nil)
	sessions, _ := list["sessions"].([]any)
	if st != 200 || len(sessions) != 1 {
		t.Fatalf("sessions: %d %v", st, list)
	}
	id := sessions[0].(map[string]any)["id"].(string)
	st, done := api.do("DELETE", "/api/sessions/"+id, nil)
	if st != 200 || done["receipt"] == "" {
		t.Fatalf("revoke: %d %v", st, done)
	}
	if got := s.Apps[sesametest.AppA].WaitReceived(1, 5*time.Second); len(got) != 1 {
		t.Errorf("app-a got %d logout tokens", len(got))
	}
	st, rec := api.do("GET", "/api/receipts/"+done["receipt"].(string), nil)
	dels, _ := rec["deliveries"].([]any)
	if st != 200 || rec["cause"] != "admin" || len(dels) != 1 || dels[0].(map[string]any)["state"] != "delivered" {
		t.Errorf("receipt: %d %v", st, rec)
	}
	st, dl := api.do("GET", "/api/clients/app-a/deliveries?state=delivered", nil)
	if list, _ := dl["deliveries"].([]any); st != 200 || len(list) != 1 {
		t.Errorf("deliveries of app-a: %d %v", st, dl)
	}
	if st, _ := api.do("GET", "/api/accounts/"+acct.ID+"/grants", nil); st != 200 {
		t.Errorf("grants: %d", st)
	}
}

// The OpenAPI document is well formed and names every /api route.
func TestOpenAPIDocumentNamesEveryRoute(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	st, doc := apiClient{t, s, ""}.do("GET", "/api/openapi.json", nil)
	if st != 200 || doc["openapi"] != "3.1.0" {
		t.Fatalf("document: %d %v", st, doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Error("info.title and info.version are required")
	}
	paths, _ := doc["paths"].(map[string]any)
	routes := (&admin.API{}).Routes()
	n := 0
	for _, rt := range routes {
		item, _ := paths[rt.Pattern].(map[string]any)
		op, _ := item[strings.ToLower(rt.Method)].(map[string]any)
		if op == nil {
			t.Errorf("%s %s is not in the OpenAPI document", rt.Method, rt.Pattern)
			continue
		}
		if resp, _ := op["responses"].(map[string]any); len(resp) == 0 {
			t.Errorf("%s %s has no responses", rt.Method, rt.Pattern)
		}
	}
	for _, item := range paths {
		n += len(item.(map[string]any))
	}
	if n != len(routes) {
		t.Errorf("the document has %d operations, the API %d routes", n, len(routes))
	}
}

// Disabling an account by API ends every session, with back-channel
// logout; deleting a client kills its tokens; a failed delivery can be
// retried now.
func TestAPIAccountsClientsAndRetries(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil)
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	st, got := api.do("PATCH", "/api/accounts/"+acct.ID, map[string]any{"disabled": true})
	if st != 200 || got["disabled"] != true {
		t.Fatalf("disable: %d %v", st, got)
	}
	if ss, _ := s.Store.SessionsByAccount(t.Context(), acct.ID); len(ss) != 0 {
		t.Errorf("%d sessions survived disabling", len(ss))
	}
	if got := s.Apps[sesametest.AppA].WaitReceived(1, 5*time.Second); len(got) != 1 {
		t.Errorf("app-a got %d logout tokens", len(got))
	}
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 401 {
		t.Errorf("token of a disabled account: %d", st)
	}
	if st, got := api.do("PATCH", "/api/accounts/"+acct.ID, map[string]any{"password": "short"}); st != 400 || got["field"] != "password" {
		t.Errorf("short password: %d %v", st, got)
	}

	// A client registered outside the configuration file (the file's are
	// its own to remove, C4).
	if _, err := s.Clients.Upsert(t.Context(), client.Spec{ID: "app-x", Secret: sesametest.Secret, Type: client.TypeWeb,
		FirstParty: true, RedirectURIs: []string{sesametest.RedirectURI("app-x")}}); err != nil {
		t.Fatal(err)
	}
	bob := s.NewBrowser(t).SignedIn("app-x", "bob", nil)
	if st, _ := api.do("DELETE", "/api/clients/app-x", nil); st != 200 {
		t.Fatalf("delete client: %d", st)
	}
	if st, _ := s.UserInfo(t, bob.AccessToken); st != 401 {
		t.Errorf("a deleted client's token still works at userinfo: %d", st)
	}
	if st, _ := api.do("DELETE", "/api/clients/app-x", nil); st != 404 {
		t.Errorf("delete twice: %d", st)
	}

	s.Apps[sesametest.AppC].Answer(http.StatusBadRequest)
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppC, "bob", nil)
	b.Submit(b.Get(s.Issuer+"/session/end?client_id=app-c"), map[string]string{"logout": "true"})
	st, dl := api.do("GET", "/api/clients/app-c/deliveries?state=failed", nil)
	list, _ := dl["deliveries"].([]any)
	if st != 200 || len(list) != 1 {
		t.Fatalf("failed deliveries: %d %v", st, dl)
	}
	id := list[0].(map[string]any)["id"].(string)
	st, d := api.do("POST", "/api/deliveries/"+id+"/retry", nil)
	if st != 200 || d["state"] != "delivered" || d["attempts"] != float64(2) {
		t.Errorf("retry: %d %v", st, d)
	}
}

// The event log records sign-ins, failures, sign-outs, revoked grants and
// refresh reuse, and pages through them with cursors.
func TestAPIEventLog(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	b := s.NewBrowser(t)
	p := b.Get(s.AuthURL(sesametest.AppA, sesametest.Offline()))
	b.Submit(p, map[string]string{"username": "alice", "password": "wrong"})
	cb := sesametest.Landed(t, b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password}))
	tok := s.Exchange(t, sesametest.AppA, cb.Code, "")
	s.Refresh(t, sesametest.AppA, tok.RefreshToken)
	s.Refresh(t, sesametest.AppA, tok.RefreshToken) // reuse
	b.Submit(b.Get(s.Issuer+"/session/end?client_id=app-a"), map[string]string{"logout": "true"})

	kinds := map[string]int{}
	cursor := ""
	for pages := 0; pages < 20; pages++ {
		st, page := api.do("GET", "/api/events?limit=2&cursor="+cursor, nil)
		if st != 200 {
			t.Fatalf("events: %d %v", st, page)
		}
		for _, e := range page["events"].([]any) {
			kinds[e.(map[string]any)["kind"].(string)]++
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	for _, k := range []string{"sign_in_failed", "sign_in", "refresh_token_reuse", "grant_revoked", "sign_out"} {
		if kinds[k] == 0 {
			t.Errorf("no %s event in %v", k, kinds)
		}
	}
	if st, _ := api.do("GET", "/api/events?cursor=abc", nil); st != 400 {
		t.Errorf("bad cursor: %d", st)
	}
}

// C4: what the configuration file declares is the file's. The API refuses
// to replace or delete a declared client and to change a declared user's
// declared fields (409, "managed by the configuration file"); a declared
// user's password and lock, which the file does not hold, stay the API's.
func TestAPIRefusesToChangeWhatTheFileDeclares(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		c.Users = append(c.Users, account.Spec{Username: "locked", Password: sesametest.Password, Disabled: true},
			account.Spec{Username: "Dana", Password: sesametest.Password, Name: "Dana"})
	}})
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	alice, _ := s.Store.AccountByUsername(t.Context(), "alice")
	locked, _ := s.Store.AccountByUsername(t.Context(), "locked")
	dana, err := s.Store.AccountByUsername(t.Context(), "Dana")
	if err != nil {
		dana, _ = s.Store.AccountByUsername(t.Context(), "dana") // stored in its canonical form (A1)
	}
	for _, c := range []struct {
		rule         string
		method, path string
		body         any
		status       int
		field        string
	}{
		{"C4: a declared client", "PUT", "/api/clients/app-a", map[string]any{"type": "web", "redirect_uris": []string{"https://elsewhere.example/cb"}}, 409, ""},
		{"C4: a declared client's secret", "PUT", "/api/clients/robot", map[string]any{"type": "m2m", "admin": true, "rotate_secret": true}, 409, ""},
		{"C4: a declared client", "DELETE", "/api/clients/app-a", nil, 409, ""},
		{"C4: a declared user's email", "PATCH", "/api/accounts/" + alice.ID, map[string]any{"email": "mallory@example.com"}, 409, "email"},
		{"C4: a declared user's name", "PATCH", "/api/accounts/" + alice.ID, map[string]any{"name": "Mallory", "password": "a new password"}, 409, "name"},
		{"C4: a declared user's verification", "PATCH", "/api/accounts/" + alice.ID, map[string]any{"email_verified": false}, 409, "email_verified"},
		{"C4, A1: a declared user whose name the file spells in capitals", "PATCH", "/api/accounts/" + dana.ID, map[string]any{"name": "Mallory"}, 409, "name"},
		{"C4: a user the file disables", "PATCH", "/api/accounts/" + locked.ID, map[string]any{"disabled": false}, 409, "disabled"},
		{"C4: the file's own values change nothing", "PATCH", "/api/accounts/" + alice.ID, map[string]any{"email": "alice@example.com"}, 200, ""},
		{"C4, A5: a declared user's password", "PATCH", "/api/accounts/" + alice.ID, map[string]any{"password": "a new password"}, 200, ""},
		{"C4: a lock the file does not declare", "PATCH", "/api/accounts/" + alice.ID, map[string]any{"disabled": true}, 200, ""},
	} {
		st, got := api.do(c.method, c.path, c.body)
		msg, _ := got["message"].(string)
		if st != c.status || (c.status == 409 && (!strings.Contains(msg, "managed by the configuration file") || got["field"] != nilIfEmpty(c.field))) {
			t.Errorf("%s: %s %s %v: %d %v, want %d", c.rule, c.method, c.path, c.body, st, got, c.status)
		}
	}
	if c, _ := s.Store.Client(t.Context(), "app-a"); len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != sesametest.RedirectURI("app-a") {
		t.Errorf("app-a was changed: %v", c.RedirectURIs)
	}
	if a, _ := s.Store.Account(t.Context(), alice.ID); a.Name != "Alice Example" || a.Email != "alice@example.com" || !a.Disabled {
		t.Errorf("alice after the refused changes: %+v", a)
	}
}

// nilIfEmpty is field as the JSON answer holds it: absent when empty.
func nilIfEmpty(field string) any {
	if field == "" {
		return nil
	}
	return field
}

// C2: the admin API sets and shows a client's own require_pkce, so a
// confidential app that cannot send PKCE can be registered without the
// config file, and a public one cannot opt out.
func TestAPIClientRequirePKCE(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, admin.ScopeAdmin)}
	body := map[string]any{"id": "legacy", "type": "web", "redirect_uris": []string{"https://legacy.example/cb"}, "require_pkce": false}
	st, m := api.do("POST", "/api/clients", body)
	if st != http.StatusCreated || m["require_pkce"] != false {
		t.Fatalf("create with require_pkce false: %d %v", st, m)
	}
	if c, err := s.Store.Client(t.Context(), "legacy"); err != nil || c.RequirePKCE == nil || *c.RequirePKCE {
		t.Fatalf("stored: %+v %v", c.RequirePKCE, err)
	}
	body = map[string]any{"id": "spa-x", "type": "spa", "redirect_uris": []string{"https://spa-x.example/cb"}, "require_pkce": false}
	if st, m := api.do("POST", "/api/clients", body); st != http.StatusBadRequest {
		t.Errorf("a public client opting out of PKCE: %d %v", st, m)
	}
}

// page is one page of a listing: its items and its next cursor.
type page struct {
	items []map[string]any
	next  string
}

// list GETs path and returns the items under key and the next cursor.
func (c apiClient) list(path, key string) page {
	c.t.Helper()
	st, m := c.do("GET", path, nil)
	if st != 200 {
		c.t.Fatalf("GET %s: %d %v", path, st, m)
	}
	items, ok := m[key].([]any)
	if !ok {
		c.t.Fatalf("GET %s: no %s list in %v", path, key, m)
	}
	p := page{}
	for _, it := range items {
		p.items = append(p.items, it.(map[string]any))
	}
	p.next, _ = m["next_cursor"].(string)
	return p
}

// listAll follows next_cursor from path (which has a query) and returns
// field of every item, in order.
func (c apiClient) listAll(path, key, field string) []string {
	c.t.Helper()
	var out []string
	cursor := ""
	for pages := 0; pages < 50; pages++ {
		p := c.list(path+"&cursor="+url.QueryEscape(cursor), key)
		for _, it := range p.items {
			out = append(out, fmt.Sprint(it[field]))
		}
		if p.next == "" {
			return out
		}
		cursor = p.next
	}
	c.t.Fatalf("GET %s: more than 50 pages", path)
	return nil
}

// The admin API lists every account in username order, a page at a time,
// and finds accounts by the start of their username, compared in its
// canonical form (A1: case and width do not matter), or of their email,
// A to Z in either case.
func TestAPIListsAndSearchesAccounts(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, admin.ScopeAdmin)}
	for _, a := range []map[string]any{
		{"username": "Carol", "email": "Carol.Smith@Example.com"},
		{"username": "carl"},
		{"username": "dave", "email": "Cartographer@example.org"},
		{"username": "erin", "email": "erin@example.net"},
	} {
		a["password"] = sesametest.Password
		if st, m := api.do("POST", "/api/accounts", a); st != 201 {
			t.Fatalf("create %v: %d %v", a["username"], st, m)
		}
	}
	everyone := []string{"alice", "bob", "carl", "carol", "dave", "erin"}
	for _, limit := range []string{"1", "4", "500"} {
		if got := api.listAll("/api/accounts?limit="+limit, "accounts", "username"); !slices.Equal(got, everyone) {
			t.Errorf("every account, limit %s: %v, want %v", limit, got, everyone)
		}
	}
	if p := api.list("/api/accounts?limit=6", "accounts"); len(p.items) != 6 || p.next != "" {
		t.Errorf("a page holding the last account offers another: %d items, next %q", len(p.items), p.next)
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"car", []string{"carl", "carol", "dave"}}, // two usernames and an email
		{"CAR", []string{"carl", "carol", "dave"}}, // A1: the username's case does not matter
		{"ＣＡＲＯ", []string{"carol"}},                // nor its width
		{"carol.smith@EXAMPLE", []string{"carol"}}, // the email, A to Z in either case
		{"  erin@example.net ", []string{"erin"}},  // spaces around are dropped
		{"example", nil},     // a prefix, not a substring
		{"carol smith", nil}, // no username holds a space
		{"zz", nil},
	} {
		got := api.listAll("/api/accounts?limit=1&q="+url.QueryEscape(c.q), "accounts", "username")
		if !slices.Equal(got, c.want) {
			t.Errorf("q=%q: %v, want %v", c.q, got, c.want)
		}
	}
	p := api.list("/api/accounts?q=carol", "accounts")
	if len(p.items) != 1 || p.items[0]["email"] != "Carol.Smith@Example.com" || p.items[0]["id"] == "" || p.items[0]["password_hash"] != nil {
		t.Errorf("an account as listed: %v", p.items)
	}
	for _, bad := range []struct{ query, field string }{
		{"cursor=_w", "cursor"}, // base64url of a byte that is no UTF-8
		{"cursor=" + url.QueryEscape("not base64!"), "cursor"},
		{"q=%FF", "q"},
		{"q=" + strings.Repeat("a", 321), "q"},
	} {
		if st, m := api.do("GET", "/api/accounts?"+bad.query, nil); st != 400 || m["field"] != bad.field {
			t.Errorf("GET /api/accounts?%.40s: %d %v, want 400 on %s", bad.query, st, m, bad.field)
		}
	}
}

// auditOf lists the audit log with the query, newest first.
func (c apiClient) auditOf(query string) []map[string]any {
	c.t.Helper()
	return c.list("/api/audit?limit=500&"+query, "entries").items
}

// Every change made through the admin API is in the audit log: the admin
// client that made it (from its token), the request's address, what was
// done and to what, and never a password or secret. A refused change
// records nothing.
func TestAPIRecordsEveryChangeInTheAuditLog(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, admin.ScopeAdmin)}
	type want struct{ action, targetKind, targetID, account string }
	var wants []want
	expect := func(action, targetKind, targetID, account string) {
		wants = append(wants, want{action, targetKind, targetID, account})
	}
	mustDo := func(status int, method, path string, body any) map[string]any {
		t.Helper()
		st, m := api.do(method, path, body)
		if st != status {
			t.Fatalf("%s %s: %d %v, want %d", method, path, st, m, status)
		}
		return m
	}

	carol := mustDo(201, "POST", "/api/accounts", map[string]any{"username": "carol", "password": sesametest.Password})
	id := carol["id"].(string)
	expect("account.create", "account", id, id)
	mustDo(200, "PATCH", "/api/accounts/"+id, map[string]any{"name": "Carol C", "email": "carol@example.com", "email_verified": false})
	expect("account.update", "account", id, id) // email_verified was false already: not named
	mustDo(200, "PATCH", "/api/accounts/"+id, map[string]any{"name": "Carol C"})
	// ...and a patch that changes nothing records nothing.
	alice, _ := s.Store.AccountByUsername(t.Context(), "alice")
	mustDo(409, "PATCH", "/api/accounts/"+alice.ID, map[string]any{"name": "Mallory"}) // C4: refused, not recorded
	mustDo(400, "POST", "/api/accounts", map[string]any{"username": "x", "password": "short"})

	s.NewBrowser(t).SignedIn(sesametest.AppA, "carol", nil)
	s.NewBrowser(t).SignedIn(sesametest.AppB, "carol", nil)
	sessions := mustDo(200, "GET", "/api/accounts/"+id+"/sessions", nil)["sessions"].([]any)
	var first, second string // the app-a session, the app-b one
	for _, v := range sessions {
		sess := v.(map[string]any)
		if apps := sess["apps"].([]any); len(apps) == 1 && apps[0] == sesametest.AppA {
			first = sess["id"].(string)
		} else {
			second = sess["id"].(string)
		}
	}
	receipt := mustDo(200, "DELETE", "/api/sessions/"+first, nil)["receipt"].(string)
	expect("session.revoke", "session", first, id)
	var grantB string
	for _, v := range mustDo(200, "GET", "/api/accounts/"+id+"/grants", nil)["grants"].([]any) {
		if g := v.(map[string]any); g["client_id"] == sesametest.AppB {
			grantB = g["id"].(string)
		}
	}
	mustDo(200, "DELETE", "/api/grants/"+grantB, nil)
	expect("grant.revoke", "grant", grantB, id)
	mustDo(404, "DELETE", "/api/grants/"+grantB+"-gone", nil)
	mustDo(200, "POST", "/api/accounts/"+id+"/sign-out", nil) // ends the second session
	expect("account.sign_out_everywhere", "account", id, id)
	if _, err := s.Store.Session(t.Context(), second); err == nil {
		t.Errorf("session %s outlived the sign-out everywhere", second)
	}
	mustDo(200, "PATCH", "/api/accounts/"+id, map[string]any{"password": "a new password", "name": "Carol D"})
	expect("account.update", "account", id, id)
	expect("account.password_change", "account", id, id)
	mustDo(200, "PATCH", "/api/accounts/"+id, map[string]any{"disabled": true})
	expect("account.disable", "account", id, id)
	mustDo(200, "PATCH", "/api/accounts/"+id, map[string]any{"disabled": false})
	expect("account.enable", "account", id, id)

	svc := mustDo(201, "POST", "/api/clients", map[string]any{"id": "svc", "type": "m2m"})
	expect("client.create", "client", "svc", "")
	rotated := mustDo(200, "PUT", "/api/clients/svc", map[string]any{"type": "m2m", "name": "Service", "rotate_secret": true})
	expect("client.update", "client", "svc", "")
	expect("client.rotate_secret", "client", "svc", "")
	mustDo(409, "PUT", "/api/clients/app-a", map[string]any{"type": "web"}) // C4: refused, not recorded
	mustDo(200, "DELETE", "/api/clients/svc", nil)
	expect("client.delete", "client", "svc", "")
	mustDo(404, "DELETE", "/api/clients/svc", nil)

	s.Apps[sesametest.AppC].Answer(http.StatusBadRequest)
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppC, "bob", nil)
	b.Submit(b.Get(s.Issuer+"/session/end?client_id=app-c"), map[string]string{"logout": "true"})
	failed := mustDo(200, "GET", "/api/clients/app-c/deliveries?state=failed", nil)["deliveries"].([]any)
	if len(failed) != 1 {
		t.Fatalf("failed deliveries: %v", failed)
	}
	delivery := failed[0].(map[string]any)
	mustDo(200, "POST", "/api/deliveries/"+delivery["id"].(string)+"/retry", nil)
	expect("delivery.retry", "delivery", delivery["id"].(string), delivery["sub"].(string))

	entries := api.auditOf("")
	if len(entries) != len(wants) {
		t.Errorf("%d entries, want %d", len(entries), len(wants))
	}
	for i := range min(len(entries), len(wants)) {
		e, w := entries[len(entries)-1-i], wants[i] // the log is newest first
		actor, _ := e["actor"].(map[string]any)
		target, _ := e["target"].(map[string]any)
		acct, _ := e["account_id"].(string)
		if e["action"] != w.action || target["kind"] != w.targetKind || target["id"] != w.targetID || acct != w.account ||
			actor["kind"] != "admin_client" || actor["id"] != sesametest.Robot || e["address"] != "127.0.0.1" || e["at"] == nil {
			t.Errorf("entry %d: %v\n want %+v by the admin client robot from 127.0.0.1", i, e, w)
		}
	}
	if e := api.auditOf("action=session.revoke"); len(e) != 1 || !strings.Contains(e[0]["detail"].(string), receipt) {
		t.Errorf("the session's revocation names its receipt: %v", e)
	}
	if e := api.auditOf("action=account.update"); len(e) != 2 || e[1]["detail"] != "fields: email, name" || e[0]["detail"] != "fields: name" {
		t.Errorf("account updates name their fields: %v", e)
	}
	raw, _ := json.Marshal(entries)
	for _, secret := range []string{sesametest.Password, "a new password", svc["secret"].(string), rotated["secret"].(string), api.token} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the audit log holds a secret: %q", secret)
		}
	}
}

// The address of a change is the client's, as the rest of Sesame reads it:
// behind a trusted proxy, the one it names.
func TestAPIAuditRecordsTheAddressBehindATrustedProxy(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} }})
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, admin.ScopeAdmin)}
	st, m := api.doWith(http.Header{"X-Forwarded-For": {"203.0.113.9"}}, "POST", "/api/accounts",
		map[string]any{"username": "carol", "password": sesametest.Password})
	if st != 201 {
		t.Fatalf("create: %d %v", st, m)
	}
	if e := api.auditOf("action=account.create"); len(e) != 1 || e[0]["address"] != "203.0.113.9" {
		t.Errorf("entry %v, want the address 203.0.113.9", e)
	}
}

// The audit log is read newest first, a page at a time, and filtered by
// actor, target, account, action and time, each alone or together; an
// unknown kind or action, or a bad time or cursor, is a 400 naming the
// parameter.
func TestAPIAuditFilters(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	robot := apiClient{t, s, adminToken(t, s, sesametest.Robot, admin.ScopeAdmin)}
	if _, err := s.Clients.Upsert(t.Context(), client.Spec{ID: "other-admin", Secret: sesametest.Secret, Type: client.TypeM2M, Admin: true}); err != nil {
		t.Fatal(err)
	}
	other := apiClient{t, s, adminToken(t, s, "other-admin", admin.ScopeAdmin)}
	ids := map[string]string{}
	for _, name := range []string{"carol", "dave"} {
		st, m := robot.do("POST", "/api/accounts", map[string]any{"username": name, "password": sesametest.Password})
		if st != 201 {
			t.Fatalf("create %s: %d %v", name, st, m)
		}
		ids[name] = m["id"].(string)
	}
	s.Clock.Advance(10 * time.Minute) // within the tokens' hour
	since := s.Clock.Now().UTC().Format(time.RFC3339)
	other.do("PATCH", "/api/accounts/"+ids["carol"], map[string]any{"disabled": true})
	other.do("POST", "/api/clients", map[string]any{"id": "svc", "type": "m2m"})
	robot.do("PATCH", "/api/accounts/"+ids["dave"], map[string]any{"name": "Dave"})

	actions := func(query string) []string {
		t.Helper()
		var out []string
		for _, e := range robot.auditOf(query) {
			out = append(out, e["action"].(string))
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"account.update", "client.create", "account.disable", "account.create", "account.create"}},
		{"actor=robot", []string{"account.update", "account.create", "account.create"}},
		{"actor=other-admin&actor_kind=admin_client", []string{"client.create", "account.disable"}},
		{"actor_kind=account", nil},
		{"target=svc", []string{"client.create"}},
		{"target_kind=client", []string{"client.create"}},
		{"account=" + ids["carol"], []string{"account.disable", "account.create"}},
		{"action=account.create", []string{"account.create", "account.create"}},
		{"since=" + url.QueryEscape(since), []string{"account.update", "client.create", "account.disable"}},
		{"actor=robot&since=" + url.QueryEscape(since), []string{"account.update"}},
		{"account=" + ids["dave"] + "&action=account.update", []string{"account.update"}},
	} {
		if got := actions(c.query); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.query, got, c.want)
		}
	}
	if got := robot.listAll("/api/audit?limit=2", "entries", "action"); len(got) != 5 || got[0] != "account.update" || got[4] != "account.create" {
		t.Errorf("pages of 2: %v", got)
	}
	if p := robot.list("/api/audit?limit=5", "entries"); len(p.items) != 5 || p.next != "" {
		t.Errorf("a page holding the last entry offers another: %d entries, next %q", len(p.items), p.next)
	}
	for _, bad := range []struct{ query, field string }{
		{"actor_kind=robot", "actor_kind"},
		{"target_kind=token", "target_kind"},
		{"action=account.delete", "action"},
		{"since=yesterday", "since"},
		{"cursor=abc", "cursor"},
		{"cursor=-1", "cursor"},
	} {
		if st, m := robot.do("GET", "/api/audit?"+bad.query, nil); st != 400 || m["field"] != bad.field {
			t.Errorf("GET /api/audit?%s: %d %v, want 400 on %s", bad.query, st, m, bad.field)
		}
	}
}

// The OpenAPI document lists the audit log's actions and kinds as package
// audit does, so a client generated from it accepts every entry.
func TestOpenAPIDocumentNamesEveryAuditAction(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	_, doc := apiClient{t, s, ""}.do("GET", "/api/openapi.json", nil)
	enum := func(path ...string) []string {
		var v any = doc
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		var out []string
		for _, e := range v.(map[string]any)["enum"].([]any) {
			out = append(out, e.(string))
		}
		slices.Sort(out)
		return out
	}
	sorted := func(values []string) []string { slices.Sort(values); return values }
	var actions, actors, targets []string
	for _, a := range audit.Actions {
		actions = append(actions, string(a))
	}
	for _, k := range audit.ActorKinds {
		actors = append(actors, string(k))
	}
	for _, k := range audit.TargetKinds {
		targets = append(targets, string(k))
	}
	entry := []string{"components", "schemas", "AuditEntry", "properties"}
	for name, c := range map[string]struct{ got, want []string }{
		"actions":      {enum(append(entry, "action")...), sorted(actions)},
		"actor kinds":  {enum(append(entry, "actor", "properties", "kind")...), sorted(actors)},
		"target kinds": {enum(append(entry, "target", "properties", "kind")...), sorted(targets)},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: the document says %v, package audit %v", name, c.got, c.want)
		}
	}
	params := map[string][]string{}
	op := doc["paths"].(map[string]any)["/api/audit"].(map[string]any)["get"].(map[string]any)
	for _, p := range op["parameters"].([]any) {
		p := p.(map[string]any)
		if e, ok := p["schema"].(map[string]any)["enum"].([]any); ok {
			for _, v := range e {
				params[p["name"].(string)] = append(params[p["name"].(string)], v.(string))
			}
		}
	}
	for name, want := range map[string][]string{"action": actions, "actor_kind": actors, "target_kind": targets} {
		if got := sorted(params[name]); !slices.Equal(got, sorted(want)) {
			t.Errorf("parameter %s: the document says %v, package audit %v", name, got, want)
		}
	}
}
