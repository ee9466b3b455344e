package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/activity"
	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/console"
	"github.com/sesame-id/sesame/internal/endsession"
	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/oidc"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signin"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/ui"
	"github.com/sesame-id/sesame/internal/web"
)

// Deps are what the server needs from outside the configuration.
type Deps struct {
	Store  store.Store
	Keys   *keys.Set
	Logger *slog.Logger
	// Now is the clock; tests pass a fake one.
	Now func() time.Time
	// Hasher hashes passwords and client secrets; tests use cheap
	// parameters.
	Hasher secret.Hasher
	// Registry collects metrics; nil makes a new one.
	Registry *prometheus.Registry
	// HTTP makes back-channel deliveries; nil builds the default client,
	// which refuses private addresses unless allow_private_network_delivery
	// (B5).
	HTTP *http.Client
	// Secret is the operator's secret_key. The keys of the browser-bound
	// form tokens (W1) and of authorization codes are derived from it, so
	// every instance accepts the forms another rendered and the codes
	// another issued, also after a restart. Nil (tests) makes a random
	// secret per process.
	Secret []byte
}

// Server is a whole Sesame: its services and its handler.
type Server struct {
	Config   config.Config
	Store    store.Store
	Accounts *account.Service
	Clients  *client.Registry
	Sessions *session.Service
	Tokens   *token.Service
	Signout  *signout.Service
	// Resources are the API resources and roles (R1, R2), kept in memory
	// and forgotten on every store.ChangeResources.
	Resources *resource.Registry
	// Backchannel delivers logout tokens; StartJobs runs the worker of
	// its queue.
	Backchannel *backchannel.Deliverer
	// deliveries is the queue's worker, which StartJobs runs.
	deliveries  *backchannel.Worker
	Provider    *oidc.Provider
	EndSession  *endsession.Handler
	AccountPage *admin.AccountPage
	API         *admin.API
	SignIns     *signin.Service
	Forms       *web.Forms // guards the posts of Sesame's own forms (W1): routes wraps exactly those
	Registry    *prometheus.Registry
	Logger      *slog.Logger

	// Activity counts sign-ins, sign-outs and deliveries for the
	// console's charts; StartJobs runs it and its stop flushes it.
	Activity *activity.Recorder
	// Console is the operators' console at /console, an OIDC client of
	// this Sesame whose client Seed registers.
	Console *console.Console

	// Keys are the signing keys.
	Keys           *keys.Set
	trustedProxies []netip.Prefix
	draining       atomic.Bool
	handler        http.Handler
}

// New builds every service and the routes from cfg and d.
func New(cfg config.Config, d Deps) (*Server, error) {
	pages, err := ui.New(d.Logger)
	if err != nil {
		return nil, err
	}
	if len(d.Secret) == 0 {
		// No operator secret (tests): one random for this process, from
		// which the form and code keys are derived as from secret_key.
		d.Secret = make([]byte, 32)
		_, _ = rand.Read(d.Secret) // crypto/rand never fails on supported platforms
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
		// The standard process and runtime figures: the load tool reads
		// process_cpu_seconds_total for the CPU each operation costs.
		d.Registry.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	}
	// A4: argon2id runs in two pools sized to the machine (a short queue
	// behind them, then 503), one for passwords and one for client secrets,
	// so a flood of wrong secrets cannot starve people signing in.
	// Passwords may use every CPU; client secrets half of them, since an
	// honest client pays argon2id once (its secret is remembered, C3) and a
	// generated secret never: what fills that pool is mostly guessing, and
	// it must leave CPU to the people signing in.
	accounts := &account.Service{Store: d.Store, Hasher: d.Hasher, Now: d.Now, Logger: d.Logger,
		Pool: secret.NewPool("passwords", 0, 0, 0)}
	clients := &client.Registry{Store: d.Store, Hasher: d.Hasher, Now: d.Now, AllowPrivateDelivery: cfg.AllowPrivateNetworkDelivery,
		Pool: secret.NewPool("client secrets", max(1, runtime.GOMAXPROCS(0)/2), 0, 0)}
	codes, err := codeSealer(d.Secret)
	if err != nil {
		return nil, err
	}
	resources := &resource.Registry{Store: d.Store, DefaultAccessTokenTTL: cfg.AccessTokenTTL, Now: d.Now}
	tokens := &token.Service{
		Store: d.Store, Signer: d.Keys, Verifier: d.Keys, Resources: resources, Issuer: cfg.Issuer, Now: d.Now, Logger: d.Logger, Codes: codes,
		TTL: token.TTLs{Code: cfg.AuthCodeTTL, Access: cfg.AccessTokenTTL, ID: cfg.IDTokenTTL, Refresh: cfg.RefreshTokenTTL},
	}
	sessions := &session.Service{Store: d.Store, Now: d.Now, TTL: cfg.SessionTTL, MaxTTL: cfg.SessionMaxTTL, Accounts: tokens.Account}
	if d.Store.WatchesOtherProcesses() {
		// Every instance hears of every change (StartJobs watches), so a
		// cached client, account, resource or role can live long; the
		// minute only bounds the damage of a notification that never came.
		clients.CacheFor = time.Minute
		tokens.AccountCacheFor = time.Minute
		resources.CacheFor = time.Minute
	}
	if d.HTTP == nil {
		d.HTTP = backchannel.NewHTTPClient(cfg.AllowPrivateNetworkDelivery)
	}
	// Deliveries to Sesame's own back-channel URI (the console's, handed
	// to local below) are served in process: never a loop out through a
	// load balancer, never refused by the outbound filter. Every other
	// goes out through d.HTTP as it is.
	deliveryHTTP, local := backchannel.WithLocal(d.HTTP)
	// Counts for the console's charts: in memory, flushed once a minute
	// by StartJobs (a crash loses at most that minute).
	rec := &activity.Recorder{Store: d.Store, Now: d.Now, Logger: d.Logger}
	deliverer := &backchannel.Deliverer{
		Store: d.Store, Clients: clients, Signer: d.Keys, Issuer: cfg.Issuer, HTTP: deliveryHTTP, Now: d.Now, Logger: d.Logger,
		Metrics: backchannel.NewMetrics(d.Registry), Activity: rec,
	}
	signouts := &signout.Service{
		Store: d.Store, Sessions: sessions, Backchannel: deliverer, Wait: cfg.BackchannelWait,
		Now: d.Now, Logger: d.Logger, Metrics: signout.NewMetrics(d.Registry), Activity: rec,
	}
	signins := &signin.Service{Store: d.Store, Sessions: sessions, Signout: signouts, Now: d.Now}
	forms, err := newForms(cfg, d, pages)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Config: cfg, Store: d.Store, Accounts: accounts, Clients: clients, Sessions: sessions, Tokens: tokens, Resources: resources,
		Signout: signouts, Backchannel: deliverer, deliveries: backchannel.NewWorker(deliverer, 50), Registry: d.Registry, Logger: d.Logger, Keys: d.Keys,
		SignIns: signins, Forms: forms, Activity: rec,
		Provider: &oidc.Provider{
			Issuer: cfg.Issuer, Store: d.Store, Clients: clients, Accounts: accounts, Sessions: sessions,
			Tokens: tokens, Signout: signouts, Keys: d.Keys, Pages: pages, GrantTTL: cfg.GrantTTL, AdminClients: cfg.AdminClients,
			SignIns: signins, Cookies: forms.Cookies, Forms: forms, Resources: resources,
			ClientThrottle: &account.ClientThrottle{Store: d.Store, Now: d.Now, Logger: d.Logger},
			AuthRequestTTL: cfg.AuthRequestTTL, RequirePKCE: cfg.RequirePKCE, Now: d.Now, Logger: d.Logger,
			Activity: rec,
		},
		EndSession: &endsession.Handler{
			Issuer: cfg.Issuer, Store: d.Store, Keys: d.Keys, Clients: clients, Sessions: sessions,
			Service: signouts, Pages: pages, ConfirmMode: cfg.SignoutConfirm, RequestTTL: cfg.AuthRequestTTL,
			Cookies: forms.Cookies, Forms: forms, Now: d.Now, Logger: d.Logger,
		},
		API: &admin.API{
			Store: d.Store, Tokens: tokens, Clients: clients, Accounts: accounts, Signout: signouts,
			AdminClients: cfg.AdminClients, Resources: resources, Declared: admin.Declared{Clients: cfg.Clients, Users: cfg.Users},
			Now: d.Now, Logger: d.Logger,
		},
		AccountPage: &admin.AccountPage{
			Issuer: cfg.Issuer, Store: d.Store, Accounts: accounts, Sessions: sessions, Signout: signouts, Pages: pages,
			SignIns: signins, Cookies: forms.Cookies, Forms: forms, Now: d.Now, Logger: d.Logger, Activity: rec,
		},
	}
	declared := admin.Declared{Clients: cfg.Clients, Users: cfg.Users}
	s.Console, err = console.New(console.Config{
		Issuer: cfg.Issuer, Store: d.Store, Tokens: tokens, Resources: resources, Registry: clients,
		// The operations on clients the admin API makes too (C4, audit).
		Clients: &admin.Clients{Store: d.Store, Registry: clients, Declared: declared, Now: d.Now, Logger: d.Logger},
		// Deliveries and their retry, as the admin API makes them (B3).
		Deliveries: &admin.Deliveries{Store: d.Store, Backchannel: deliverer, Wait: cfg.BackchannelWait, Now: d.Now},
		Keys:       d.Keys, Cookies: forms.Cookies, Forms: forms, Secret: d.Secret, Now: d.Now, Logger: d.Logger,

		// The operations on accounts the admin API makes too (C4, A5, O6, O7, audit).
		Accounts: &admin.Accounts{Store: d.Store, Accounts: accounts, Signout: signouts, Roles: resources, Declared: declared, Now: d.Now, Logger: d.Logger},
	})
	if err != nil {
		return nil, err
	}
	if err := local.Handle(s.Console.BackchannelLogoutURI(), s.Console.BackchannelLogout()); err != nil {
		return nil, err
	}
	if s.trustedProxies, err = cfg.TrustedProxyRanges(); err != nil {
		return nil, err
	}
	s.handler = s.routes(pages)
	d.Store.OnCommit(s.forget)
	return s, nil
}

// codeSealer seals authorization codes under a key derived from the
// operator's secret_key, so a code one instance issued is redeemed at
// another, also after a restart.
func codeSealer(secret []byte) (*keys.Sealer, error) {
	s, err := keys.NewSealerFor(secret, "sesame authorization codes")
	if err != nil {
		return nil, fmt.Errorf("authorization code key: %w", err)
	}
	return s, nil
}

// newForms builds the guard of Sesame's own forms (W1): cookies as the
// issuer's scheme wants them (S1), a token key derived from the operator's
// secret, and refusals shown as an error page in words.
func newForms(cfg config.Config, d Deps, pages *ui.Pages) (*web.Forms, error) {
	key, err := web.FormKey(d.Secret)
	if err != nil {
		return nil, err
	}
	return &web.Forms{
		Cookies: web.NewCookies(cfg.Issuer), Key: key, TTL: cfg.SessionMaxTTL, Now: d.Now,
		Refuse: func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
			pages.Error(w, status, ui.ErrorData{Title: "Request refused", Message: msg})
		},
	}, nil
}

// ServeHTTP serves every route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Seed upserts the declarative clients and users of the configuration
// (docs/endpoints.md: upserted at start) and the console's own client
// (client.ConsoleID, with a new random secret nobody keeps), then its API
// resources and roles and the roles its users and clients hold (C4).
// Instances starting at once on one database seed the same records;
// every upsert tolerates that race. admin_clients and a client's admin
// flag, declared or stored, are still read (C5), with a warning: the
// admin role is given as a role now.
func (s *Server) Seed(ctx context.Context) error {
	for _, c := range s.Config.Clients {
		if _, err := s.Clients.Upsert(ctx, c); err != nil {
			return fmt.Errorf("client %s: %w", c.ID, err)
		}
	}
	if err := s.Console.Register(ctx); err != nil {
		return err
	}
	for _, u := range s.Config.Users {
		if _, err := s.Accounts.Upsert(ctx, u); err != nil {
			return fmt.Errorf("user %s: %w", u.Username, err)
		}
	}
	d := resource.Declaration{APIs: s.Config.APIResources, Roles: s.Config.Roles}
	for _, u := range s.Config.Users {
		if u.Roles != nil { // none listed: the account's roles are left alone
			d.Users = append(d.Users, resource.Assignment{Holder: u.Username, Roles: u.Roles})
		}
	}
	for _, c := range s.Config.Clients {
		if c.Roles != nil {
			d.Clients = append(d.Clients, resource.Assignment{Holder: c.ID, Roles: c.Roles})
		}
	}
	// Every stored client is looked at, not only the declared ones: the
	// flag may have been set through the admin API or an earlier file.
	stored, err := s.Store.Clients(ctx)
	if err != nil {
		return fmt.Errorf("list clients: %w", err)
	}
	for _, c := range stored {
		if c.Admin {
			s.Logger.WarnContext(ctx, "a client's admin flag is deprecated: give the client roles: [admin]", "client_id", c.ID)
		}
	}
	if len(s.Config.AdminClients) > 0 {
		s.Logger.WarnContext(ctx, "admin_clients is deprecated: give the client roles: [admin]", "admin_clients", s.Config.AdminClients)
	}
	return s.Resources.Seed(ctx, d)
}

// StartJobs runs the background work of an instance until the returned
// stop function is called: the worker of the back-channel queue (B3), and
// the watch that keeps this instance's cached clients, accounts, keys,
// resources and roles in step with changes any instance or process
// commits.
func (s *Server) StartJobs(ctx context.Context) (stop func(context.Context) error) {
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	var watched sync.WaitGroup
	watched.Go(func() { s.deliveries.Run(watchCtx) })
	watched.Go(func() { s.Store.Watch(watchCtx, s.apply) })
	watched.Go(func() {
		// The watch hears of new keys at once; this reload only bounds the
		// damage of a notification that never came (a rotation publishes
		// its key a day before it signs).
		t := time.NewTicker(keyReloadEvery)
		defer t.Stop()
		for {
			select {
			case <-watchCtx.Done():
				return
			case <-t.C:
				s.reloadKeys()
			}
		}
	})
	s.Activity.Start(watchCtx)
	return func(ctx context.Context) error {
		stopWatch()
		done := make(chan struct{})
		go func() { watched.Wait(); close(done) }()
		select {
		case <-done:
			// After the delivery workers: their last attempts count too.
			return s.Activity.Close()
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("stop background work: %w", ctx.Err()), s.Activity.Close())
		}
	}
}

// keyReloadEvery is how often an instance reads the signing keys again
// whatever it heard.
const keyReloadEvery = time.Minute

// forget drops what a change of this process makes stale, before its
// commit returns, so the next request never reads the old copy; apply
// does the slower rest (keys) on the watch's goroutine.
func (s *Server) forget(c store.Change) {
	switch c.Kind {
	case store.ChangeClient:
		s.Clients.Forget(c.ID)
	case store.ChangeAccount:
		s.Tokens.ForgetAccount(c.ID)
	case store.ChangeResources:
		s.Resources.Forget(c.ID)
	case store.ChangeAll:
		s.Clients.ForgetAll()
		s.Tokens.ForgetAccounts()
		s.Resources.ForgetAll()
	}
}

// apply brings the caches up to date with one change: what forget drops
// (again, for this process's changes; first, for other processes'), then
// the keys and the delivery workers.
func (s *Server) apply(c store.Change) {
	s.forget(c)
	switch c.Kind {
	case store.ChangeKeys, store.ChangeAll:
		s.reloadKeys()
	case store.ChangeDeliveries:
		s.deliveries.Wake()
	}
}

func (s *Server) reloadKeys() {
	if s.Keys == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Keys.Reload(ctx); err != nil {
		// The next ChangeAll, after the watch's connection comes back,
		// reloads again.
		s.Logger.WarnContext(ctx, "reload signing keys", "err", err)
	}
}

// Drain makes /healthz answer 503 from now on, while every other route
// keeps serving: a load balancer takes the instance out of rotation before
// it stops (serve calls it at shutdown, then waits shutdown_delay).
func (s *Server) Drain() { s.draining.Store(true) }

// healthz answers 200 while the database answers, 503 otherwise or once
// the instance is draining.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("shutting down\n"))
		return
	}
	if err := s.Store.Ping(ctx); err != nil {
		s.Logger.WarnContext(ctx, "health check: database unreachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
