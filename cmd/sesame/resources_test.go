package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
	sqlstore "github.com/sesame-id/sesame/internal/store/sql"
)

// resourcesConfig declares the Orders API, the orders-reader role, and
// holders of it (alice spelt in another case, as A1 allows); svc and app
// are declared without roles, so their roles are the CLI's to give. On
// PostgreSQL a secret_key is needed, so both databases have one.
const resourcesConfig = `issuer: http://127.0.0.1:4000/oidc
database: %DB%
secret_key: resources-test-secret-resources-test-secret
api_resources:
  - indicator: https://api.example.com/orders
    name: Orders API
    scopes: [read:orders, write:orders]
roles:
  - name: orders-reader
    permissions:
      https://api.example.com/orders: [read:orders]
clients:
  - id: reports-job
    secret: reports-job-secret
    type: m2m
    roles: [orders-reader]
  - id: svc
    secret: svc-secret
    type: m2m
  - id: app
    secret: app-secret
    type: web
    redirect_uris: [https://app.example/cb]
users:
  - username: Alice
    password: correct horse battery staple
    roles: [orders-reader]
`

// configured runs sesame commands with one configuration file.
type configured struct {
	t    *testing.T
	path string
}

// seededCLI is sesame on a database migrated and seeded from
// resourcesConfig, as `sesame serve` would have left it, with bob added
// by the CLI; it returns the database's URL: opts.Database, or a SQLite
// file of the test's own when that is empty.
func seededCLI(t *testing.T, opts sesametest.Options) (configured, string) {
	t.Helper()
	dir := t.TempDir()
	db := opts.Database
	if db == "" {
		db = "sqlite://" + filepath.Join(dir, "s.db")
	}
	path := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(resourcesConfig, "%DB%", db)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := build(t.Context(), cfg, newLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Seed(t.Context())
	srv.Store.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (cli{t, nil}).run("a password\n", "--config", path, "users", "add", "bob"); err != nil {
		t.Fatal(err)
	}
	return configured{t, path}, db
}

// run runs sesame as main does: its output, and the error line and exit
// status main would print.
func (c configured) run(args ...string) (out, line string, code int) {
	c.t.Helper()
	var o, e bytes.Buffer
	err := runIO(c.t.Context(), append([]string{"--config", c.path}, args...), noEnv, strings.NewReader(""), &o, io.Discard)
	if err == nil {
		return o.String(), "", 0
	}
	code = report(&e, err)
	line, _, _ = strings.Cut(e.String(), "\n")
	return o.String(), line, code
}

// openDB opens the database the CLI wrote, closed when the test ends.
func openDB(t *testing.T, db string) store.Store {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// R1 by CLI: API resources and roles are added, changed and removed, and
// given to accounts and m2m clients, under the admin API's rules; each
// change is audited as the command line's, and a refusal is not.
func TestResourcesAndRolesCommands(t *testing.T) {
	sesametest.EachBackend(t, testResourcesAndRolesCommands)
}

func testResourcesAndRolesCommands(t *testing.T, opts sesametest.Options) {
	sesame, db := seededCLI(t, opts)
	const orders, billing = "https://api.example.com/orders", "https://api.example.com/billing"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"resources", "list"}, orders},
		{[]string{"resources", "add", billing, "--name", "Billing", "--scopes", "read:bills,write:bills", "--access-token-ttl", "10m"}, "API resource " + billing + " added"},
		{[]string{"resources", "set", billing, "--name", "Billing API"}, "API resource " + billing + " saved"},
		{[]string{"roles", "set", "billing-reader", "--permission", billing + "=read:bills"}, "role billing-reader created"},
		{[]string{"roles", "set", "mixed", "--permission", billing + "=read:bills,write:bills", "--permission", orders + "=read:orders"}, "role mixed created"},
		{[]string{"roles", "set", "mixed", "--permission", billing + "=read:bills,write:bills"}, "role mixed saved"},
		{[]string{"users", "roles", "BOB", "mixed", "billing-reader"}, "roles of user bob: billing-reader mixed"},
		{[]string{"users", "roles", "bob"}, "roles of user bob: billing-reader mixed"},
		{[]string{"users", "roles", "alice"}, "roles of user alice: orders-reader"},
		{[]string{"clients", "roles", "svc", "mixed", "admin"}, "roles of client svc: admin mixed"},
		{[]string{"clients", "roles", "app"}, "roles of client app: none"},
		{[]string{"roles", "list"}, billing + "=read:bills,write:bills\n"},
		{[]string{"resources", "remove", billing}, "API resource " + billing + " removed"},
		{[]string{"roles", "remove", "billing-reader"}, "role billing-reader removed"},
		{[]string{"users", "roles", "bob"}, "roles of user bob: mixed"},
		{[]string{"clients", "roles", "svc", "--clear"}, "roles of client svc: none"},
	} {
		out, line, _ := sesame.run(c.args...)
		if line != "" || !strings.Contains(out, c.want) {
			t.Errorf("sesame %s: %q %s; want %q", strings.Join(c.args, " "), out, line, c.want)
		}
	}

	st := openDB(t, db)
	apis, err := st.APIResources(t.Context())
	if err != nil || len(apis) != 1 || apis[0].Indicator != orders || !apis[0].Declared {
		t.Errorf("resources: %+v %v", apis, err)
	}
	roles, err := st.Roles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
		if r.Name == "mixed" && len(r.Permissions) != 0 {
			t.Errorf("mixed keeps permissions on the removed resource: %v", r.Permissions)
		}
	}
	if !slices.Equal(names, []string{"admin", "mixed", "orders-reader"}) {
		t.Errorf("roles: %v", names)
	}

	// Each change, oldest first, by the command line; the reads and the
	// refusals below are not in it.
	for _, bad := range [][]string{{"roles", "remove", "orders-reader"}, {"users", "roles", "bob", "ghost"}} {
		if _, line, _ := sesame.run(bad...); line == "" {
			t.Errorf("sesame %s: accepted", strings.Join(bad, " "))
		}
	}
	entries, err := audit.List(t.Context(), st, audit.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Actor.Kind != audit.ActorCLI || e.Actor.ID == "" {
			t.Errorf("entry %s by %+v, want the command line", e.Action, e.Actor)
		}
		got = append([]string{string(e.Action) + " " + e.Target.ID + " " + e.Detail}, got...)
	}
	bob, err := st.AccountByUsername(t.Context(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"account.create " + bob.ID + " fields: username, email, name",
		"resource.create " + billing + " scopes: read:bills write:bills",
		"resource.update " + billing + " fields: name",
		"role.create billing-reader permissions on: " + billing,
		"role.create mixed permissions on: " + billing + " " + orders,
		"role.update mixed permissions on: " + billing,
		"roles.assign " + bob.ID + " roles: billing-reader mixed (were: none)",
		"roles.assign svc roles: admin mixed (were: none)",
		"resource.delete " + billing + " permissions removed from roles: billing-reader mixed",
		"role.delete billing-reader no permissions",
		"roles.assign svc roles: none (were: admin mixed)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit log, oldest first:\n got %q\nwant %q", got, want)
	}
}

// C4, C5, R1 by CLI: what the file declares is refused with a line
// saying to change the file; the built-in admin role is refused; unknown
// names and bad input are one line in words, exit 1; a command called
// wrongly prints its usage, exit 2. Nothing refused is written.
func TestResourcesAndRolesCommandsRefuse(t *testing.T) {
	sesametest.EachBackend(t, testResourcesAndRolesCommandsRefuse)

	// Like the other commands, they need a database made before them.
	dir := t.TempDir()
	t.Chdir(dir)
	for _, args := range [][]string{{"resources", "list"}, {"roles", "remove", "x"}, {"users", "roles", "bob"}, {"clients", "roles", "svc"}} {
		if _, err := (cli{t, nil}).run("", args...); err == nil || !strings.HasPrefix(err.Error(), "no database at ./sesame.db") {
			t.Errorf("sesame %s without a database: %v", strings.Join(args, " "), err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the refused commands left %v", entries)
	}
}

func testResourcesAndRolesCommandsRefuse(t *testing.T, opts sesametest.Options) {
	sesame, db := seededCLI(t, opts)
	const orders = "https://api.example.com/orders"
	for _, c := range []struct {
		args []string
		line string
		code int
	}{
		{[]string{"resources", "set", orders, "--name", "Mine"}, "sesame: API resource " + orders + " is managed by the configuration file: change it there", 1},
		{[]string{"resources", "remove", orders}, "sesame: API resource " + orders + " is managed by the configuration file: change it there", 1},
		{[]string{"roles", "set", "orders-reader"}, "sesame: role orders-reader is managed by the configuration file: change it there", 1},
		{[]string{"roles", "remove", "orders-reader"}, "sesame: role orders-reader is managed by the configuration file: change it there", 1},
		{[]string{"users", "roles", "ALICE", "--clear"}, "sesame: the role list of user alice is managed by the configuration file: change it there", 1},
		{[]string{"clients", "roles", "reports-job", "admin"}, "sesame: the role list of client reports-job is managed by the configuration file: change it there", 1},
		{[]string{"roles", "remove", "admin"}, "sesame: role admin is built in and cannot be removed", 1},
		{[]string{"roles", "set", "admin"}, "sesame: role admin is built in", 1},
		{[]string{"resources", "add", orders}, "sesame: an API resource " + orders + " exists already", 1},
		{[]string{"resources", "add", "not-a-uri", "--scopes", "a,a"}, `sesame: indicator: the resource indicator "not-a-uri" is not an absolute URI (RFC 8707 §2); scopes: a is listed twice`, 1},
		{[]string{"resources", "set", "https://nobody.example/api", "--name", "x"}, "sesame: no API resource https://nobody.example/api", 1},
		{[]string{"resources", "remove", "https://nobody.example/api"}, "sesame: no API resource https://nobody.example/api", 1},
		{[]string{"roles", "remove", "ghost"}, "sesame: no role ghost", 1},
		{[]string{"roles", "set", "r", "--permission", "https://nobody.example/api=read"}, "sesame: permissions: https://nobody.example/api: no such api_resource", 1},
		{[]string{"roles", "set", "two words"}, "sesame: name: the role name", 1},
		{[]string{"users", "roles", "bob", "ghost"}, "sesame: no role ghost", 1},
		{[]string{"users", "roles", "nobody"}, `sesame: no account named "nobody"`, 1},
		{[]string{"clients", "roles", "nobody"}, `sesame: no client "nobody"`, 1},
		{[]string{"clients", "roles", "app", "admin"}, "sesame: client app is web: only m2m clients hold roles", 1},
		{[]string{"resources", "set", orders}, "sesame: resources set: nothing to change: give --name, --scopes or --access-token-ttl", 2},
		{[]string{"roles", "set", "r", "--permission", "read:orders"}, `sesame: roles set: --permission "read:orders": want INDICATOR=scope1,scope2`, 2},
		{[]string{"roles", "set", "r", "--permission", orders + "=a", "--permission", orders + "=b"}, "sesame: roles set: --permission: " + orders + " is given twice", 2},
		{[]string{"users", "roles", "bob", "admin", "--clear"}, "sesame: users roles: --clear and roles: give one", 2},
		{[]string{"users", "roles"}, "sesame: users roles: wants USERNAME [ROLE...]; got 0 arguments", 2},
		{[]string{"resources", "add"}, "sesame: resources add: wants INDICATOR; got 0 arguments", 2},
		{[]string{"roles", "frob"}, `sesame: roles: unknown command "frob"`, 2},
	} {
		_, line, code := sesame.run(c.args...)
		if code != c.code || !strings.HasPrefix(line, c.line) {
			t.Errorf("sesame %s: exit %d, %q; want exit %d, %q", strings.Join(c.args, " "), code, line, c.code, c.line)
		}
	}

	st := openDB(t, db)
	if entries, err := audit.List(t.Context(), st, audit.Filter{Limit: 100}); err != nil || len(entries) != 1 || entries[0].Action != audit.AccountCreate {
		t.Errorf("a refusal was audited: %+v %v", entries, err)
	}
	apis, _ := st.APIResources(t.Context())
	roles, _ := st.Roles(t.Context())
	if len(apis) != 1 || apis[0].Name != "Orders API" || len(roles) != 2 {
		t.Errorf("a refusal wrote: %+v %+v", apis, roles)
	}
	alice, _ := st.AccountByUsername(t.Context(), "alice")
	if held, err := st.AccountRoles(t.Context(), alice.ID); err != nil || !slices.Equal(held, []string{"orders-reader"}) {
		t.Errorf("alice's declared roles after the refusals: %v %v", held, err)
	}
}
