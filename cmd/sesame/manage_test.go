package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// The management commands work on the configured database: users add,
// set-password and disable; clients add and list; sessions list. Bad
// input is one readable error.
func TestManagementCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SESAME_DATABASE": "sqlite://" + filepath.Join(dir, "s.db")}
	getenv := func(k string) string { return env[k] }
	sesame := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), args, getenv, &out, io.Discard)
		return out.String(), err
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "add", "carol", "pw-1", "--email", "carol@example.com"}, "account carol"},
		{[]string{"users", "set-password", "carol", "pw-2"}, "password of carol changed"},
		{[]string{"users", "disable", "carol"}, "account carol disabled; 0 sessions ended"},
		{[]string{"clients", "add", "app-x", "--secret", "s3cret", "--redirect-uri", "https://x.example/cb"}, "client app-x (web) saved"},
		{[]string{"clients", "list"}, "app-x"},
		{[]string{"sessions", "list", "carol"}, "SESSION"},
		{[]string{"admin", "create-client", "ops"}, "client_secret: "},
		{[]string{"clients", "remove", "app-x"}, "client app-x removed"},
		{[]string{"keys", "list"}, "signing"},
		{[]string{"keys", "rotate", "--alg", "ES256", "--publish-ahead", "1h"}, "new ES256 key published"},
		{[]string{"keys", "list"}, "next"},
	} {
		out, err := sesame(c.args...)
		if err != nil || !strings.Contains(out, c.want) {
			t.Errorf("sesame %s: %q, %v; want %q", strings.Join(c.args, " "), out, err, c.want)
		}
	}
	for _, bad := range [][]string{
		{"users", "disable", "nobody"},
		{"clients", "add", "bad", "--type", "web", "--redirect-uri", "http://evil.example/cb"},
		{"sessions", "revoke", "no-such-session"},
		{"clients", "remove", "app-x"},
		{"admin", "create-client", "ops"},
		{"keys", "rotate", "--alg", "HS256"},
	} {
		if _, err := sesame(bad...); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("sesame %s: %v, want one readable error", strings.Join(bad, " "), err)
		}
	}
}
