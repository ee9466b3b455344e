package console

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/store"
)

// The Go snippets compile against package rp as it is: a renamed field or
// function of the SDK fails here, not in an operator's editor.
func TestGoSnippetsCompile(t *testing.T) {
	apps := []store.Client{
		{ID: "shop", Type: client.TypeWeb, RedirectURIs: []string{"https://shop.example/auth/callback"}, PostLogoutRedirectURIs: []string{"https://shop.example/"}},
		{ID: "shop-bc", Type: client.TypeWeb, RedirectURIs: []string{"https://shop.example/cb"}, BackchannelLogoutURI: "https://shop.example/backchannel-logout"},
		{ID: "cli", Type: client.TypeNative, RedirectURIs: []string{"http://127.0.0.1/callback"}},
	}
	fset := token.NewFileSet()
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	for _, app := range apps {
		for _, sn := range snippets("https://id.example.com/oidc", app) {
			if sn.Lang != "go" {
				continue
			}
			src := "package snippet\n\n" + sn.Code
			f, err := parser.ParseFile(fset, app.ID+".go", src, parser.AllErrors)
			if err != nil {
				t.Fatalf("%s: %v\n%s", app.ID, err, src)
			}
			if _, err := conf.Check("snippet", fset, []*ast.File{f}, nil); err != nil {
				t.Errorf("%s: %v\n%s", app.ID, err, src)
			}
		}
	}
}

// Each type gets the snippets that fit it, with its id, its first
// redirect URI, and the secret read from the environment, never written
// in; Logto's SDKs are offered only where they can work (an issuer
// ending in /oidc, to which they add /oidc themselves).
func TestSnippetsFitTheApp(t *testing.T) {
	web := store.Client{ID: "shop", Type: client.TypeWeb, RedirectURIs: []string{"https://shop.example/cb"}, PostLogoutRedirectURIs: []string{"https://shop.example/"}}
	titles := func(l []snippet) (out []string) {
		for _, s := range l {
			out = append(out, s.Title)
		}
		return out
	}
	cases := []struct {
		c    store.Client
		want []string
	}{
		{web, []string{"@logto/node", "Go: Sesame's SDK (rp)", "openid-client"}},
		{store.Client{ID: "s", Type: client.TypeSPA}, []string{"Logto's browser SDKs (@logto/browser, @logto/react...)", "openid-client"}},
		{store.Client{ID: "n", Type: client.TypeNative}, []string{"Go: Sesame's SDK (rp)", "openid-client"}},
		{store.Client{ID: "m", Type: client.TypeM2M}, []string{"curl", "openid-client"}},
	}
	for _, c := range cases {
		got := snippets("https://id.example.com/oidc", c.c)
		if strings.Join(titles(got), "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: %v, want %v", c.c.Type, titles(got), c.want)
		}
	}
	for _, sn := range snippets("https://id.example.com/oidc", web) {
		for _, want := range []string{"shop", secretEnv} {
			if !strings.Contains(sn.Code, want) {
				t.Errorf("%s lacks %q:\n%s", sn.Title, want, sn.Code)
			}
		}
	}
	logto := snippets("https://id.example.com/oidc", web)[0]
	if !strings.Contains(logto.Code, `endpoint: "https://id.example.com",`) || !strings.Contains(logto.Code, `signIn("https://shop.example/cb")`) {
		t.Errorf("@logto/node:\n%s", logto.Code)
	}
	if l := snippets("https://id.example.com/sso", web)[0]; l.Code != "" || !strings.Contains(l.Note, "does not end in /oidc") {
		t.Errorf("Logto for an issuer not ending in /oidc: %+v", l)
	}
	oc := snippets("http://127.0.0.1:4000/oidc", web)[2]
	if !strings.Contains(oc.Code, "client.allowInsecureRequests") {
		t.Errorf("openid-client for an http issuer:\n%s", oc.Code)
	}
	if oc := snippets("https://id.example.com/oidc", web)[2]; strings.Contains(oc.Code, "allowInsecureRequests") {
		t.Errorf("openid-client for an https issuer allows http:\n%s", oc.Code)
	}
}
