package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/demo"
	"github.com/sesame-id/sesame/internal/logs"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/rp"
	rpresource "github.com/sesame-id/sesame/rp/resource"
)

// demoAddrs are where the demo serves Sesame and its two apps.
type demoAddrs struct {
	sesame, app1, app2 string
	// api is the Orders API's address.
	api string
	// confirm is signout_confirm: auto or ask.
	confirm string
}

func demoCmd(stdout, stderr io.Writer) *cobra.Command {
	var a demoAddrs
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Sesame with two sample apps, to try single sign-on and sign-out in a browser",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), a, stdout, stderr)
		},
	}
	cmd.Flags().StringVar(&a.sesame, "addr", "127.0.0.1:4000", "Sesame's address")
	cmd.Flags().StringVar(&a.app1, "app1", "127.0.0.1:4001", "the first app's address")
	cmd.Flags().StringVar(&a.app2, "app2", "127.0.0.1:4002", "the second app's address")
	cmd.Flags().StringVar(&a.api, "api", "127.0.0.1:4003", "the Orders API's address")
	cmd.Flags().StringVar(&a.confirm, "signout-confirm", "auto", "auto: sign-out signs out of every app, as Logto; ask: the person chooses")
	return cmd
}

// runDemo serves Sesame on a temporary SQLite database, with users alice
// and bob, two first-party apps written with the SDK and an Orders API
// that both apps call with a JWT access token, until ctx ends; then it
// removes the database.
func runDemo(ctx context.Context, a demoAddrs, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "sesame-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	password := admin.NewSecret()[:12]
	cfg := config.Default()
	cfg.Issuer = "http://" + a.sesame + "/oidc"
	cfg.Listen = a.sesame
	cfg.Database = "sqlite://" + filepath.Join(dir, "sesame.db")
	cfg.SecretKey = admin.NewSecret()
	cfg.LogLevel = "warn"
	if a.confirm != "" {
		cfg.SignoutConfirm = a.confirm
	}
	apps := []struct{ id, name, addr string }{{"app-1", "App One", a.app1}, {"app-2", "App Two", a.app2}}
	for _, app := range apps {
		base := "http://" + app.addr
		cfg.Clients = append(cfg.Clients, client.Spec{
			ID: app.id, Name: app.name, Secret: app.id + "-secret", Type: client.TypeWeb, FirstParty: true,
			RedirectURIs: []string{base + "/callback"}, PostLogoutRedirectURIs: []string{base + "/"},
			BackchannelLogoutURI: base + "/backchannel-logout", BackchannelLogoutSessionRequired: true,
			// Both channels, as an app may register them. The back-channel
			// logout goes first (B3), so the front-channel page, which
			// Sesame's last sign-out page loads in a frame, usually finds the
			// session already ended; it ends it when the back channel did
			// not get through in time.
			FrontchannelLogoutURI: base + "/frontchannel-logout", FrontchannelLogoutSessionRequired: true,
		})
	}
	// The Orders API: alice's role lets her read orders, bob has none.
	ordersAPI := "http://" + a.api
	cfg.APIResources = []resource.APISpec{{Indicator: ordersAPI, Name: "Orders API", Scopes: []string{demo.ScopeReadOrders}}}
	cfg.Roles = []resource.RoleSpec{{Name: "orders-reader", Permissions: map[string][]string{ordersAPI: {demo.ScopeReadOrders}}}}
	cfg.Users = []account.Spec{
		{Username: "alice", Password: password, Email: "alice@example.com", Name: "Alice Example", EmailVerified: true, Roles: []string{"orders-reader"}},
		{Username: "bob", Password: password, Email: "bob@example.com", Name: "Bob Example", EmailVerified: true},
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("demo configuration: %v", err)
	}

	sctx, stopSesame := context.WithCancel(ctx)
	defer stopSesame()
	served := make(chan error, 1)
	go func() { served <- serve(sctx, cfg, io.Discard, stderr) }()
	if err := waitHealthy(ctx, "http://"+a.sesame+"/healthz", served); err != nil {
		return err
	}

	// The apps log as Sesame does: one format (log_format) on one stream.
	logger := logs.New(stderr, logs.Options{Format: cfg.LogFormat, Level: slog.LevelWarn})
	var servers []*http.Server
	verifier, err := rpresource.New(ctx, rpresource.Config{Issuer: cfg.Issuer, Audience: ordersAPI, Logger: logger})
	if err != nil {
		return fmt.Errorf("orders API: %w", err)
	}
	apiLn, err := net.Listen("tcp", a.api)
	if err != nil {
		return fmt.Errorf("orders API: listen on %s: %w", a.api, err)
	}
	apiServer := &http.Server{Handler: demo.NewOrdersAPI(verifier), ReadHeaderTimeout: 10 * time.Second}
	servers = append(servers, apiServer)
	go func() { _ = apiServer.Serve(apiLn) }()
	// Both apps read orders the same way; the person's roles, not the
	// app, decide whether the API answers with orders or 403.
	orders := &demo.Orders{URL: ordersAPI, Resource: ordersAPI}
	for _, app := range apps {
		base := "http://" + app.addr
		sessions := demo.NewSessions()
		rc := rp.Config{Issuer: cfg.Issuer, ClientID: app.id, ClientSecret: app.id + "-secret",
			RedirectURL: base + "/callback", PostLogoutRedirectURL: base + "/", Sessions: sessions,
			CookieName: app.id + "_session", Logger: logger}
		orders.Configure(&rc)
		c, err := rp.New(ctx, rc)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", app.addr)
		if err != nil {
			return fmt.Errorf("%s: listen on %s: %w", app.name, app.addr, err)
		}
		h, err := demo.NewApp(app.name, app.id+"_session", cfg.Issuer, c, sessions, logger)
		if err != nil {
			return err
		}
		h.Orders = orders
		hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, hs)
		go func() { _ = hs.Serve(ln) }()
	}
	fmt.Fprintf(stdout, `sesame listening on http://%s
Sesame demo: one identity provider, two apps and an API.
  Sesame:     http://%s/oidc   (your devices and apps: http://%s/account)
  App One:    http://%s
  App Two:    http://%s
  Orders API: http://%s/orders   (both apps call it with a token from Sesame; it needs read:orders)
Sign in as user alice (may read orders) or bob (may not), password %s
Try: sign in to App One; open App Two and you are signed in without a password (SSO);
sign out of App One (of every app), or on your account page: App Two then says that Sesame
told it your session ended (back-channel logout). Each app also shows alice's orders, read
from the Orders API with a token Sesame issued to that app; signed in as bob, it shows the
API's refusal (403). Ctrl-C stops the demo.
`, a.sesame, a.sesame, a.sesame, a.app1, a.app2, a.api, password)

	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, hs := range servers {
		_ = hs.Shutdown(shutdown)
	}
	stopSesame()
	return <-served
}

// waitHealthy waits for Sesame's /healthz, or its failure to start.
func waitHealthy(ctx context.Context, url string, served <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-served:
			if err == nil {
				err = errors.New("sesame stopped")
			}
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("sesame did not become healthy in 30 s")
}
