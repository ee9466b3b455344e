// Package pgtest gives tests a PostgreSQL database of their own on the
// server SESAME_TEST_POSTGRES names. Without that variable the tests that
// need one skip with a message, except in CI (CI=true), where they fail:
// the PostgreSQL backend must be tested there.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ServerURL returns SESAME_TEST_POSTGRES, a URL whose user may create
// databases, or skips t (fails it in CI) when it is not set.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SESAME_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SESAME_TEST_POSTGRES is not set: in CI the PostgreSQL tests must run, never skip")
		}
		t.Skip("PostgreSQL tests skipped: set SESAME_TEST_POSTGRES to a server URL, " +
			"e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return u
}

// FreshDB creates an empty database for t, drops it when t ends, and
// returns its URL: the server's URL with the database name replaced.
func FreshDB(t testing.TB) string {
	t.Helper()
	base := ServerURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("SESAME_TEST_POSTGRES: %v", err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "sesame_test_" + hex.EncodeToString(b)
	Exec(t, base, "CREATE DATABASE "+name)
	t.Cleanup(func() {
		// Connections a failed test left open would make DROP fail.
		Exec(t, base,
			`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '`+name+`' AND pid <> pg_backend_pid()`,
			"DROP DATABASE IF EXISTS "+name)
	})
	u.Path = "/" + name
	return u.String()
}

// Exec runs statements on the database dbURL names, failing t on an error.
func Exec(t testing.TB, dbURL string, statements ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", redact(dbURL), err)
	}
	defer conn.Close(ctx)
	for _, sql := range statements {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// redact drops a password from a URL for messages.
func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "the test database"
	}
	return u.Redacted()
}
