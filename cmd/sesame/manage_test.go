package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/sesametest"
	sqlstore "github.com/sesame-id/sesame/internal/store/sql"
	"github.com/sesame-id/sesame/internal/store/sql/pgtest"
)

// cli runs sesame commands on one configuration, feeding stdin.
type cli struct {
	t   *testing.T
	env map[string]string
}

func (c cli) run(stdin string, args ...string) (string, error) {
	var out bytes.Buffer
	err := runIO(c.t.Context(), args, func(k string) string { return c.env[k] }, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

// The management commands work on the configured database: users add,
// set-password and disable; clients add and list; sessions list; admin
// create-client, which gives the client the admin role. Bad input is one
// readable error.
func TestManagementCommands(t *testing.T) {
	dir := t.TempDir()
	sesame := cli{t, map[string]string{"SESAME_DATABASE": "sqlite://" + filepath.Join(dir, "s.db")}}
	if _, err := sesame.run("", "migrate"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"pw-1\n", []string{"users", "add", "carol", "--email", "carol@example.com"}, "account carol"},
		{"pw-2\n", []string{"users", "set-password", "carol"}, "password of carol changed; 0 sessions ended"},
		{"", []string{"users", "disable", "carol"}, "account carol disabled; 0 sessions ended"},
		{"s3cret\n", []string{"clients", "add", "app-x", "--redirect-uri", "https://x.example/cb"}, "client app-x (web) saved"},
		{"", []string{"clients", "add", "app-y", "--generate-secret", "--redirect-uri", "https://y.example/cb"}, "client_secret: "},
		{"", []string{"clients", "add", "spa-z", "--type", "spa", "--redirect-uri", "https://z.example/cb"}, "client spa-z (spa) saved"},
		{"", []string{"clients", "list"}, "app-x"},
		{"", []string{"sessions", "list", "carol"}, "SESSION"},
		{"", []string{"admin", "create-client", "ops"}, "client_secret: "},
		{"", []string{"clients", "remove", "app-x"}, "client app-x removed"},
		{"", []string{"keys", "list"}, "signing"},
		{"", []string{"keys", "rotate", "--alg", "ES256", "--publish-ahead", "1h"}, "new ES256 key published"},
		{"", []string{"keys", "list"}, "next"},
	} {
		out, err := sesame.run(c.stdin, c.args...)
		if err != nil || !strings.Contains(out, c.want) {
			t.Errorf("sesame %s: %q, %v; want %q", strings.Join(c.args, " "), out, err, c.want)
		}
	}
	for _, bad := range [][]string{
		{"users", "disable", "nobody"},
		{"users", "add", "Carol"}, // A1: carol exists; a password is changed by set-password only
		{"clients", "add", "bad", "--type", "web", "--redirect-uri", "http://evil.example/cb"},
		{"sessions", "revoke", "no-such-session"},
		{"clients", "remove", "app-x"},
		{"clients", "remove", "sesame-console"}, // the console's own client (C1)
		{"clients", "add", "sesame-console", "--type", "spa", "--redirect-uri", "https://z.example/cb"},
		{"admin", "create-client", "ops"},
		{"keys", "rotate", "--alg", "HS256"},
	} {
		if _, err := sesame.run("a-secret\n", bad...); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("sesame %s: %v, want one readable error", strings.Join(bad, " "), err)
		}
	}

	// Each change above is in the audit log, made by the command line
	// (the operator's login), in the order made; the refused ones are not.
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(dir, "s.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := audit.List(t.Context(), st, audit.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Actor.Kind != audit.ActorCLI || e.Actor.ID == "" {
			t.Errorf("entry %s by %+v, want the command line", e.Action, e.Actor)
		}
		got = append([]string{string(e.Action) + " " + e.Target.ID}, got...)
	}
	want := []string{"account.create ", "account.password_change ", "account.disable ", "client.create app-x", "client.create app-y",
		"client.create spa-z", "client.create ops", "roles.assign ops", "client.delete app-x", "key.rotate "}
	if len(got) != len(want) {
		t.Fatalf("audit log, oldest first:\n got %q\nwant %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("audit entry %d: %q, want %q...", i, got[i], want[i])
		}
	}
}

// Issue 11 point 9: passwords and client secrets are read from stdin or a
// file, never from an argument or a flag's value. The old ways are one
// readable error that says how to pass it now and never repeats the
// secret.
func TestSecretsComeFromStdinOrAFile(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "s.db")
	sesame := cli{t, map[string]string{"SESAME_DATABASE": db}}
	if _, err := sesame.run("", "migrate"); err != nil {
		t.Fatal(err)
	}
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	passwordOf := func(username string) string {
		st, err := sqlstore.Open(t.Context(), db, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		a, err := st.AccountByUsername(t.Context(), username)
		if err != nil {
			t.Fatalf("account %s: %v", username, err)
		}
		return a.PasswordHash
	}
	secretOf := func(id string) string {
		st, err := sqlstore.Open(t.Context(), db, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		c, err := st.Client(t.Context(), id)
		if err != nil {
			t.Fatalf("client %s: %v", id, err)
		}
		return c.SecretHash
	}

	for _, c := range []struct {
		rule   string
		stdin  string
		args   []string
		stored func() string
		want   string
	}{
		{"a password piped on stdin", "piped password 1\n", []string{"users", "add", "dora"}, func() string { return passwordOf("dora") }, "piped password 1"},
		{"a password in a file", "", []string{"users", "set-password", "dora", "--password-file", file("pw", "filed password 2\n")}, func() string { return passwordOf("dora") }, "filed password 2"},
		{"a password in a file without a newline", "", []string{"users", "add", "erin", "--password-file", file("pw2", "no newline 3")}, func() string { return passwordOf("erin") }, "no newline 3"},
		{"a secret piped on stdin", "piped secret 4\r\n", []string{"clients", "add", "svc", "--type", "m2m"}, func() string { return secretOf("svc") }, "piped secret 4"},
		{"a secret in a file", "", []string{"clients", "add", "svc", "--type", "m2m", "--secret-file", file("sec", "filed secret 5\n")}, func() string { return secretOf("svc") }, "filed secret 5"},
	} {
		if _, err := sesame.run(c.stdin, c.args...); err != nil {
			t.Errorf("%s: %v", c.rule, err)
			continue
		}
		if ok, _ := secret.Verify(c.stored(), c.want); !ok {
			t.Errorf("%s: the stored hash does not verify %q", c.rule, c.want)
		}
	}

	for _, c := range []struct {
		rule  string
		stdin string
		args  []string
		// hint is what the error must say.
		hint string
	}{
		{"the password as an argument", "", []string{"users", "add", "frank", "hunter2-arg"}, "--password-file"},
		{"the password as an argument", "", []string{"users", "set-password", "dora", "hunter2-arg"}, "--password-file"},
		{"the --password flag", "", []string{"users", "add", "frank", "--password", "hunter2-flag"}, "--password-file"},
		{"the --password= flag", "", []string{"users", "set-password", "dora", "--password=hunter2-flag"}, "--password-file"},
		{"the --secret flag", "", []string{"clients", "add", "svc2", "--type", "m2m", "--secret", "hunter2-flag"}, "--secret-file"},
		{"nothing on stdin", "", []string{"users", "add", "frank"}, "--password-file"},
		{"an empty line on stdin", "\n", []string{"clients", "add", "svc2", "--type", "m2m"}, "--secret-file"},
		{"a missing file", "", []string{"users", "add", "frank", "--password-file", filepath.Join(dir, "none")}, "--password-file"},
		{"an empty file", "", []string{"users", "add", "frank", "--password-file", file("empty", "\n")}, "empty"},
		{"a file of two lines", "", []string{"users", "add", "frank", "--password-file", file("two", "hunter2-a\nhunter2-b\n")}, "one line"},
		{"a secret for a public client", "", []string{"clients", "add", "spa2", "--type", "spa", "--redirect-uri", "https://s.example/cb", "--generate-secret"}, "public"},
	} {
		_, err := sesame.run(c.stdin, c.args...)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", c.rule)
		case strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), c.hint):
			t.Errorf("%s: %q, want one line that mentions %s", c.rule, err, c.hint)
		case strings.Contains(err.Error(), "hunter2"):
			t.Errorf("%s: the error repeats the secret: %q", c.rule, err)
		}
	}
	for _, username := range []string{"frank"} {
		st, err := sqlstore.Open(t.Context(), db, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.AccountByUsername(t.Context(), username); err == nil {
			t.Errorf("a refused command created %s", username)
		}
		st.Close()
	}
}

// A5: `sesame users set-password` ends every session of the account, and
// its apps get back-channel logouts, as an admin reset by API does.
func TestSetPasswordEndsTheAccountsSessions(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	tok := b.SignedIn(sesametest.AppA, "alice", nil)
	sesame := cli{t, map[string]string{
		"SESAME_DATABASE": s.Config.Database, "SESAME_ISSUER": s.Issuer,
		"SESAME_SECRET_KEY": "test secret key, 32 bytes long..",
	}}
	out, err := sesame.run("a brand new password\n", "users", "set-password", "alice")
	if err != nil || !strings.Contains(out, "1 sessions ended") {
		t.Fatalf("set-password: %q, %v", out, err)
	}
	if p := b.Get(s.AuthURL(sesametest.AppA, nil)); !sesametest.IsSignInPage(p) {
		t.Errorf("the browser still signs in without the new password (%d)", p.Status)
	}
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 401 {
		t.Errorf("the access token after set-password: %d", st)
	}
	if got := s.Apps[sesametest.AppA].WaitReceived(1, 5*time.Second); len(got) != 1 {
		t.Errorf("app-a got %d logout tokens", len(got))
	}
}

// Issue 11 point 9: a database URL is printed with its password masked,
// by migrate and in the errors of every command that opens the database.
func TestDatabasePasswordsArePrintedMasked(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://sesame:pa55word@db.example:5432/sesame?sslmode=require", "postgres://sesame:xxxxx@db.example:5432/sesame?sslmode=require"},
		{"postgres://sesame@db.example/sesame?password=pa55word", "postgres://sesame@db.example/sesame?password=xxxxx"},
		{"postgres://sesame:pa55/word@db.example/sesame", "postgres://xxxxx"},
		{"postgres://sesame:pa55%word@db.example/sesame", "postgres://xxxxx"},
		{"sqlite://sesame.db", "sqlite://sesame.db"},
	} {
		if got := maskURL(c.in); got != c.want {
			t.Errorf("maskURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}

	// A server that cannot be reached: the connection error must not
	// quote the password.
	unreachable := "postgres://sesame:pa55word@127.0.0.1:1/sesame?sslmode=disable&connect_timeout=2"
	for _, args := range [][]string{{"migrate"}, {"users", "disable", "nobody"}, {"clients", "list"}} {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		var out bytes.Buffer
		err := runIO(ctx, args, func(k string) string {
			return map[string]string{"SESAME_DATABASE": unreachable, "SESAME_SECRET_KEY": "sixteen chars at least"}[k]
		}, strings.NewReader(""), &out, io.Discard)
		cancel()
		if err == nil || strings.Contains(err.Error()+out.String(), "pa55word") {
			t.Errorf("sesame %s on an unreachable database: %q, %v", strings.Join(args, " "), out.String(), err)
		}
	}
	if _, err := loadConfig("", func(k string) string {
		return map[string]string{"SESAME_DATABASE": "mysql://root:pa55word@db.example/sesame"}[k]
	}); err == nil || strings.Contains(err.Error(), "pa55word") {
		t.Errorf("an invalid database key: %v", err)
	}

	if os.Getenv("SESAME_TEST_POSTGRES") == "" {
		t.Log("SESAME_TEST_POSTGRES is not set: migrate's output on a reachable PostgreSQL is not checked")
		return
	}
	u, err := url.Parse(pgtest.FreshDB(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "pa55word") // trust authentication ignores it
	var out bytes.Buffer
	if err := runIO(t.Context(), []string{"migrate"}, func(k string) string {
		return map[string]string{"SESAME_DATABASE": u.String()}[k]
	}, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), u.User.Username()+":xxxxx@") || strings.Contains(out.String(), "pa55word") {
		t.Errorf("migrate printed %q", out.String())
	}
}
