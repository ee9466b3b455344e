package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/resource"
)

// `sesame admin create-client` makes an m2m client that holds the
// built-in admin role (C5), given as any role is (`clients roles` shows
// it, the audit log records it), never the deprecated admin flag: the
// client gets sesame:admin tokens by client_credentials, and nothing
// warns of a deprecation, neither the command nor a server on its
// database. Its output is the one it always printed.
func TestAdminCreateClientGivesTheAdminRole(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "s.db")
	env := map[string]string{"SESAME_DATABASE": db}
	getenv := func(k string) string { return env[k] }
	if _, err := (cli{t, env}).run("", "migrate"); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if err := runIO(t.Context(), []string{"admin", "create-client", "ops"}, getenv, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("create-client: %v\n%s", err, errOut.String())
	}
	m := regexp.MustCompile(`^admin client ops created\nclient_secret: (\S+)\n\(shown once: it is stored hashed\)\n` +
		`get a token: POST \{issuer\}/token grant_type=client_credentials scope=sesame:admin\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("create-client printed %q", out.String())
	}
	secret := m[1]
	if strings.Contains(strings.ToLower(errOut.String()), "deprecat") {
		t.Errorf("create-client warned: %s", errOut.String())
	}

	if got, err := (cli{t, env}).run("", "clients", "roles", "ops"); err != nil || got != "roles of client ops: admin\n" {
		t.Errorf("clients roles ops: %q, %v", got, err)
	}
	st := openDB(t, db)
	c, err := st.Client(t.Context(), "ops")
	if err != nil || c.Admin || c.Type != "m2m" {
		t.Errorf("stored: %+v, %v; want an m2m client without the deprecated admin flag", c, err)
	}
	roles, err := st.ClientRoles(t.Context(), "ops")
	if err != nil || len(roles) != 1 || roles[0] != resource.RoleAdmin {
		t.Errorf("the client's stored roles: %v, %v; want [admin]", roles, err)
	}
	entries, err := audit.List(t.Context(), st, audit.Filter{Target: audit.OnClient("ops"), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append([]string{string(e.Action)}, actions...)
	}
	if strings.Join(actions, " ") != "client.create roles.assign" {
		t.Errorf("audit of ops, oldest first: %v", actions)
	}

	// A server on that database, as serve starts it, gives the client
	// admin tokens and logs no deprecation.
	cfg, err := loadConfig("", getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	srv, err := build(t.Context(), cfg, newLogger(cfg, &logs))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Store.Close()
	if err := srv.Seed(t.Context()); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, cfg.Issuer+"/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ops", secret)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); rec.Code != http.StatusOK || err != nil || tok.AccessToken == "" || tok.Scope != "sesame:admin" {
		t.Errorf("client_credentials with scope sesame:admin: %d %s", rec.Code, rec.Body.String())
	}
	if strings.Contains(strings.ToLower(logs.String()), "deprecat") {
		t.Errorf("the server warned of a deprecation:\n%s", logs.String())
	}
}
