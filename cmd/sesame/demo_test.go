package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
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

// runningDemo is the demo as the command wires it, on free ports.
type runningDemo struct {
	addrs demoAddrs
	// password is alice's and bob's, as the demo printed it.
	password string
}

// startDemo runs runDemo until the test ends.
func startDemo(t *testing.T) *runningDemo {
	t.Helper()
	addrs := demoAddrs{sesame: freeAddr(t), app1: freeAddr(t), app2: freeAddr(t), api: freeAddr(t)}
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, addrs, out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with %v", err)
		}
	})
	var password string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && password == ""; time.Sleep(50 * time.Millisecond) {
		if m := regexp.MustCompile(`password (\S+)`).FindStringSubmatch(out.String()); m != nil {
			password = m[1]
		}
	}
	if password == "" {
		t.Fatalf("the demo printed no password: %q", out.String())
	}
	return &runningDemo{addrs: addrs, password: password}
}

// demoBrowser is a person's browser: it keeps cookies and follows every
// redirect, to the apps too, where sesametest's stops.
type demoBrowser struct {
	t        *testing.T
	http     *http.Client
	password string
	// forms reads a page's first form as sesametest's browser does.
	forms *sesametest.Browser
}

// newBrowser returns a browser with an empty cookie jar.
func (d *runningDemo) newBrowser(t *testing.T) *demoBrowser {
	jar, _ := cookiejar.New(nil)
	return &demoBrowser{t: t, http: &http.Client{Jar: jar}, password: d.password,
		forms: sesametest.NewBrowserFor(t, "http://"+d.addrs.sesame)}
}

// get loads u and returns the page and where it ended.
func (b *demoBrowser) get(u string) (string, string) {
	b.t.Helper()
	resp, err := b.http.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return string(page), resp.Request.URL.String()
}

// submit posts the page's first form, its hidden inputs kept, with fields.
func (b *demoBrowser) submit(page, at string, fields map[string]string) (string, string) {
	b.t.Helper()
	action, form := b.forms.Form(sesametest.Page{URL: at, Body: page}, fields)
	resp, err := b.http.PostForm(action, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body), resp.Request.URL.String()
}

// signIn signs in to the app at app as username, typing the password
// when Sesame asks for it, and returns the app's page.
func (b *demoBrowser) signIn(app, username string) string {
	b.t.Helper()
	page, at := b.get(app + "/sign-in")
	if strings.Contains(page, `name="password"`) {
		page, _ = b.submit(page, at, map[string]string{"username": username, "password": b.password})
	}
	if !strings.Contains(page, "Signed in as "+username) {
		b.t.Fatalf("%s after %s's sign-in: %s", app, username, page)
	}
	return page
}

// contract: `sesame demo` serves Sesame and two SDK apps; a person signs in
// to one, is signed in to the other by SSO, signs out of the first, which
// says so after Sesame's front-channel page loaded both apps' pages, and
// the second says Not signed in and that Sesame told it (back-channel
// logout, which goes first), never that the person signed out of it.
func TestDemoShowsSSOAndSignOut(t *testing.T) {
	d := startDemo(t)
	b := d.newBrowser(t)
	app1, app2 := "http://"+d.addrs.app1, "http://"+d.addrs.app2

	// Both apps' pages carry the viewport tag, so a phone shows them at its
	// own width.
	const viewport = `<meta name="viewport" content="width=device-width, initial-scale=1">`
	for _, app := range []string{app1, app2} {
		if page, _ := b.get(app + "/"); !strings.Contains(page, "Not signed in") || !strings.Contains(page, viewport) {
			t.Fatalf("%s before sign-in: %s", app, page)
		}
	}
	b.signIn(app1, "alice")
	time.Sleep(1100 * time.Millisecond) // auth_time has one-second steps
	if page, _ := b.get(app2 + "/sign-in"); !strings.Contains(page, "Signed in as alice") || !strings.Contains(page, "single sign-on") {
		t.Fatalf("app 2 by SSO: %s", page)
	}
	page, at := b.get(app1 + "/sign-out") // the confirm page; its script would submit it
	page, at = b.submit(page, at, map[string]string{"logout": "true"})
	// Both apps registered a front-channel logout page: the sign-out ends
	// with Sesame's page that loads them in frames, then refreshes to App
	// One. Loaded as a browser would, each answers 200.
	frames := regexp.MustCompile(`<iframe src="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(frames) != 2 {
		t.Fatalf("at %s, want the front-channel page with both apps' frames: %s", at, page)
	}
	for i, want := range []string{app1, app2} {
		src := html.UnescapeString(frames[i][1])
		resp, err := b.http.Get(src)
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
	page, _ = b.get(html.UnescapeString(refresh[1]))
	if !strings.Contains(page, "Not signed in") || !strings.Contains(page, "You signed out of App One.") || strings.Contains(page, "Sesame told this app") {
		t.Fatalf("app 1 after its own sign-out: %s", page)
	}
	const told = "Sesame told this app, by back-channel logout, that your session ended"
	if page, _ := b.get(app2 + "/"); !strings.Contains(page, "Not signed in") || !strings.Contains(page, told) || strings.Contains(page, "You signed out") {
		t.Errorf("app 2 after signing out of app 1: %s", page)
	}
}
