package client

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var web = store.Client{ID: "app", Type: TypeWeb, RedirectURIs: []string{"https://app.example/cb", "https://app.example/cb?tenant=1"}}
var native = store.Client{ID: "cli", Type: TypeNative, RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]:8080/cb", "com.example.app:/oauth"}}

// bypasses are known redirect-URI bypass tricks; none may match (spec A2).
var bypasses = []string{
	"https://app.example@evil.example/cb",
	"https://evil.example@app.example/cb",
	"https://app.example.evil.example/cb",
	"https://app.example/cb/",
	"https://app.example/cb/../cb",
	"https://app.example/cb%2F..%2Fevil",
	"https://app.example%2F@evil.example/cb",
	"https://APP.example/cb",
	"HTTPS://app.example/cb",
	"https://app.example/CB",
	"https://app.example./cb",
	"https://app.example/cb?x=1",
	"https://app.example/cb?tenant=1&x=1",
	"https://app.example/cb#frag",
	"https://app.example:443/cb",
	"https://app.example:8443/cb",
	"http://app.example/cb",
	"https://app.example\\@evil.example/cb",
	"https://app.ex\u0430mple/cb",
	"https://app.example/cb\x00",
	" https://app.example/cb",
	"https://app.example/cb ",
	"//app.example/cb",
	"https://app.example/cb;x",
	"https://app.example/c%62",
}

// spec A2: exact string match, and every known trick refused.
func TestMatchRedirectURIExactly(t *testing.T) {
	for _, ok := range web.RedirectURIs {
		if !MatchRedirectURI(web, ok) {
			t.Errorf("registered %q refused", ok)
		}
	}
	for _, bad := range bypasses {
		if MatchRedirectURI(web, bad) {
			t.Errorf("bypass %q matched", bad)
		}
	}
}

// RFC 8252 §7.3: a native app's loopback IP redirect matches on any port,
// and nothing else changes.
func TestNativeLoopbackAnyPort(t *testing.T) {
	cases := map[string]bool{
		"http://127.0.0.1/callback":        true,
		"http://127.0.0.1:51004/callback":  true,
		"http://[::1]:9999/cb":             true,
		"http://127.0.0.1:51004/callbackx": false,
		"http://127.0.0.1:51004/":          false,
		"http://localhost:51004/callback":  false,
		"https://127.0.0.1:51004/callback": false,
		"http://127.0.0.1:abc/callback":    false,
		"http://127.0.0.1:/callback":       false,
		"http://127.0.0.1:5@evil/callback": false,
		"http://127.0.0.2:5000/callback":   false,
		"com.example.app:/oauth":           true,
		"com.example.app:/oauth2":          false,
	}
	for uri, want := range cases {
		if got := MatchRedirectURI(native, uri); got != want {
			t.Errorf("%q: got %v, want %v", uri, got, want)
		}
	}
	if MatchRedirectURI(store.Client{Type: TypeWeb, RedirectURIs: []string{"http://127.0.0.1/callback"}}, "http://127.0.0.1:5/callback") {
		t.Error("a web client got the native port exception")
	}
}

// FuzzMatchRedirectURI: a match is always a registered URI, or (native
// loopback) one once its port is removed.
func FuzzMatchRedirectURI(f *testing.F) {
	for _, b := range bypasses {
		f.Add(b)
	}
	for _, u := range append(web.RedirectURIs, native.RedirectURIs...) {
		f.Add(u)
	}
	f.Add("http://127.0.0.1:1234/callback")
	f.Fuzz(func(t *testing.T, uri string) {
		for _, c := range []store.Client{web, native} {
			if !MatchRedirectURI(c, uri) {
				continue
			}
			registered := false
			for _, r := range c.RedirectURIs {
				if r == uri {
					registered = true
				}
			}
			if !registered {
				p, ok := loopbackWithoutPort(uri)
				if c.Type != TypeNative || !ok {
					t.Fatalf("%q matched %s without being registered", uri, c.ID)
				}
				found := false
				for _, r := range c.RedirectURIs {
					if rp, ok := loopbackWithoutPort(r); ok && rp == p {
						found = true
					}
				}
				if !found {
					t.Fatalf("%q matched %s", uri, c.ID)
				}
			}
		}
	})
}

// C1, spec A16, B11: registrations are validated, every problem at once.
func TestSpecValidate(t *testing.T) {
	ok := []Spec{
		{ID: "a", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"https://a.example/cb"}},
		{ID: "b", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"http://127.0.0.1:5001/callback"}},
		{ID: "c", Type: TypeSPA, RedirectURIs: []string{"http://localhost:3000/cb"}},
		{ID: "d", Type: TypeNative, RedirectURIs: []string{"com.example.app:/cb", "http://127.0.0.1/cb"}},
		{ID: "e", Type: TypeM2M, Secret: "s"},
	}
	for _, s := range ok {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.ID, err)
		}
	}
	bad := Spec{Type: "desktop", Secret: "", RedirectURIs: []string{"http://app.example/cb", "https://a.example/cb#x", "/relative"},
		BackchannelLogoutURI: "ftp://x", GrantTypes: []string{"password"}, IDTokenSignedResponseAlg: "HS256"}
	err := bad.Validate()
	if err == nil {
		t.Fatal("accepted a bad registration")
	}
	for _, want := range []string{"id is required", "type", "http://app.example/cb", "fragment", "/relative", "backchannel_logout_uri", "password", "HS256"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
	if err := (Spec{ID: "x", Type: TypeSPA, Secret: "s", RedirectURIs: []string{"https://a.example/cb"}}).Validate(); err == nil {
		t.Error("a public client with a secret")
	}
	for name, s := range map[string]Spec{
		"credentials in a redirect URI":     {ID: "x", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"https://good.example@evil.example/cb"}},
		"a space in a redirect URI":         {ID: "x", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"https://a.example/c b"}},
		"a control character":               {ID: "x", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"https://a.example/cb\t"}},
		"a backslash":                       {ID: "x", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"https://a.example\\@evil.example/cb"}},
		"credentials in a post-logout URI":  {ID: "x", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"https://a.example/cb"}, PostLogoutRedirectURIs: []string{"https://u:p@a.example/"}},
		"credentials in a back-channel URI": {ID: "x", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"https://a.example/cb"}, BackchannelLogoutURI: "https://u:p@a.example/bc"},
		"client_credentials for an SPA":     {ID: "x", Type: TypeSPA, RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: []string{"client_credentials"}},
		"client_credentials for a native":   {ID: "x", Type: TypeNative, RedirectURIs: []string{"http://127.0.0.1/cb"}, GrantTypes: []string{"client_credentials"}},
		"require_pkce false, SPA (C2)":      {ID: "x", Type: TypeSPA, RedirectURIs: []string{"https://a.example/cb"}, RequirePKCE: new(false)},
		"require_pkce false for a native":   {ID: "x", Type: TypeNative, RedirectURIs: []string{"http://127.0.0.1/cb"}, RequirePKCE: new(false)},
		"a redirect URI over 2 KB (W2)":     {ID: "x", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"https://a.example/" + strings.Repeat("a", 2048)}},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// C2, spec A8: PKCE is required of every public client, and of a
// confidential one unless it, or else the top-level require_pkce, says
// false.
func TestRequiresPKCE(t *testing.T) {
	conf, pub := store.Client{Type: TypeWeb}, store.Client{Type: TypeSPA}
	cases := []struct {
		name      string
		c         store.Client
		byDefault bool
		want      bool
	}{
		{"confidential, default on", conf, true, true},
		{"confidential, default off", conf, false, false},
		{"confidential opts out", store.Client{Type: TypeWeb, RequirePKCE: new(false)}, true, false},
		{"confidential opts in", store.Client{Type: TypeWeb, RequirePKCE: new(true)}, false, true},
		{"public, default off", pub, false, true},
		{"public that says false (refused by Validate)", store.Client{Type: TypeNative, RequirePKCE: new(false)}, true, true},
	}
	for _, c := range cases {
		if got := RequiresPKCE(c.c, c.byDefault); got != c.want {
			t.Errorf("%s: RequiresPKCE = %v", c.name, got)
		}
	}
	if err := (Spec{ID: "a", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"https://a.example/cb"}, RequirePKCE: new(false)}).Validate(); err != nil {
		t.Errorf("a confidential client may set require_pkce: false: %v", err)
	}
}

// B5: with private delivery off, registration (the admin API and the
// file's clients go through Upsert) refuses a back-channel URI that could
// never be delivered: a special-purpose address or localhost. With it on,
// or for a host name, it is accepted.
func TestUpsertRefusesPrivateBackchannelURI(t *testing.T) {
	r := &Registry{Store: openStore(t), Hasher: cheap, Now: time.Now}
	spec := func(uri string) Spec {
		return Spec{ID: "x", Type: TypeWeb, Secret: "s3cret-s3cret", RedirectURIs: []string{"https://x.example/cb"}, BackchannelLogoutURI: uri}
	}
	for _, uri := range []string{"http://localhost:5001/bc", "http://127.0.0.1/bc", "https://10.0.0.5/bc", "https://[::ffff:169.254.169.254]/bc",
		"https://[64:ff9b::a00:1]/bc", "https://0.0.0.0/bc", "https://100.64.0.1/bc", "https://2130706433/bc"} {
		_, err := r.Upsert(t.Context(), spec(uri))
		var invalid *InvalidError
		if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "allow_private_network_delivery") {
			t.Errorf("%s: %v", uri, err)
		}
	}
	if _, err := r.Upsert(t.Context(), spec("https://x.example/bc")); err != nil {
		t.Errorf("a host name: %v", err)
	}
	r.AllowPrivateDelivery = true
	if _, err := r.Upsert(t.Context(), spec("http://127.0.0.1:5001/bc")); err != nil {
		t.Errorf("loopback with private delivery allowed: %v", err)
	}
}

// The console's client id is Sesame's own: Validate (the configuration
// file) and Upsert (the admin API, the CLI) refuse it in words, and only
// UpsertReserved registers it, which in turn registers nothing else.
func TestReservedConsoleID(t *testing.T) {
	console := Spec{ID: ConsoleID, Type: TypeWeb, Secret: "s3cret-s3cret", FirstParty: true,
		RedirectURIs: []string{"http://127.0.0.1:4000/console/callback"}}
	err := console.Validate()
	var reserved *ReservedError
	if !errors.As(err, &reserved) || !strings.Contains(err.Error(), `id "sesame-console" is reserved`) {
		t.Fatalf("Validate of the console's id: %v", err)
	}
	r := &Registry{Store: openStore(t), Hasher: cheap, Now: time.Now}
	_, err = r.Upsert(t.Context(), console)
	var invalid *InvalidError
	if !errors.As(err, &invalid) || !errors.As(err, &reserved) {
		t.Fatalf("Upsert of the console's id: %v", err)
	}
	if _, err := r.UpsertKeepingSecret(t.Context(), console); !errors.As(err, &reserved) {
		t.Fatalf("UpsertKeepingSecret of the console's id: %v", err)
	}
	c, err := r.UpsertReserved(t.Context(), console)
	if err != nil || c.ID != ConsoleID || !c.FirstParty {
		t.Fatalf("UpsertReserved: %+v %v", c, err)
	}
	other := console
	other.ID = "app"
	if _, err := r.UpsertReserved(t.Context(), other); err == nil {
		t.Error("UpsertReserved registered a client that is not Sesame's own")
	}
	bad := console
	bad.RedirectURIs = []string{"http://evil.example/cb"}
	if _, err := r.UpsertReserved(t.Context(), bad); !errors.As(err, &invalid) {
		t.Errorf("UpsertReserved skipped the other checks: %v", err)
	}
	if err := CheckNotReserved("app"); err != nil {
		t.Errorf("an ordinary id: %v", err)
	}
}
