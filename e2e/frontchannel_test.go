package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/demo"
	"github.com/sesame-id/sesame/rp"
)

// probeCookie is a cookie the test sets on the apps' site, SameSite=None
// and Secure: whether Chromium sends it in the front-channel frame depends
// on its third-party cookie settings, not on the protocol, so it is
// reported, not asserted.
const probeCookie = "fc_probe"

// F2 in a real browser, for an app on another site than Sesame: Sesame
// (`sesame serve`) on 127.0.0.1, the demo's two apps on localhost, each
// with a front-channel logout page and no back-channel URI, so that only
// the front channel can end App Two's session. Chromium signs in to App
// One, into App Two by SSO, and signs out of App One (every app); Sesame's
// last page loads both apps' pages in frames and goes on to App One's
// post_logout_redirect_uri: once by its script (JavaScript on), once by
// its meta refresh alone (JavaScript off). See node/frontchannel.test.mjs.
//
// Each app's handler must see one frame request, cross-site, with
// Sesame's iss and the sid of the session it holds for the browser, and
// App Two's session must be ended by it. What cookies the frame request
// carried is logged ("frontchannel cookies seen: ..."): the apps' session
// cookies are SameSite=Lax, so a cross-site frame never carries them, and
// the demo app identifies the session by sid; the SameSite=None probe
// arrives only if Chromium allows third-party cookies.
func TestFrontChannelCrossSite(t *testing.T) {
	chromium := chromiumPath(t)
	bin := buildSesame(t)
	sesame := freeAddr(t)
	issuer := "http://" + sesame + "/oidc"
	apps := []*recordingApp{listenLocalhost(t, "app-1", "App One"), listenLocalhost(t, "app-2", "App Two")}
	dir := t.TempDir()
	password := "a front-channel test password"
	cfg := fmt.Sprintf(`issuer: %s
listen: %s
database: sqlite://%s/sesame.db
secret_key: a secret key for the front-channel test
signout_confirm: auto
log_level: warn
users:
  - username: alice
    password: %s
clients:
`, issuer, sesame, dir, password)
	for _, a := range apps {
		// No backchannel_logout_uri: a back-channel logout would end App
		// Two's session before its frame loads.
		cfg += fmt.Sprintf(`  - id: %[1]s
    name: %[2]s
    secret: %[1]s-secret
    type: web
    first_party: true
    redirect_uris: [%[3]s/callback]
    post_logout_redirect_uris: [%[3]s/]
    frontchannel_logout_uri: %[3]s/frontchannel-logout
    frontchannel_logout_session_required: true
`, a.id, a.name, a.base())
	}
	config := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	waitLine(t, start(t, exec.Command(bin, "serve", "--config", config)), regexp.MustCompile(`^sesame listening on`))
	for _, a := range apps {
		a.start(t, issuer)
	}

	for _, js := range []string{"on", "off"} {
		t.Run("javascript "+js, func(t *testing.T) {
			for _, a := range apps {
				a.reset()
			}
			runNodeFile(t, "playwright-core", "frontchannel.test.mjs",
				"SESAME_URL=http://"+sesame, "DEMO_APP1="+apps[0].base(), "DEMO_APP2="+apps[1].base(),
				"DEMO_PASSWORD="+password, "FC_JAVASCRIPT="+js, "CHROMIUM="+chromium)
			for _, a := range apps {
				a.check(t, issuer, "JavaScript "+js)
			}
			one, two := apps[0].ended(t), apps[1].ended(t)
			if one != "" {
				t.Errorf("App One's own sign-out ended its session, yet the app says Sesame told it by %q", one)
			}
			if two != demo.Frontchannel {
				t.Errorf("App Two's session: ended by %q, want by its front-channel page (it has no other channel)", two)
			}
		})
	}
}

// recordingApp is a demo app on localhost behind a recorder of what its
// front-channel logout page receives.
type recordingApp struct {
	id, name, port string
	sessions       *demo.Sessions
	lns            []net.Listener

	mu sync.Mutex
	// session and sid are those of the last signed-in app session a page
	// of the app (not the frame) was opened with.
	session, sid string
	// pageCookies are the cookies the app's pages were opened with.
	pageCookies []string
	frames      []frameRequest
}

// frameRequest is one request to the front-channel logout page.
type frameRequest struct {
	iss, sid string
	// cookies are the names of the cookies it carried.
	cookies []string
	// dest and site are its Sec-Fetch-Dest and Sec-Fetch-Site.
	dest, site string
}

func (a *recordingApp) base() string { return "http://localhost:" + a.port }

// listenLocalhost returns the app id, named name, listening on a free
// port of 127.0.0.1, and on the same port of [::1] when the machine has
// it: Chromium may try either for localhost. It serves once started.
func listenLocalhost(t *testing.T, id, name string) *recordingApp {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	a := &recordingApp{id: id, name: name, port: port, lns: []net.Listener{ln}}
	if ln6, err := net.Listen("tcp6", "[::1]:"+port); err == nil {
		t.Cleanup(func() { _ = ln6.Close() })
		a.lns = append(a.lns, ln6)
	}
	return a
}

// start builds the demo app with Sesame's SDK (discovery needs Sesame up)
// and serves it on a's port until the test ends.
func (a *recordingApp) start(t *testing.T, issuer string) {
	a.sessions = demo.NewSessions()
	c, err := rp.New(t.Context(), rp.Config{Issuer: issuer, ClientID: a.id, ClientSecret: a.id + "-secret",
		RedirectURL: a.base() + "/callback", PostLogoutRedirectURL: a.base() + "/", Sessions: a.sessions,
		CookieName: a.id + "_session"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := demo.NewApp(a.name, a.id+"_session", issuer, c, a.sessions, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: a.record(app), ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range a.lns {
		go func() { _ = srv.Serve(ln) }()
	}
	t.Cleanup(func() { _ = srv.Close() })
}

// record wraps the app: it notes each front-channel request, and for
// every other request the app session the browser holds. It also sets the
// SameSite=None probe on every page of the app's site, as a third-party
// widget would.
func (a *recordingApp) record(app http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var names []string
		for _, c := range r.Cookies() {
			names = append(names, c.Name)
		}
		slices.Sort(names)
		a.mu.Lock()
		if r.URL.Path == "/frontchannel-logout" {
			q := r.URL.Query()
			a.frames = append(a.frames, frameRequest{iss: q.Get("iss"), sid: q.Get("sid"), cookies: names,
				dest: r.Header.Get("Sec-Fetch-Dest"), site: r.Header.Get("Sec-Fetch-Site")})
		} else {
			a.pageCookies = append(a.pageCookies, names...)
			if c, err := r.Cookie(a.id + "_session"); err == nil {
				if s, err := a.sessions.Get(r.Context(), c.Value); err == nil && s.SignedIn() {
					a.session, a.sid = c.Value, s.SID
				}
			}
			http.SetCookie(w, &http.Cookie{Name: probeCookie, Value: "1", Path: "/", Secure: true,
				HttpOnly: true, SameSite: http.SameSiteNoneMode})
		}
		a.mu.Unlock()
		app.ServeHTTP(w, r)
	})
}

func (a *recordingApp) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.session, a.sid, a.pageCookies, a.frames = "", "", nil, nil
}

// check asserts what is certain of the frame request (one, loaded as a
// cross-site iframe, with Sesame's iss and the sid of the app's session
// in this browser, without the app's SameSite=Lax session cookie) and
// logs the cookies it carried.
func (a *recordingApp) check(t *testing.T, issuer, run string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sid == "" {
		t.Fatalf("%s: no page of the app was opened signed in", a.name)
	}
	if len(a.frames) != 1 {
		t.Fatalf("%s: %d front-channel requests, want the one of Sesame's frame: %+v", a.name, len(a.frames), a.frames)
	}
	f := a.frames[0]
	if f.iss != issuer || f.sid != a.sid {
		t.Errorf("%s: front-channel request with iss %q and sid %q, want %q and the sid of its session, %q", a.name, f.iss, f.sid, issuer, a.sid)
	}
	if f.dest != "iframe" || f.site != "cross-site" {
		t.Errorf("%s: Sec-Fetch-Dest %q and Sec-Fetch-Site %q, want a cross-site iframe", a.name, f.dest, f.site)
	}
	if slices.Contains(f.cookies, a.id+"_session") {
		t.Errorf("%s: a cross-site frame carried the SameSite=Lax session cookie: %v", a.name, f.cookies)
	}
	page := slices.Compact(slices.Sorted(slices.Values(a.pageCookies)))
	probe := "did not arrive"
	if slices.Contains(f.cookies, probeCookie) {
		probe = "arrived"
	}
	t.Logf("frontchannel cookies seen: %s, %s, cross-site iframe: [%s] (session cookie %s_session withheld; SameSite=None probe %s); its own pages got [%s]",
		a.name, run, strings.Join(f.cookies, " "), a.id, probe, strings.Join(page, " "))
}

// ended says by which channel the app's session in this browser ended,
// or "" when the app ended it itself.
func (a *recordingApp) ended(t *testing.T) demo.Channel {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if x, err := a.sessions.Get(t.Context(), a.session); err == nil && x.SignedIn() {
		t.Errorf("%s: the session %s is still signed in", a.name, a.session)
	}
	return a.sessions.Notified(a.session)
}
