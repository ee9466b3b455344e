package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A command called wrongly (an unknown command or flag, the wrong
// arguments) prints one readable error line, then that command's usage,
// and exits 2; an error while running is one line alone, exit 1.
func TestUsageErrorsPrintTheUsage(t *testing.T) {
	for _, c := range []struct {
		args  []string
		line  string // the error line main prints
		usage string // the usage's first command line
	}{
		{[]string{"frob"}, `sesame: unknown command "frob"`, "sesame [command]"},
		{[]string{"serv"}, `sesame: unknown command "serv" (did you mean "serve"?)`, "sesame [command]"},
		{[]string{"users", "ad", "carol"}, `sesame: users: unknown command "ad" (did you mean "add"?)`, "sesame users [command]"},
		{[]string{"users", "disable"}, "sesame: users disable: wants USERNAME; got 0 arguments", "sesame users disable USERNAME [flags]"},
		{[]string{"sessions", "revoke", "a", "b"}, "sesame: sessions revoke: wants SESSION_ID; got 2 arguments", "sesame sessions revoke SESSION_ID [flags]"},
		{[]string{"keys", "list", "extra"}, "sesame: keys list: takes no arguments; got 1", "sesame keys list [flags]"},
		{[]string{"version", "--verbose"}, "sesame: version: unknown flag: --verbose", "sesame version [flags]"},
		{[]string{"keys", "rotate", "--alg"}, "sesame: keys rotate: flag needs an argument: --alg", "sesame keys rotate [flags]"},
		{[]string{"keys", "rotate", "--publish-ahead", "soon"}, `sesame: keys rotate: invalid argument "soon" for "--publish-ahead" flag: time: invalid duration "soon"`, "sesame keys rotate [flags]"},
		{[]string{"--no-such-flag"}, "sesame: unknown flag: --no-such-flag", "sesame [command]"},
		{[]string{"users", "add", "frank", "hunter2"}, "sesame: users add: the password is no longer an argument", "sesame users add USERNAME [flags]"},
	} {
		name := strings.Join(c.args, " ")
		err := runIO(t.Context(), c.args, noEnv, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil {
			t.Errorf("sesame %s: accepted", name)
			continue
		}
		var out bytes.Buffer
		code := report(&out, err)
		first, rest, _ := strings.Cut(out.String(), "\n")
		if code != 2 || !strings.HasPrefix(first, c.line) {
			t.Errorf("sesame %s: exit %d, first line %q; want exit 2 and %q", name, code, first, c.line)
		}
		if !strings.HasPrefix(rest, "\nUsage:\n") || !strings.Contains(rest, "\n  "+c.usage+"\n") {
			t.Errorf("sesame %s: no usage of %q after the error line:\n%s", name, c.usage, out.String())
		}
		if strings.Contains(out.String(), "hunter2") {
			t.Errorf("sesame %s: the output repeats an argument that may be a secret:\n%s", name, out.String())
		}
	}

	// A group alone shows its help and succeeds, as before.
	var help bytes.Buffer
	if err := runIO(t.Context(), []string{"users"}, noEnv, strings.NewReader(""), &help, io.Discard); err != nil || !strings.Contains(help.String(), "set-password") {
		t.Errorf("sesame users: %v\n%s", err, help.String())
	}

	// An error while running: one line, no usage.
	err := runIO(t.Context(), []string{"keys", "rotate", "--alg", "HS256"}, noEnv, strings.NewReader(""), io.Discard, io.Discard)
	var out bytes.Buffer
	if code := report(&out, err); code != 1 || strings.Count(out.String(), "\n") != 1 || strings.Contains(out.String(), "Usage") {
		t.Errorf("a runtime error: exit %d, output %q; want one line, exit 1", code, out.String())
	}
}

// The commands that work on an existing database refuse to create one:
// run where there is none, they say how to get one, and leave the
// directory as it was. --database names another, and migrate makes it.
func TestCommandsDoNotCreateADatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	const want = "no database at ./sesame.db; run sesame migrate or pass --database"
	for _, args := range [][]string{
		{"users", "add", "carol"},
		{"users", "set-password", "carol"},
		{"users", "disable", "carol"},
		{"clients", "add", "app", "--redirect-uri", "https://app.example/cb"},
		{"clients", "add", "app", "--generate-secret", "--redirect-uri", "https://app.example/cb"},
		{"clients", "list"},
		{"clients", "remove", "app"},
		{"sessions", "list", "carol"},
		{"sessions", "revoke", "s1"},
		{"admin", "create-client", "ops"},
		{"keys", "list"},
		{"keys", "rotate"},
	} {
		_, err := cli{t, nil}.run("a password\n", args...)
		if err == nil || err.Error() != want {
			t.Errorf("sesame %s: %v; want %q", strings.Join(args, " "), err, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the refused commands left %v", entries)
	}

	other := filepath.Join("data", "other.db")
	if err := os.Mkdir("data", 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := cli{t, nil}.run("", "keys", "list", "--database", other)
	if err == nil || err.Error() != "no database at ./data/other.db; run sesame migrate or pass --database" {
		t.Errorf("--database to a missing file: %v", err)
	}
	// --database wins over the environment, as a URL or a path.
	env := map[string]string{"SESAME_DATABASE": "sqlite://" + filepath.Join(dir, "ignored.db")}
	if out, err := (cli{t, env}).run("", "migrate", "--database", other); err != nil || !strings.Contains(out, "sqlite://data/other.db") {
		t.Fatalf("migrate --database %s: %q %v", other, out, err)
	}
	if out, err := (cli{t, env}).run("", "--database", "sqlite://"+other, "keys", "list"); err != nil || !strings.Contains(out, "ES256") {
		t.Errorf("keys list on the migrated database: %q %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ignored.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the environment's database was used over --database: %v", err)
	}
}

// A mistake in the configuration file reaches the person as one line per
// command, naming the file, the line, the key and the fix; several are
// joined on that line.
func TestConfigMistakesAreOneLineNamingTheFix(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(cfg, []byte("issuer: http://127.0.0.1:4000/oidc\nsesion_ttl: 1h\nclients:\n  - id: a\n    redirect_uri: https://a.example/cb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := cfg + ":2: unknown key `sesion_ttl` (did you mean `session_ttl`?); " +
		cfg + ":5: unknown key `clients[0].redirect_uri` (did you mean `redirect_uris`?)"
	for _, args := range [][]string{{"serve"}, {"migrate"}, {"keys", "list"}} {
		err := runIO(t.Context(), append(args, "--config", cfg), noEnv, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || err.Error() != want {
			t.Errorf("sesame %s: %v\nwant %s", strings.Join(args, " "), err, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a refused configuration left %v", entries)
	}
}
