package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// A mistake in the file is one line that names the file, the line and the
// key, says what was expected in words, and for a mistyped key names the
// key that was meant. Go's type names never show.
func TestFileMistakesSayTheFix(t *testing.T) {
	for _, c := range []struct {
		name string
		body string
		want []string // each error line, after "<file>:"
	}{
		{"a mistyped top-level key", "issuer: http://127.0.0.1:4000/oidc\nsesion_ttl: 100h\n",
			[]string{"2: unknown key `sesion_ttl` (did you mean `session_ttl`?)"}},
		{"a key in another case", "LOG_LEVEL: debug\n",
			[]string{"1: unknown key `LOG_LEVEL` (did you mean `log_level`?)"}},
		{"an environment variable's name", "SESAME_LISTEN: 127.0.0.1:4000\n",
			[]string{"1: unknown key `SESAME_LISTEN` (did you mean `listen`?)"}},
		{"a dash for an underscore", "grant-ttl: 10h\n",
			[]string{"1: unknown key `grant-ttl` (did you mean `grant_ttl`?)"}},
		{"a key far from any", "colour: blue\n",
			[]string{"1: unknown key `colour`; docs/configuration.md lists the keys"}},
		{"a client key at the top level", "redirect_uris: [https://a.example/cb]\n",
			[]string{"1: unknown key `redirect_uris` (it is a key of each entry of `clients`: indent it under one)"}},
		{"a mistyped client key", `clients:
  - id: app-a
    secret: app-a-secret
    type: web
    redirect_uri: https://a.example/cb
`, []string{"5: unknown key `clients[0].redirect_uri` (did you mean `redirect_uris`?)"}},
		{"a mistyped user key in the second entry", `users:
  - username: alice
    password: pw
  - username: bob
    pasword: pw
`, []string{"5: unknown key `users[1].pasword` (did you mean `password`?)"}},
		{"several mistakes at once", "isuer: x\nsession_ttl: an hour\nrequire_pkce: maybe\nsweep_interval: 300\n", []string{
			"1: unknown key `isuer` (did you mean `issuer`?)",
			"2: `session_ttl` must be a duration with its unit, such as 336h, 30m or 90s, not `an hour`",
			"3: `require_pkce` must be true or false, not `maybe`",
			"4: `sweep_interval` must be a duration with its unit, such as 336h, 30m or 90s, not `300`",
		}},
		{"a list where one value goes", "listen: [a, b]\n",
			[]string{"1: `listen` must be a single value, not a list"}},
		{"one value where a list goes", "trusted_proxies: 10.0.0.1\n",
			[]string{"1: `trusted_proxies` must be a list (`- item` lines, or [a, b]), not `10.0.0.1`"}},
		{"a nested type error", `clients:
  - id: app-a
    first_party: sometimes
    max_grants: many
`, []string{
			"3: `clients[0].first_party` must be true or false, not `sometimes`",
			"4: `clients[0].max_grants` must be a whole number, not `many`",
		}},
		{"a role's permissions as a list", `roles:
  - name: orders-reader
    permissions: [read:orders]
`, []string{"3: `roles[0].permissions` must hold `key: value` lines, indented under it, not a list"}},
		{"a permission's scopes mistyped", `api_resources:
  - indicator: https://api.example.com/orders
    scopes: read:orders
    access_token_ttl: 1 hour
roles:
  - name: orders-reader
    permissions:
      https://api.example.com/orders: {read: orders}
      https://api.example.com/orders: [read:orders]
`, []string{
			"3: `api_resources[0].scopes` must be a list (`- item` lines, or [a, b]), not `read:orders`",
			"4: `api_resources[0].access_token_ttl` must be a duration with its unit, such as 336h, 30m or 90s, not `1 hour`",
			"8: `roles[0].permissions.https://api.example.com/orders` must be a list (`- item` lines, or [a, b]), not a set of keys",
			"9: `roles[0].permissions.https://api.example.com/orders` is set twice (first on line 8); keep one",
		}},
		{"scope descriptions mistyped", `api_resources:
  - indicator: https://api.example.com/orders
    scopes: [read:orders, write:orders]
    scope_descriptions: [Read your orders]
  - indicator: https://api.example.com/stock
    scopes: [read:stock]
    scope_descriptions:
      read:stock: {read: stock}
`, []string{
			"4: `api_resources[0].scope_descriptions` must hold `key: value` lines, indented under it, not a list",
			"8: `api_resources[1].scope_descriptions.read:stock` must be a single value, not a set of keys",
		}},
		{"a resource key at the top level", "indicator: https://api.example.com/orders\n",
			[]string{"1: unknown key `indicator` (it is a key of each entry of `api_resources`: indent it under one)"}},
		{"a key set twice", "session_ttl: 1h\ngrant_ttl: 2h\nsession_ttl: 3h\n",
			[]string{"3: `session_ttl` is set twice (first on line 1); keep one"}},
		{"not a mapping", "- a\n- b\n",
			[]string{"1: the file must hold keys, one `key: value` a line, not a list"}},
		{"broken YAML", "issuer: x\n  listen: y\n",
			[]string{"2: not valid YAML: mapping values are not allowed in this context"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := write(t, c.body)
			_, err := Load(p, func(string) string { return "" })
			if err == nil {
				t.Fatal("accepted")
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(c.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(got), len(c.want), err)
			}
			for i, line := range got {
				if want := p + ":" + c.want[i]; line != want {
					t.Errorf("error %d:\n got %s\nwant %s", i, line, want)
				}
				for _, goName := range []string{"config.", "time.Duration", "!!str", "unmarshal", "struct"} {
					if strings.Contains(line, goName) {
						t.Errorf("error %d names Go's types (%s): %s", i, goName, line)
					}
				}
			}
		})
	}
}

// What the decoder accepts, the check accepts: YAML 1.1 booleans, a
// merge, nulls, comments; and a value that holds a secret is never quoted
// in an error.
func TestFileCheckAcceptsWhatLoadDecodes(t *testing.T) {
	p := write(t, `# Sesame
require_pkce: yes
allow_private_network_delivery: off
metrics_listen: ~
defaults: &web
  type: web
  secret: shared-secret
clients:
  - <<: *web
    id: app-a
    redirect_uris: [https://a.example/cb]
`)
	_, err := Load(p, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "unknown key `defaults`") || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("want exactly the unknown anchor key refused: %v", err)
	}

	p = write(t, `require_pkce: yes
allow_private_network_delivery: off
metrics_listen: ~
clients:
  - &web
    id: app-a
    type: web
    secret: shared-secret
    redirect_uris: [https://a.example/cb]
  - <<: *web
    id: app-b
`)
	cfg, err := Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.RequirePKCE || cfg.AllowPrivateNetworkDelivery || len(cfg.Clients) != 2 || cfg.Clients[1].Secret != "shared-secret" {
		t.Errorf("decoded %+v", cfg)
	}

	p = write(t, "secret_key:\n  - hunter2-a-very-secret-key\n")
	_, err = Load(p, func(string) string { return "" })
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "`secret_key` must be a single value, not a list") {
		t.Errorf("a secret typed as a list: %v", err)
	}
}

// The file is named as it was given, so the message points where the
// operator looks.
func TestFileMistakesNameTheFileAsGiven(t *testing.T) {
	p := write(t, "sesion_ttl: 1h\n")
	t.Chdir(filepath.Dir(p))
	_, err := Load("sesame.yaml", func(string) string { return "" })
	if err == nil || !strings.HasPrefix(err.Error(), "sesame.yaml:1: unknown key `sesion_ttl` (did you mean `session_ttl`?)") {
		t.Errorf("got %v", err)
	}
}

func TestNearest(t *testing.T) {
	names := []string{"session_ttl", "session_max_ttl", "issuer", "id"}
	for key, want := range map[string]string{
		"sesion_ttl": "session_ttl", "session_ttl_max": "", "sessoin_ttl": "session_ttl",
		"ISSUER": "issuer", "ib": "id", "xyz": "", "session-max-ttl": "session_max_ttl",
	} {
		if got := nearest(key, names); got != want {
			t.Errorf("nearest(%q) = %q, want %q", key, got, want)
		}
	}
}
