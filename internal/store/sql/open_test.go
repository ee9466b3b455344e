package sql

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/pgtest"
)

// TestOpenURL: Open takes the configuration's database URL, whichever
// database it names: the forms of a SQLite URL open (creating) a file,
// PostgreSQL's are handed to pgx, and anything else is refused before any
// file or connection is made.
func TestOpenURL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, c := range []struct {
		url     string
		file    string // created, relative to dir; "" when refused
		wantErr string
	}{
		{url: "sqlite://relative.db", file: "relative.db"},
		{url: "sqlite://" + filepath.Join(dir, "absolute.db"), file: "absolute.db"},
		{url: "sqlite:opaque.db", file: "opaque.db"},
		{url: "sqlite:" + filepath.Join(dir, "opaque-absolute.db"), file: "opaque-absolute.db"},
		{url: "sqlite://with?question#mark.db", file: "with?question#mark.db"},
		{url: "sqlite://", wantErr: "empty database path"},
		{url: "sqlite:", wantErr: "empty database path"},
		{url: "sqlite://:memory:", wantErr: "give a file path"},
		{url: "sqlite:file:x.db?mode=memory", wantErr: "give a file path"},
		{url: "sqlite://missing-dir/x.db", wantErr: "open"},
		{url: "mysql://localhost/sesame", wantErr: "must start with"},
		{url: "sqlite3://x.db", wantErr: "must start with"},
		{url: "postgres:sesame", wantErr: "must start with"},
		{url: "host=localhost dbname=sesame", wantErr: "must start with"},
		{url: "", wantErr: "must start with"},
	} {
		t.Run(c.url, func(t *testing.T) {
			s, err := Open(t.Context(), c.url, Options{})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					if err == nil {
						s.Close()
					}
					t.Fatalf("Open(%q) = %v, want an error with %q", c.url, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", c.url, err)
			}
			defer s.Close()
			if err := s.Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
			if s.Dialect() != "sqlite" {
				t.Errorf("Open(%q) is %s, want sqlite", c.url, s.Dialect())
			}
			if !fileExists(filepath.Join(dir, c.file)) {
				t.Errorf("Open(%q) did not create %s", c.url, c.file)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "x.db") || strings.Contains(e.Name(), "memory") {
			t.Errorf("a refused URL left %s", e.Name())
		}
	}
}

// TestOpenPostgresURLs: both PostgreSQL schemes open the same database,
// and Dialect says which it is.
func TestOpenPostgresURLs(t *testing.T) {
	dbURL := pgtest.FreshDB(t)
	for _, u := range []string{dbURL, "postgresql://" + strings.TrimPrefix(dbURL, "postgres://")} {
		s, err := Open(t.Context(), u, Options{})
		if err != nil {
			t.Fatalf("Open(%s): %v", u, err)
		}
		if s.Dialect() != "postgres" {
			t.Errorf("Open(%s) is %s, want postgres", u, s.Dialect())
		}
		s.Close()
	}
}

// TestOpenFailsOnUnreachableServer: a PostgreSQL server that does not
// answer is an error from Open, not from the first request, and the
// password in the URL stays out of it.
func TestOpenFailsOnUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens, the connection is refused.
	_, err := Open(ctx, "postgres://nobody:s3cret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", Options{})
	if err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("Open of an unreachable server = %v, want a connect error", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
	_, err = Open(ctx, "postgres://nobody:s3cret@127.0.0.1:notaport/none", Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of an unparsable URL = %v, want an error without the password", err)
	}
}

// TestPoolSize: the PostgreSQL pool is sized for a server unless the URL
// says otherwise.
func TestPoolSize(t *testing.T) {
	dbURL := pgtest.FreshDB(t)
	for _, c := range []struct {
		url  string
		want int32
	}{{dbURL, defaultMaxConns()}, {withParam(t, dbURL, "pool_max_conns", "3"), 3}} {
		s, err := Open(t.Context(), c.url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.e.(*pgEngine).pool.Config().MaxConns; got != c.want {
			t.Errorf("%s: %d connections, want %d", c.url, got, c.want)
		}
		s.Close()
	}
}

// TestInstancesStartingAtOnceMigrateOnce: several instances opening one
// new PostgreSQL database at the same moment all succeed, and each
// migration is applied once (the advisory lock).
func TestInstancesStartingAtOnceMigrateOnce(t *testing.T) {
	dbURL := pgtest.FreshDB(t)
	const instances = 4
	stores := make([]*Store, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dbURL, Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	var applied, distinct int
	err := stores[0].q.queryRow(t.Context(),
		`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if applied != distinct || applied == 0 {
		t.Errorf("goose recorded %d migrations, %d distinct: want each once", applied, distinct)
	}
}

// TestReopenMigratesIdempotently: opening a database that is already up to
// date (a restart, `sesame migrate` then `sesame serve`) changes nothing
// and loses nothing.
func TestReopenMigratesIdempotently(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect) {
		ctx := t.Context()
		dbURL := freshURL(t, d)
		s, err := Open(ctx, dbURL, Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, store.Durable, func(tx store.Tx) error {
			return tx.UpsertAccount(ctx, store.Account{ID: "a1", Username: "alice"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate an up-to-date database: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			s, err = Open(ctx, dbURL, Options{})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			if _, err := s.Account(ctx, "a1"); err != nil {
				t.Errorf("account after reopen: %v", err)
			}
			if err := s.Ping(ctx); err != nil {
				t.Errorf("ping: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
