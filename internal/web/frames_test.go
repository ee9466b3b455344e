package web_test

import (
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/web"
)

// F2: a page that loads front-channel logout pages allows exactly their
// origins as frames, each once; a page without them has no frame-src, so
// default-src 'none' refuses every frame.
func TestCSPFrameSources(t *testing.T) {
	for _, c := range []struct {
		name   string
		frames []string
		want   string // the frame-src directive, "" for none
	}{
		{"no frames", nil, ""},
		{"an empty source", []string{""}, ""},
		{"one page", []string{"https://app-a.example/fc?iss=x&sid=y"}, "frame-src https://app-a.example"},
		{"loopback with port", []string{"http://127.0.0.1:5001/fc"}, "frame-src http://127.0.0.1:5001"},
		{"two apps", []string{"https://a.example/fc", "http://127.0.0.1:5002/fc"}, "frame-src https://a.example http://127.0.0.1:5002"},
		{"one origin once", []string{"https://a.example/1", "https://A.example/2"}, "frame-src https://a.example"},
		{"private-use scheme", []string{"com.example.app:/fc"}, ""},
		{"directive injection", []string{"https://a.example;script-src *"}, ""},
		{"space injection", []string{"https://a.example *", "https://b.example/fc"}, "frame-src https://b.example"},
	} {
		t.Run(c.name, func(t *testing.T) {
			csp := web.CSP(web.Policy{FrameSources: c.frames, FormTargets: []string{"https://app-a.example/"}})
			var got []string
			for _, d := range strings.Split(csp, "; ") {
				if strings.HasPrefix(d, "frame-src") || strings.HasPrefix(d, "child-src") {
					got = append(got, d)
				}
			}
			switch {
			case c.want == "" && len(got) != 0:
				t.Errorf("frames allowed: %q (CSP %q)", got, csp)
			case c.want != "" && (len(got) != 1 || got[0] != c.want):
				t.Errorf("frame directives %q, want %q (CSP %q)", got, c.want, csp)
			}
			for _, keep := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self' https://app-a.example"} {
				if !strings.Contains(csp, keep) {
					t.Errorf("CSP %q lost %q", csp, keep)
				}
			}
		})
	}
}
