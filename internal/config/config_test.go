package config

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/resource"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sesame.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// contract: YAML keys, durations as strings, the environment wins.
func TestLoadYAMLThenEnvironment(t *testing.T) {
	p := write(t, `issuer: http://127.0.0.1:4000/oidc
session_ttl: 100h
signout_confirm: ask
clients:
  - id: app-a
    secret: app-a-secret
    type: web
    redirect_uris: [http://127.0.0.1:5001/callback]
    backchannel_logout_uri: http://127.0.0.1:5001/backchannel-logout
    first_party: true
users:
  - username: alice
    password: pw
`)
	env := map[string]string{"SESAME_SESSION_TTL": "50h", "SESAME_ISSUER": "http://localhost:9000/oidc"}
	cfg, err := Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SessionTTL != 50*time.Hour || cfg.Issuer != "http://localhost:9000/oidc" || cfg.SignoutConfirm != "ask" {
		t.Errorf("cfg %+v", cfg)
	}
	if len(cfg.Clients) != 1 || !cfg.Clients[0].FirstParty || cfg.Clients[0].BackchannelLogoutURI == "" || len(cfg.Users) != 1 {
		t.Errorf("clients %+v users %+v", cfg.Clients, cfg.Users)
	}
	if cfg.GrantTTL != 4320*time.Hour {
		t.Errorf("default grant_ttl lost: %v", cfg.GrantTTL)
	}
	if !cfg.AllowPrivateNetworkDelivery {
		t.Error("B5: private delivery must default on for a loopback issuer")
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

// B5: private delivery defaults off for a public issuer.
func TestPrivateDeliveryDefault(t *testing.T) {
	env := map[string]string{"SESAME_ISSUER": "https://id.example.com/oidc"}
	cfg, err := Load("", func(k string) string { return env[k] })
	if err != nil || cfg.AllowPrivateNetworkDelivery {
		t.Errorf("public issuer: allow=%v err=%v", cfg.AllowPrivateNetworkDelivery, err)
	}
	env["SESAME_ALLOW_PRIVATE_NETWORK_DELIVERY"] = "true"
	cfg, _ = Load("", func(k string) string { return env[k] })
	if !cfg.AllowPrivateNetworkDelivery {
		t.Error("explicit setting ignored")
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	if _, err := Load(write(t, "isuer: typo\n"), func(string) string { return "" }); err == nil {
		t.Error("unknown key accepted")
	}
	if _, err := Load("", func(k string) string {
		if k == "SESAME_ACCESS_TOKEN_TTL" {
			return "an hour"
		}
		return ""
	}); err == nil || !strings.Contains(err.Error(), "SESAME_ACCESS_TOKEN_TTL") {
		t.Errorf("bad duration: %v", err)
	}
}

// Validate lists every problem at once, each naming its key.
func TestValidateListsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.Issuer = "http://id.example.com/oidc?x=1"
	cfg.Listen = "nowhere"
	cfg.Database = "mysql://x"
	cfg.SignoutConfirm = "maybe"
	cfg.AccessTokenTTL = 0
	cfg.RefreshTokenTTL = cfg.GrantTTL + time.Hour
	cfg.Users = []account.Spec{{Username: "a"}, {Username: "A", Password: "x"}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, key := range []string{"issuer", "listen", "database", "signout_confirm", "access_token_ttl", "refresh_token_ttl", "password is required", "duplicate username"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
	for _, iss := range []string{"http://id.example.com/oidc", "https://id.example.com/oidc/", "ftp://x/y"} {
		c := Default()
		c.Issuer = iss
		if c.Validate() == nil {
			t.Errorf("issuer %q accepted (spec D3)", iss)
		}
	}
}

// Lists of plain values come from the environment comma-separated, as
// containers set them.
func TestListsFromTheEnvironment(t *testing.T) {
	env := map[string]string{"SESAME_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.10"}
	cfg, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.TrustedProxies; len(got) != 2 || got[0] != "10.0.0.0/8" || got[1] != "192.168.1.10" {
		t.Errorf("trusted_proxies from the environment: %q", got)
	}
	ranges, err := cfg.TrustedProxyRanges()
	if err != nil || len(ranges) != 2 || ranges[1].Bits() != 32 {
		t.Errorf("ranges %v %v", ranges, err)
	}
}

// RFC 6749 §4.1.2: an authorization code lives at most ten minutes.
func TestAuthCodeTTLIsBounded(t *testing.T) {
	cfg := Default()
	cfg.AuthCodeTTL = 11 * time.Minute
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "auth_code_ttl") {
		t.Errorf("an 11-minute code lifetime: %v", err)
	}
}

// design §2: durability is normal unless set to strict, from the file or
// the environment; anything else is refused, naming the key.
func TestDurability(t *testing.T) {
	cfg, err := Load("", func(string) string { return "" })
	if err != nil || cfg.Durability != DurabilityNormal {
		t.Fatalf("default: durability=%q err=%v", cfg.Durability, err)
	}
	cfg, _ = Load("", func(k string) string { return map[string]string{"SESAME_DURABILITY": "strict"}[k] })
	if cfg.Durability != DurabilityStrict {
		t.Errorf("SESAME_DURABILITY=strict: %q", cfg.Durability)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("strict: %v", err)
	}
	cfg, err = Load(write(t, "durability: sometimes\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "durability") {
		t.Errorf("durability: sometimes: %v", err)
	}
}

// C2: require_pkce defaults to true; the environment and the file can turn
// it off, and a confidential client can set its own.
func TestRequirePKCE(t *testing.T) {
	cfg, err := Load("", func(string) string { return "" })
	if err != nil || !cfg.RequirePKCE {
		t.Fatalf("default: require_pkce=%v err=%v", cfg.RequirePKCE, err)
	}
	cfg, _ = Load("", func(k string) string { return map[string]string{"SESAME_REQUIRE_PKCE": "false"}[k] })
	if cfg.RequirePKCE {
		t.Error("SESAME_REQUIRE_PKCE=false ignored")
	}
	cfg, err = Load(write(t, `require_pkce: false
clients:
  - id: legacy
    secret: legacy-secret
    type: web
    redirect_uris: [https://legacy.example/cb]
    require_pkce: false
`), func(string) string { return "" })
	if err != nil || cfg.RequirePKCE || cfg.Clients[0].RequirePKCE == nil || *cfg.Clients[0].RequirePKCE {
		t.Fatalf("file: %+v %v", cfg, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("a confidential client with require_pkce: false: %v", err)
	}
}

// B5: with private delivery off, a file client whose back-channel URI is
// a special-purpose address or localhost is refused at start.
func TestPrivateBackchannelURIRefused(t *testing.T) {
	for _, uri := range []string{"http://localhost:5001/bc", "https://10.1.2.3/bc", "https://[64:ff9b::a00:1]/bc", "https://[::7f00:1]/bc"} {
		cfg := Default()
		cfg.Issuer = "https://id.example.com/oidc"
		cfg.AllowPrivateNetworkDelivery = false
		cfg.Clients = []client.Spec{{ID: "app", Type: client.TypeWeb, Secret: "s", RedirectURIs: []string{"https://app.example/cb"}, BackchannelLogoutURI: uri}}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "clients[0] (app): backchannel_logout_uri") {
			t.Errorf("%s: %v", uri, err)
		}
		cfg.AllowPrivateNetworkDelivery = true
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s with private delivery on: %v", uri, err)
		}
	}
}

// log_format is text or json, empty by default (text on a terminal, JSON
// otherwise); audit_retention is a positive duration, 90 days by default.
// Both come from the file or the environment, and a wrong value is refused
// naming the key.
func TestLogFormatAndAuditRetention(t *testing.T) {
	cfg, err := Load("", func(string) string { return "" })
	if err != nil || cfg.LogFormat != "" || cfg.AuditRetention != 2160*time.Hour {
		t.Fatalf("defaults: log_format=%q audit_retention=%v err=%v", cfg.LogFormat, cfg.AuditRetention, err)
	}
	env := map[string]string{"SESAME_LOG_FORMAT": "json", "SESAME_AUDIT_RETENTION": "720h"}
	cfg, err = Load("", func(k string) string { return env[k] })
	if err != nil || cfg.LogFormat != LogFormatJSON || cfg.AuditRetention != 720*time.Hour || cfg.Validate() != nil {
		t.Errorf("from the environment: %q %v %v %v", cfg.LogFormat, cfg.AuditRetention, err, cfg.Validate())
	}
	cfg, err = Load(write(t, "log_format: text\naudit_retention: 48h\n"), func(string) string { return "" })
	if err != nil || cfg.LogFormat != LogFormatText || cfg.AuditRetention != 48*time.Hour || cfg.Validate() != nil {
		t.Errorf("from the file: %q %v %v", cfg.LogFormat, cfg.AuditRetention, err)
	}
	for _, c := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.LogFormat = "xml" }, `log_format: "xml" must be text or json`},
		{func(c *Config) { c.AuditRetention = 0 }, "audit_retention: must be a positive duration"},
		{func(c *Config) { c.AuditRetention = -time.Hour }, "audit_retention: must be a positive duration"},
	} {
		cfg := Default()
		c.set(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
	if _, err := Load("", func(k string) string {
		return map[string]string{"SESAME_AUDIT_RETENTION": "90 days"}[k]
	}); err == nil || !strings.Contains(err.Error(), "SESAME_AUDIT_RETENTION") {
		t.Errorf("SESAME_AUDIT_RETENTION=90 days: %v", err)
	}
}

// R1, C4, C5: API resources, roles and who holds them load from the file
// as the contract writes them, and validate; an empty roles list is kept
// apart from none (it takes every role away, where none leaves them).
func TestAPIResourcesAndRolesLoad(t *testing.T) {
	p := write(t, `api_resources:
  - indicator: https://api.example.com/orders
    name: Orders API
    scopes: [read:orders, write:orders]
    access_token_ttl: 30m
  - indicator: urn:example:billing
roles:
  - name: orders-reader
    permissions:
      https://api.example.com/orders: [read:orders]
      urn:example:billing: []
  - name: admin
clients:
  - id: reports-job
    secret: reports-job-secret
    type: m2m
    roles: [orders-reader, admin]
  - id: other-job
    secret: other-job-secret
    type: m2m
    roles: []
users:
  - username: alice
    password: pw
    roles: [orders-reader]
  - username: bob
    password: pw
`)
	cfg, err := Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
	if len(cfg.APIResources) != 2 || cfg.APIResources[0].Name != "Orders API" || cfg.APIResources[0].AccessTokenTTL != 30*time.Minute ||
		strings.Join(cfg.APIResources[0].Scopes, " ") != "read:orders write:orders" || cfg.APIResources[1].AccessTokenTTL != 0 {
		t.Errorf("api_resources %+v", cfg.APIResources)
	}
	if len(cfg.Roles) != 2 || strings.Join(cfg.Roles[0].Permissions["https://api.example.com/orders"], " ") != "read:orders" {
		t.Errorf("roles %+v", cfg.Roles)
	}
	if billing, ok := cfg.Roles[0].Permissions["urn:example:billing"]; !ok || len(billing) != 0 {
		t.Errorf("a permission with no scope: %v, %v", billing, ok)
	}
	if strings.Join(cfg.Clients[0].Roles, " ") != "orders-reader admin" || cfg.Clients[1].Roles == nil || len(cfg.Clients[1].Roles) != 0 {
		t.Errorf("client roles %q and %#v", cfg.Clients[0].Roles, cfg.Clients[1].Roles)
	}
	if strings.Join(cfg.Users[0].Roles, " ") != "orders-reader" || cfg.Users[1].Roles != nil {
		t.Errorf("user roles %q and %#v", cfg.Users[0].Roles, cfg.Users[1].Roles)
	}
}

// R1: an API resource's scope descriptions load from the file as the
// issue's example writes them, a folded line's final line break included
// (checked and stored trimmed, so it is no control character); Validate
// checks them by the resource's rules, one line per problem naming the
// entry and the key.
func TestScopeDescriptionsLoadAndValidate(t *testing.T) {
	p := write(t, `api_resources:
  - indicator: https://api.example.com/orders
    name: Orders API
    scopes: [read:orders, write:orders]
    scope_descriptions:
      read:orders: Read your orders
      write:orders: >
        Place and change
        orders
  - indicator: urn:example:billing
    scopes: [read:invoices]
`)
	cfg, err := Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
	want := map[string]string{"read:orders": "Read your orders", "write:orders": "Place and change orders\n"}
	if got := cfg.APIResources[0].ScopeDescriptions; !maps.Equal(got, want) {
		t.Errorf("scope_descriptions %q, want %q", got, want)
	}
	if got := cfg.APIResources[1].ScopeDescriptions; got != nil {
		t.Errorf("an entry without scope_descriptions has %q", got)
	}

	cfg.APIResources[0].ScopeDescriptions = map[string]string{
		"read:orders":   "Read\nyour orders",
		"write:orders":  " ",
		"delete:orders": "Delete your orders",
	}
	cfg.APIResources[1].ScopeDescriptions = map[string]string{"read:invoices": strings.Repeat("x", resource.MaxScopeDescriptionLen+1)}
	wantProblems(t, cfg.Validate(), []string{
		"api_resources[0] (https://api.example.com/orders): scope_descriptions: \"delete:orders\" is not one of the resource's scopes",
		"api_resources[0] (https://api.example.com/orders): scope_descriptions: read:orders: the description \"Read\\nyour orders\" holds a line break, a tab or another control character",
		"api_resources[0] (https://api.example.com/orders): scope_descriptions: write:orders: the description is empty (leave the scope out to show it by its name)",
		"api_resources[1] (urn:example:billing): scope_descriptions: read:invoices: the description \"" + strings.Repeat("x", 32) + "\"... is longer than 200 characters",
	})
}

// wantProblems checks err is Validate's problems want, one a line, in
// order.
func wantProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// R1, C5: every problem of resources, roles and who holds them is one
// line naming the key: a permission on an undeclared resource or a scope
// it lacks, admin with permissions, a role nobody declared, roles on a
// client that is not a machine.
func TestRolesValidateOneLinePerProblem(t *testing.T) {
	cfg := Default()
	cfg.APIResources = []resource.APISpec{
		{Indicator: "https://api.example.com/orders", Scopes: []string{"read:orders"}},
		{Indicator: "https://api.example.com/orders#x", AccessTokenTTL: -time.Minute},
	}
	cfg.Roles = []resource.RoleSpec{
		{Name: "orders-reader", Permissions: map[string][]string{
			"https://x/orders":               {"read"},
			"https://api.example.com/orders": {"write:orders"},
		}},
		{Name: "admin", Permissions: map[string][]string{"https://api.example.com/orders": {"read:orders"}}},
	}
	cfg.Clients = []client.Spec{
		{ID: "job", Secret: "s", Type: client.TypeM2M, Roles: []string{"admin", "ghost"}},
		{ID: "web", Secret: "s", Type: client.TypeWeb, RedirectURIs: []string{"https://a.example/cb"}, Roles: []string{"orders-reader"}},
	}
	cfg.Users = []account.Spec{{Username: "alice", Password: "pw", Roles: []string{"orders-reader", "phantom"}}}
	wantProblems(t, cfg.Validate(), []string{
		"api_resources[1] (https://api.example.com/orders#x): indicator: the resource indicator \"https://api.example.com/orders#x\" must not have a fragment (RFC 8707 §2)",
		"api_resources[1] (https://api.example.com/orders#x): access_token_ttl: must not be negative (0 or none: the top-level access_token_ttl)",
		"roles[0] (orders-reader): permissions: https://api.example.com/orders: \"write:orders\" is not a scope of that api_resource",
		"roles[0] (orders-reader): permissions: https://x/orders: no such api_resource",
		"roles[1] (admin): permissions: admin is a built-in role and holds no permissions; give it to users and m2m clients with roles: [admin]",
		"users[0] (alice): roles: phantom: no such role (declare it under roles, or give the built-in admin)",
		"clients[0] (job): roles: ghost: no such role (declare it under roles, or give the built-in admin)",
		"clients[1] (web): roles: only m2m clients hold roles; a person's roles are given in their users entry",
	})
}
