package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/server"
	"github.com/sesame-id/sesame/internal/store"
	sqlstore "github.com/sesame-id/sesame/internal/store/sql"
)

func serveCmd(configPath *string, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the OpenID provider",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(*configPath, getenv)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, stdout, stderr)
		},
	}
}

// loadConfig reads and validates the configuration.
func loadConfig(path string, getenv func(string) string) (config.Config, error) {
	cfg, err := config.Load(path, getenv)
	if err != nil {
		return cfg, maskedError(err, cfg.Database)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, maskedError(fmt.Errorf("invalid configuration: %s", strings.ReplaceAll(err.Error(), "\n", "; ")), cfg.Database)
	}
	return cfg, nil
}

// operatorSecret is secret_key, or a key generated next to the database.
func operatorSecret(cfg config.Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		return []byte(cfg.SecretKey), nil
	}
	if !strings.HasPrefix(cfg.Database, "sqlite:") {
		// Every instance on a shared database must open the same sealed
		// keys; a key file generated per machine would differ.
		return nil, errors.New("secret_key (or SESAME_SECRET_KEY) must be set with a PostgreSQL database: every instance needs the same one")
	}
	dir := "."
	if path, ok := strings.CutPrefix(cfg.Database, "sqlite://"); ok {
		dir = filepath.Dir(path)
	}
	return keys.LoadOrCreateSecret(filepath.Join(dir, "sesame.key"))
}

// serve runs Sesame until ctx is cancelled, then shuts down cleanly:
// in-flight requests finish (contract.md).
func serve(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	srv, err := build(ctx, cfg, logger)
	if err != nil {
		return err
	}
	st := srv.Store
	defer st.Close()
	if err := srv.Seed(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	if cfg.MetricsListen != "" {
		// /metrics on its own address, so it need not be public.
		mln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics_listen: listen on %s: %w", cfg.MetricsListen, err)
		}
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
	sweeper := &store.Sweeper{Store: st, Interval: cfg.SweepInterval, Now: time.Now, Logger: logger}
	sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSweep()
	go sweeper.Run(sweepCtx)

	stopJobs := srv.StartJobs(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "sesame listening on http://%s\n", ln.Addr())

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
	// Deliveries not yet made stay queued in the database (contract.md).
	if jerr := stopJobs(shutdownCtx); jerr != nil {
		logger.Warn("stop back-channel delivery", "err", jerr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// build opens the store and the keys and builds a whole Sesame, without
// serving it. The caller closes srv.Store.
func build(ctx context.Context, cfg config.Config, logger *slog.Logger) (*server.Server, error) {
	st, err := sqlstore.Open(ctx, cfg.Database, sqlstore.Options{Strict: cfg.Durability == config.DurabilityStrict})
	if err != nil {
		return nil, maskedError(err, cfg.Database)
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

// newLogger logs JSON to stderr at the configured level.
func newLogger(cfg config.Config, stderr io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
}

func migrateCmd(configPath *string, getenv func(string) string, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema, then exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(*configPath, getenv)
			if err != nil {
				return err
			}
			st, err := sqlstore.Open(cmd.Context(), cfg.Database, sqlstore.Options{}) // opening migrates
			if err != nil {
				return maskedError(err, cfg.Database)
			}
			defer st.Close()
			_, err = fmt.Fprintln(stdout, "database is up to date:", maskURL(cfg.Database))
			return err
		},
	}
}
