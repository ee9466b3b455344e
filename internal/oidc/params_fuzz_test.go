package oidc

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/web"
)

// FuzzParseAuthParams feeds arbitrary query strings to the authorization
// request parser: it must never panic, and whatever it accepts keeps the
// rules of spec A6, A7, A8, A15 and design S8.
func FuzzParseAuthParams(f *testing.F) {
	seeds := []string{
		"response_type=code&scope=openid&state=x",
		"response_type=code&scope=openid+profile&prompt=none+login",
		"response_type=token&scope=openid",
		"response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
		"response_type=code&scope=openid&code_challenge=abc&code_challenge_method=plain",
		"response_type=code&scope=openid&max_age=-1",
		"response_type=code&scope=openid&max_age=99999999999999999999",
		"response_type=code&scope=openid&scope=openid",
		"response_type=code&scope=%00openid&prompt=%20",
		"response_type=code&scope=openid&request=eyJhbGciOiJub25lIn0.e30.",
		"response_type=code&scope=openid&response_mode=fragment",
		"response_type=code&scope=openid&state=" + strings.Repeat("s", 2049),
		"response_type=code&scope=openid&login_hint=" + strings.Repeat("h", 513),
		"response_type=code&scope=openid" + strings.Repeat("+s", 64),
		"response_type=code&scope=openid&resource=https://api.example.com/a&resource=https://api.example.com/a&resource=",
		"response_type=code&scope=openid" + strings.Repeat("&resource=https://api.example.com/x", 17),
		"",
		"%zz",
	}
	for _, s := range seeds {
		f.Add(s, false, false)
		f.Add(s, true, false)
		f.Add(s, false, true)
	}
	f.Fuzz(func(t *testing.T, raw string, public, pkceOptional bool) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		c := store.Client{ID: "c", Type: "web", GrantTypes: []string{"authorization_code", "refresh_token"}}
		if public {
			c.Type = "spa"
		}
		if pkceOptional {
			c.RequirePKCE = new(false) // a confidential client's require_pkce: false (C2)
		}
		required := client.RequiresPKCE(c, true)
		p, perr := parseAuthParams(v, c, required)
		if perr != nil {
			if perr.Code == "" || perr.Status == 0 {
				t.Fatalf("error without code or status: %+v", perr)
			}
			return
		}
		if v.Get("response_type") != "code" {
			t.Fatalf("accepted response_type %q", v.Get("response_type"))
		}
		if !slices.Contains(p.Scopes, "openid") {
			t.Fatalf("accepted scopes without openid: %v", p.Scopes)
		}
		if slices.Contains(p.Prompt, "none") && len(p.Prompt) > 1 {
			t.Fatalf("accepted prompt %v", p.Prompt)
		}
		if required && p.CodeChallenge == "" {
			t.Fatal("accepted a request without PKCE from a client that requires it")
		}
		if len(p.State) > web.MaxStateLen || len(p.Nonce) > web.MaxValueLen || len(p.LoginHint) > web.MaxValueLen ||
			len(p.Scopes) > web.MaxScopes || p.UILocales != "" { // W2: nothing stored past its limit
			t.Fatalf("accepted oversized parameters: %+v", p)
		}
		if p.CodeChallenge != "" && (p.CodeChallengeMethod != "S256" || len(p.CodeChallenge) != 43) {
			t.Fatalf("accepted challenge %q method %q", p.CodeChallenge, p.CodeChallengeMethod)
		}
		for name, vals := range v {
			if len(vals) > 1 && name != "resource" { // resource may repeat (spec A6, RFC 8707)
				t.Fatalf("accepted repeated %s", name)
			}
		}
		if len(p.Resources) > 16 {
			t.Fatalf("accepted %d resources", len(p.Resources))
		}
		for i, r := range p.Resources {
			if r == "" || len(r) > web.MaxValueLen || slices.Index(p.Resources, r) != i {
				t.Fatalf("accepted resources %q", p.Resources)
			}
		}
	})
}
