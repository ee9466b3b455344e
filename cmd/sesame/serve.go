package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/logs"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/server"
	"github.com/sesame-id/sesame/internal/store"
	sqlstore "github.com/sesame-id/sesame/internal/store/sql"
)

func serveCmd(g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the OpenID provider",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(getenv)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, stdout, stderr)
		},
	}
}

// operatorSecret is secret_key, or a key generated next to the database.
func operatorSecret(cfg config.Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		return []byte(cfg.SecretKey), nil
	}
	path, ok := sqlitePath(cfg.Database)
	if !ok {
		// Every instance on a shared database must open the same sealed
		// keys; a key file generated per machine would differ.
		return nil, errors.New("secret_key (or SESAME_SECRET_KEY) must be set with a PostgreSQL database: every instance needs the same one")
	}
	return keys.LoadOrCreateSecret(filepath.Join(filepath.Dir(path), "sesame.key"))
}

// listen opens addr, the value of key, saying what to do when it cannot.
func listen(key, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	env := "SESAME_" + strings.ToUpper(key)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%s %s: the address is already in use; is another sesame running? set %s or %s", key, addr, key, env)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("%s %s: not allowed to listen there (ports below 1024 need privileges); set %s or %s", key, addr, key, env)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("%s %s: no network interface of this machine has that address; set %s or %s", key, addr, key, env)
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return nil, fmt.Errorf("%s %s: %v; set %s or %s", key, addr, err, key, env)
}

// serve runs Sesame until ctx is cancelled, then shuts down cleanly:
// in-flight requests finish (docs/endpoints.md). It takes its addresses
// before it opens or creates anything, so a port in use leaves no
// database or key file behind.
func serve(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	ln, err := listen("listen", cfg.Listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	var mln net.Listener
	if cfg.MetricsListen != "" {
		// /metrics on its own address, so it need not be public.
		if mln, err = listen("metrics_listen", cfg.MetricsListen); err != nil {
			return err
		}
		defer mln.Close()
	}
	logger.Info("starting", "issuer", cfg.Issuer, "listen", ln.Addr().String(), "metrics_listen", cfg.MetricsListen,
		"database", maskURL(cfg.Database), "durability", cfg.Durability, "log_level", cfg.LogLevel)
	srv, err := build(ctx, cfg, logger)
	if err != nil {
		return err
	}
	st := srv.Store
	defer st.Close()
	if err := srv.Seed(ctx); err != nil {
		return err
	}
	if mln != nil {
		mhs := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 32 << 10,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
		go func() { _ = mhs.Serve(mln) }()
		defer mhs.Close()
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		// Headers are a cookie or two and a bearer token: 32 KB is ample,
		// and it bounds what each connection may make the process hold
		// (Go's default is 1 MB).
		MaxHeaderBytes: 32 << 10,
		ReadTimeout:    30 * time.Second,
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    2 * time.Minute,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	sweeper := &store.Sweeper{Store: st, Interval: cfg.SweepInterval, AuditRetention: cfg.AuditRetention, Now: time.Now, Logger: logger}
	sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSweep()
	go sweeper.Run(sweepCtx)

	stopJobs := srv.StartJobs(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	// The contract's ready line, as it is; then where a person starts.
	fmt.Fprintf(stdout, "sesame listening on http://%s\n", ln.Addr())
	fmt.Fprintf(stdout, "issuer %s\naccount %s\n", cfg.Issuer, accountURL(cfg.Issuer))

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "delay", cfg.ShutdownDelay)
	if cfg.ShutdownDelay > 0 {
		// Health checks fail first; requests still in the balancer's
		// pipeline are served meanwhile.
		srv.Drain()
		time.Sleep(cfg.ShutdownDelay)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	err = hs.Shutdown(shutdownCtx)
	// Deliveries not yet made stay queued in the database (docs/endpoints.md).
	if jerr := stopJobs(shutdownCtx); jerr != nil {
		logger.Warn("stop back-channel delivery", "err", jerr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// accountURL is the account page of the Sesame whose issuer is issuer:
// /account on the issuer's origin.
func accountURL(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return "/account"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/account"}).String()
}

// build opens the store and the keys and builds a whole Sesame, without
// serving it. The caller closes srv.Store.
func build(ctx context.Context, cfg config.Config, logger *slog.Logger) (*server.Server, error) {
	st, err := openStore(ctx, cfg, sqlstore.Options{Strict: cfg.Durability == config.DurabilityStrict})
	if err != nil {
		return nil, err
	}
	srv, err := func() (*server.Server, error) {
		key, err := operatorSecret(cfg)
		if err != nil {
			return nil, fmt.Errorf("secret_key: %w", err)
		}
		sealer, err := keys.NewSealer(key)
		if err != nil {
			return nil, fmt.Errorf("secret_key: %w", err)
		}
		ks, err := keys.Ensure(ctx, keys.Config{Store: st, Sealer: sealer, Now: time.Now, Retention: cfg.SessionMaxTTL})
		if err != nil {
			return nil, err
		}
		return server.New(cfg, server.Deps{Store: st, Keys: ks, Logger: logger, Now: time.Now, Hasher: secret.Default, Secret: key})
	}()
	if err != nil {
		st.Close()
		return nil, err
	}
	return srv, nil
}

// openStore opens (creating and migrating it if needed) the configured
// database; a SQLite file is created readable by its owner only.
func openStore(ctx context.Context, cfg config.Config, opts sqlstore.Options) (*sqlstore.Store, error) {
	if path, ok := sqlitePath(cfg.Database); ok && path != "" {
		if err := createPrivate(path); err != nil {
			return nil, err
		}
	}
	st, err := sqlstore.Open(ctx, cfg.Database, opts)
	if err != nil {
		return nil, maskedError(err, cfg.Database)
	}
	return st, nil
}

// newLogger logs to stderr as log_format and log_level say (text on a
// terminal, JSON otherwise), never writing the database's password or
// secret_key, whatever a record quotes.
func newLogger(cfg config.Config, stderr io.Writer) *slog.Logger {
	level, err := logs.ParseLevel(cfg.LogLevel)
	if err != nil {
		level = slog.LevelInfo
	}
	return logs.New(scrubbing(stderr, cfg), logs.Options{Format: logs.FormatFor(cfg.LogFormat, stderr), Level: level})
}

func migrateCmd(g *globals, getenv func(string) string, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema, then exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(getenv)
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), cfg, sqlstore.Options{}) // opening migrates
			if err != nil {
				return err
			}
			defer st.Close()
			_, err = fmt.Fprintln(stdout, "database is up to date:", maskURL(cfg.Database))
			return err
		},
	}
}
