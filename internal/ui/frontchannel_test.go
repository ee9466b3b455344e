package ui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/ui"
)

// F2: the front-channel page loads each page in a hidden, titled iframe,
// allows exactly their origins as frames, refreshes to its target after
// at least a second, and reads on a phone like every other page (W2).
func TestFrontchannelPage(t *testing.T) {
	p := pages(t)
	rec := httptest.NewRecorder()
	p.Frontchannel(rec, ui.FrontchannelData{
		Frames: []ui.Frame{
			{App: "Shop", URL: "https://shop.example/fc?iss=https%3A%2F%2Fid.example&sid=s1"},
			{App: "Blog", URL: "http://127.0.0.1:5002/fc?iss=x&sid=s2"},
		},
		Target: "https://shop.example/?state=s", Delay: 0, Nonce: "n0nce",
	})
	body, csp := rec.Body.String(), rec.Header().Get("Content-Security-Policy")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<iframe src="https://shop.example/fc?iss=https%3A%2F%2Fid.example&amp;sid=s1" title="Signing out of Shop" hidden></iframe>`,
		`<iframe src="http://127.0.0.1:5002/fc?iss=x&amp;sid=s2" title="Signing out of Blog" hidden></iframe>`,
		`<meta http-equiv="refresh" content="1;url=https://shop.example/?state=s">`,
		`<a id="continue" href="https://shop.example/?state=s">`,
		`<script nonce="n0nce">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s\n%s", want, body)
		}
	}
	if strings.Count(body, "<h1") != 1 {
		t.Errorf("want one h1: %s", body)
	}
	for _, want := range []string{"frame-src https://shop.example http://127.0.0.1:5002", "script-src 'nonce-n0nce'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
}

// F2: without a target the page is the done page: no refresh, no script,
// and no script allowed; a target or frame that is not a web address is
// never written as one.
func TestFrontchannelPageEdges(t *testing.T) {
	p := pages(t)
	rec := httptest.NewRecorder()
	p.Frontchannel(rec, ui.FrontchannelData{Frames: []ui.Frame{{App: "Shop", URL: "https://shop.example/fc"}}, AppOnly: true, Nonce: "n0nce"})
	body, csp := rec.Body.String(), rec.Header().Get("Content-Security-Policy")
	if strings.Contains(body, "http-equiv") || strings.Contains(body, "<script") || strings.Contains(csp, "script-src") {
		t.Errorf("a done page that goes somewhere: CSP %q\n%s", csp, body)
	}
	if !strings.Contains(body, "Signed out of the app") || !strings.Contains(csp, "frame-src https://shop.example") {
		t.Errorf("app-only done page: CSP %q\n%s", csp, body)
	}

	rec = httptest.NewRecorder()
	p.Frontchannel(rec, ui.FrontchannelData{Frames: []ui.Frame{{App: "Evil", URL: "javascript:alert(1)"}},
		Target: "javascript:alert(2)", Delay: 2, Nonce: "n0nce"})
	body, csp = rec.Body.String(), rec.Header().Get("Content-Security-Policy")
	if strings.Contains(body, "alert") || strings.Contains(csp, "frame-src") {
		t.Errorf("a script URL got through: CSP %q\n%s", csp, body)
	}
	if !strings.Contains(body, `<iframe src="about:blank"`) || !strings.Contains(body, `content="2;url=/"`) {
		t.Errorf("want about:blank and the landing page instead: %s", body)
	}

	// A native app's return address keeps its own scheme.
	rec = httptest.NewRecorder()
	p.Frontchannel(rec, ui.FrontchannelData{Frames: []ui.Frame{{App: "CLI", URL: "http://127.0.0.1:8080/fc"}}, Target: "com.example.app:/bye?state=s", Delay: 1})
	if body := rec.Body.String(); !strings.Contains(body, `content="1;url=com.example.app:/bye?state=s"`) {
		t.Errorf("private-use scheme target: %s", body)
	}
}
