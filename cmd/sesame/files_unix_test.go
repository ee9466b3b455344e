//go:build unix

package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The SQLite database, its -wal and -shm files, and the generated
// sesame.key hold every token's hash and the sealed signing keys: each is
// created readable and writable by its owner only (0600), by migrate, by
// serve and by the commands that generate the key, even with a umask that
// lets anyone read new files.
func TestDatabaseAndKeyFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0) // the most permissive: SQLite alone would create 0666
	t.Cleanup(func() { syscall.Umask(old) })

	dir := t.TempDir()
	env := map[string]string{"SESAME_DATABASE": "sqlite://" + filepath.Join(dir, "sesame.db"), "SESAME_LISTEN": "127.0.0.1:0"}
	getenv := func(k string) string { return env[k] }
	ownerOnly := func(when string, names ...string) {
		t.Helper()
		for _, name := range names {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%s: %v", when, err)
				continue
			}
			if mode := fi.Mode().Perm(); mode != 0o600 {
				t.Errorf("%s: %s has mode %04o, want 0600", when, name, mode)
			}
		}
	}

	if err := run(t.Context(), []string{"migrate"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	ownerOnly("after migrate", "sesame.db")
	// The files SQLite leaves between runs, if any, are the owner's too.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		ownerOnly("after migrate", e.Name())
	}

	if err := run(t.Context(), []string{"keys", "list"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	ownerOnly("after keys list", "sesame.db", "sesame.key")

	// serve on a new directory creates them all; while it runs, the
	// write-ahead log and its index are there.
	dir = t.TempDir()
	env["SESAME_DATABASE"] = "sqlite://" + filepath.Join(dir, "sesame.db")
	_, stop, done := serveInProcess(t, env)
	ownerOnly("while serving", "sesame.db", "sesame.db-wal", "sesame.db-shm", "sesame.key")
	stop()
	waitStopped(t, done)

	// A database in a directory that does not exist is one line naming it.
	env["SESAME_DATABASE"] = "sqlite://" + filepath.Join(dir, "missing", "x.db")
	var out bytes.Buffer
	err := run(t.Context(), []string{"migrate"}, getenv, &out, io.Discard)
	if want := "database: cannot create " + filepath.Join(dir, "missing", "x.db") + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("migrate into a missing directory: %v, want %s", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("the missing directory was made: %v", err)
	}
}
