package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects what the demo prints.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// contract: `sesame demo` serves Sesame and two SDK apps; a person signs in
// to one, is signed in to the other by SSO, signs out of the first, which
// says so after Sesame's front-channel page loaded both apps' pages, and
// the second says Not signed in and that Sesame told it (back-channel
// logout, which goes first), never that the person signed out of it.
func TestDemoShowsSSOAndSignOut(t *testing.T) {
	addrs := demoAddrs{sesame: freeAddr(t), app1: freeAddr(t), app2: freeAddr(t), api: freeAddr(t)}
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, addrs, out, io.Discard) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with %v", err)
		}
	}()
	var password string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && password == ""; time.Sleep(50 * time.Millisecond) {
		if m := regexp.MustCompile(`password (\S+)`).FindStringSubmatch(out.String()); m != nil {
			password = m[1]
		}
	}
	if password == "" {
		t.Fatalf("the demo printed no password: %q", out.String())
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(u string) (string, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.Request.URL.String()
	}
	submit := func(page, at string, fields url.Values) (string, string) {
		t.Helper()
		m := regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no form at %s: %s", at, page)
		}
		for _, h := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(m[2], -1) {
			fields.Set(h[1], html.UnescapeString(h[2]))
		}
		base, _ := url.Parse(at)
		action, _ := base.Parse(html.UnescapeString(m[1]))
		resp, err := browser.PostForm(action.String(), fields)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.Request.URL.String()
	}
	app1, app2 := "http://"+addrs.app1, "http://"+addrs.app2

	// Both apps' pages carry the viewport tag, so a phone shows them at its
	// own width.
	const viewport = `<meta name="viewport" content="width=device-width, initial-scale=1">`
	for _, app := range []string{app1, app2} {
		if page, _ := get(app + "/"); !strings.Contains(page, "Not signed in") || !strings.Contains(page, viewport) {
			t.Fatalf("%s before sign-in: %s", app, page)
		}
	}
	page, at := get(app1 + "/sign-in")
	page, _ = submit(page, at, url.Values{"username": {"alice"}, "password": {password}})
	if !strings.Contains(page, "Signed in as alice") {
		t.Fatalf("app 1 after sign-in: %s", page)
	}
	time.Sleep(1100 * time.Millisecond) // auth_time has one-second steps
	if page, _ := get(app2 + "/sign-in"); !strings.Contains(page, "Signed in as alice") || !strings.Contains(page, "single sign-on") {
		t.Fatalf("app 2 by SSO: %s", page)
	}
	page, at = get(app1 + "/sign-out") // the confirm page; its script would submit it
	page, at = submit(page, at, url.Values{"logout": {"true"}})
	// Both apps registered a front-channel logout page: the sign-out ends
	// with Sesame's page that loads them in frames, then refreshes to App
	// One. Loaded as a browser would, each answers 200.
	frames := regexp.MustCompile(`<iframe src="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(frames) != 2 {
		t.Fatalf("at %s, want the front-channel page with both apps' frames: %s", at, page)
	}
	for i, want := range []string{app1, app2} {
		src := html.UnescapeString(frames[i][1])
		resp, err := browser.Get(src)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !strings.HasPrefix(src, want+"/frontchannel-logout?") || resp.StatusCode != http.StatusOK {
			t.Errorf("frame %s: %d, want %s's front-channel page", src, resp.StatusCode, want)
		}
	}
	refresh := regexp.MustCompile(`<meta http-equiv="refresh" content="\d+;url=([^"]*)">`).FindStringSubmatch(page)
	if refresh == nil {
		t.Fatalf("the front-channel page goes nowhere: %s", page)
	}
	page, _ = get(html.UnescapeString(refresh[1]))
	if !strings.Contains(page, "Not signed in") || !strings.Contains(page, "You signed out of App One.") || strings.Contains(page, "Sesame told this app") {
		t.Fatalf("app 1 after its own sign-out: %s", page)
	}
	const told = "Sesame told this app, by back-channel logout, that your session ended"
	if page, _ := get(app2 + "/"); !strings.Contains(page, "Not signed in") || !strings.Contains(page, told) || strings.Contains(page, "You signed out") {
		t.Errorf("app 2 after signing out of app 1: %s", page)
	}
}
