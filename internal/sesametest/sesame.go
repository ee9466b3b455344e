package sesametest

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/server"
	"github.com/sesame-id/sesame/internal/store"
	sqlstore "github.com/sesame-id/sesame/internal/store/sql"
)

// Password is the password of every test user.
const Password = "correct horse battery staple"

// The test clients.
const (
	// AppA, AppB, AppC and AppD are first-party confidential web apps.
	AppA = "app-a"
	AppB = "app-b"
	AppC = "app-c"
	AppD = "app-d"
	// ThirdParty is a confidential web app that shows the consent page.
	ThirdParty = "third-party"
	// SPA is a public client (PKCE required).
	SPA = "spa"
	// Native is a native (public) client with a loopback redirect URI.
	Native = "cli"
	// Robot is an m2m client allowed the admin scope; Worker an m2m client
	// that is not.
	Robot  = "robot"
	Worker = "worker"
	// Secret is the secret of every confidential test client.
	Secret = "s3cret-for-tests"
)

// RedirectURI is the redirect URI registered for client id.
func RedirectURI(id string) string { return "https://" + id + ".example/callback" }

// Cheap is the argon2id cost tests use: tests check behaviour, not cost.
var Cheap = secret.Hasher{Memory: 64, Time: 1, Threads: 1}

// TB is what the harness needs of a test: testing.TB has it, and so can a
// runnable Example that has no *testing.T.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Log(args ...any)
	Cleanup(func())
	TempDir() string
}

// Options changes the default Sesame.
type Options struct {
	// Configure edits the configuration before the server is built.
	Configure func(*config.Config)
	// Database is the store's URL: empty for SQLite in a temporary
	// directory, or a postgres:// URL (pgtest.FreshDB gives one).
	Database string
	// DeliveryHTTP, when set, replaces the client back-channel deliveries
	// use (server.Deps.HTTP): say, one that refuses private addresses
	// while the configuration, which registers the apps on loopback,
	// allows them.
	DeliveryHTTP *http.Client

	// APIResources are declared as the configuration file's
	// api_resources (R1).
	APIResources []resource.APISpec
	// Roles are declared as the configuration file's roles (R1).
	Roles []resource.RoleSpec
	// UserRoles gives test users, by username, the roles listed, as a
	// user's roles key does.
	UserRoles map[string][]string
	// ClientRoles gives clients, by id, the roles listed, as an m2m
	// client's roles key does. An id that is not one of DefaultClients is
	// added as an m2m client with the secret Secret.
	ClientRoles map[string][]string
}

// The API resource and role of WithOrders, the example.
const (
	// OrdersAPI is the Orders API's indicator, the aud of its tokens.
	OrdersAPI = "https://api.example.com/orders"
	// OrdersReader is the role that permits read:orders on it.
	OrdersReader = "orders-reader"
)

// WithOrders returns o declaring the Orders API (name "Orders API",
// scopes read:orders and write:orders), the role orders-reader that
// permits read:orders on it, and that role held by alice and by the m2m
// client Worker; bob and Robot hold none. Roles o already gives are kept.
func (o Options) WithOrders() Options {
	o.APIResources = append(o.APIResources, resource.APISpec{Indicator: OrdersAPI, Name: "Orders API", Scopes: []string{"read:orders", "write:orders"},
		ScopeDescriptions: map[string]string{"read:orders": "Read your orders", "write:orders": "Change your orders"}})
	o.Roles = append(o.Roles, resource.RoleSpec{Name: OrdersReader, Permissions: map[string][]string{OrdersAPI: {"read:orders"}}})
	o.UserRoles = withRole(o.UserRoles, "alice", OrdersReader)
	o.ClientRoles = withRole(o.ClientRoles, Worker, OrdersReader)
	return o
}

// withRole returns m with role added to holder's roles, m copied so the
// caller's map is not changed.
func withRole(m map[string][]string, holder, role string) map[string][]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string][]string{}
	}
	out[holder] = append(slices.Clone(out[holder]), role)
	return out
}

// declareResources writes o's API resources, roles and role holders into
// cfg, adding the m2m clients ClientRoles names that cfg lacks.
func (o Options) declareResources(t TB, cfg *config.Config) {
	t.Helper()
	cfg.APIResources = append(cfg.APIResources, o.APIResources...)
	cfg.Roles = append(cfg.Roles, o.Roles...)
	for name, roles := range o.UserRoles {
		i := slices.IndexFunc(cfg.Users, func(u account.Spec) bool { return u.Username == name })
		if i < 0 {
			t.Fatalf("UserRoles: no test user %q", name)
		}
		cfg.Users[i].Roles = append(cfg.Users[i].Roles, roles...)
	}
	for _, id := range slices.Sorted(maps.Keys(o.ClientRoles)) {
		i := slices.IndexFunc(cfg.Clients, func(c client.Spec) bool { return c.ID == id })
		if i < 0 {
			cfg.Clients = append(cfg.Clients, client.Spec{ID: id, Type: client.TypeM2M, Secret: Secret})
			i = len(cfg.Clients) - 1
		}
		cfg.Clients[i].Roles = append(cfg.Clients[i].Roles, o.ClientRoles[id]...)
	}
}

// Sesame is a running test Sesame.
type Sesame struct {
	*server.Server
	URL    string
	Issuer string
	HTTP   *httptest.Server
	Clock  *Clock
	Keys   *keys.Set
	Store  store.Store
	// Apps are the recording apps behind the back-channel URIs of app-a,
	// app-b and third-party.
	Apps map[string]*App
}

// DefaultClients are the clients every test Sesame has.
func DefaultClients() []client.Spec {
	web := func(id string, firstParty bool) client.Spec {
		return client.Spec{
			ID: id, Name: id, Secret: Secret, Type: client.TypeWeb, FirstParty: firstParty,
			RedirectURIs:           []string{RedirectURI(id)},
			PostLogoutRedirectURIs: []string{"https://" + id + ".example/"},
		}
	}
	return []client.Spec{
		web(AppA, true),
		web(AppB, true),
		web(AppC, true),
		web(AppD, true),
		web(ThirdParty, false),
		{ID: SPA, Name: "SPA", Type: client.TypeSPA, FirstParty: true, RedirectURIs: []string{RedirectURI(SPA)}},
		{ID: Native, Name: "CLI", Type: client.TypeNative, FirstParty: true, RedirectURIs: []string{"http://127.0.0.1/callback"}},
		{ID: Robot, Type: client.TypeM2M, Secret: Secret},
		{ID: Worker, Type: client.TypeM2M, Secret: Secret},
	}
}

// DefaultUsers are the accounts every test Sesame has.
func DefaultUsers() []account.Spec {
	return []account.Spec{
		{Username: "alice", Password: Password, Email: "alice@example.com", EmailVerified: true, Name: "Alice Example"},
		{Username: "bob", Password: Password, Email: "bob@example.com", Name: "Bob Example"},
	}
}

// New starts a Sesame on httptest and stops it when the test ends.
func New(t TB, opts Options) *Sesame {
	t.Helper()
	ctx := context.Background()
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()

	cfg := config.Default()
	cfg.Issuer = base + "/oidc"
	cfg.Listen = hs.Listener.Addr().String()
	cfg.Database = "sqlite://" + filepath.Join(t.TempDir(), "sesame.db")
	if opts.Database != "" {
		cfg.Database = opts.Database
	}
	apps := map[string]*App{}
	cfg.Clients = DefaultClients()
	for i, c := range cfg.Clients {
		if c.Type == client.TypeWeb {
			apps[c.ID] = NewApp(t, c.ID)
			cfg.Clients[i].BackchannelLogoutURI = apps[c.ID].BackchannelURI()
			cfg.Clients[i].BackchannelLogoutSessionRequired = true
		}
	}
	cfg.Users = DefaultUsers()
	cfg.AdminClients = []string{Robot}
	opts.declareResources(t, &cfg)
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	st, err := sqlstore.Open(ctx, cfg.Database, sqlstore.Options{Strict: cfg.Durability == config.DurabilityStrict})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	clock := NewClock()
	sealer, err := keys.NewSealer([]byte("test secret key, 32 bytes long.."))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keys.Ensure(ctx, keys.Config{Store: st, Sealer: sealer, Now: clock.Now, Retention: cfg.SessionMaxTTL})
	if err != nil {
		t.Fatalf("keys: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := server.New(cfg, server.Deps{Store: st, Keys: ks, Logger: logger, Now: clock.Now, Hasher: Cheap, HTTP: opts.DeliveryHTTP})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	if err := srv.Seed(ctx); err != nil {
		t.Fatalf("seed: %v", err)
	}
	hs.Config.Handler = srv
	hs.Start()
	for _, a := range apps {
		a.Trust(cfg.Issuer, clock.Now)
	}
	stopJobs := srv.StartJobs(ctx)
	t.Cleanup(func() {
		hs.Close()
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = stopJobs(stopCtx)
		_ = st.Close()
	})
	return &Sesame{Server: srv, URL: base, Issuer: cfg.Issuer, HTTP: hs, Clock: clock, Keys: ks, Store: st, Apps: apps}
}

// testWriter sends log lines to the test log.
type testWriter struct{ t TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
