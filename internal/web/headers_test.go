package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/web"
)

// W2: form-action is 'self' plus the origin of the page's own redirect
// target, because Chromium applies form-action to the redirect after a
// form post; nothing that could break out of the directive gets in.
func TestCSPFormAction(t *testing.T) {
	const self = "form-action 'self'"
	for _, c := range []struct {
		name    string
		targets []string
		want    string
	}{
		{"no target (account page, error page)", nil, self},
		{"an empty target", []string{""}, self},
		{"https redirect_uri", []string{"https://app-a.example/callback?x=1"}, self + " https://app-a.example"},
		{"loopback with port", []string{"http://127.0.0.1:5001/callback"}, self + " http://127.0.0.1:5001"},
		{"IPv6 loopback", []string{"http://[::1]:8080/cb"}, self + " http://[::1]:8080"},
		{"upper case host", []string{"HTTPS://App.Example/cb"}, self + " https://app.example"},
		{"private-use scheme (RFC 8252)", []string{"com.example.app:/oauth2redirect"}, self + " com.example.app:"},
		{"one origin once", []string{"https://a.example/1", "https://a.example/2"}, self + " https://a.example"},
		{"a relative URI", []string{"/callback"}, self},
		{"directive injection", []string{"https://a.example;script-src *"}, self},
		{"space injection", []string{"https://a.example *"}, self},
	} {
		t.Run(c.name, func(t *testing.T) {
			csp := web.CSP(web.Policy{FormTargets: c.targets})
			var got string
			for _, d := range strings.Split(csp, "; ") {
				if strings.HasPrefix(d, "form-action") {
					got = d
				}
			}
			if got != c.want {
				t.Errorf("form-action %q, want %q (CSP %q)", got, c.want, csp)
			}
			if strings.Count(csp, ";") != 5 {
				t.Errorf("CSP has other directives than expected: %q", csp)
			}
		})
	}
}

// Spec A18, S5, W2: every page is unframeable, sends no referrer, is not
// cached or sniffed, and allows only its own nonce's script.
func TestPageHeaders(t *testing.T) {
	h := http.Header{}
	web.SetPageHeaders(h, web.Policy{ScriptNonce: "n0nce", FormTargets: []string{"https://app.example/"}})
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "script-src 'nonce-n0nce'", "form-action 'self' https://app.example"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	h = http.Header{}
	web.SetPageHeaders(h, web.Policy{})
	if strings.Contains(h.Get("Content-Security-Policy"), "script-src") {
		t.Error("a page without a script allows scripts")
	}
}
