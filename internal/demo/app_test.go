package demo

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/web"
	"github.com/sesame-id/sesame/rp"
)

// The exact notes the apps show: they are part of what the demo teaches.
const (
	wantNotified = "Sesame told this app, by back-channel logout, that your session ended " +
		"(you may have signed out in another app or on your account page, or an administrator ended it). " +
		"Sign in again to continue."
	wantOwnOne   = "You signed out of App One."
	wantHereOnly = "This app did not ask Sesame to sign you out, so you may still be signed in to Sesame and to other apps."
)

// world is a test Sesame with the demo's two apps, App One (app-a) and App
// Two (app-b), on real listeners, and a person's browser.
type world struct {
	t        *testing.T
	s        *sesametest.Sesame
	one, two string
	browser  *http.Client
	// sessions are each app's session store, by the app's base URL.
	sessions map[string]*Sessions
}

// newWorld starts the world; each edit changes both apps' registrations
// (base is the app's URL).
func newWorld(t *testing.T, edits ...func(c *client.Spec, base string)) *world {
	t.Helper()
	return buildWorld(t, worldOptions{edits: edits})
}

// worldOptions are what a world is built with.
type worldOptions struct {
	// sesame are the test Sesame's options; Configure is the world's own.
	sesame sesametest.Options
	// orders, when set, is the Orders API both apps read, each configured
	// by Orders.Configure as `sesame demo` configures them.
	orders *Orders
	// signIn, when set, edits both apps' SDK configuration last.
	signIn func(c *rp.Config)
	// edits change both apps' registrations (base is the app's URL).
	edits []func(c *client.Spec, base string)
}

// buildWorld starts the world o describes.
func buildWorld(t *testing.T, o worldOptions) *world {
	t.Helper()
	names := map[string]string{sesametest.AppA: "App One", sesametest.AppB: "App Two"}
	servers := map[string]*httptest.Server{}
	base := func(id string) string { return "http://" + servers[id].Listener.Addr().String() }
	for id := range names {
		servers[id] = httptest.NewUnstartedServer(nil)
		t.Cleanup(servers[id].Close)
	}
	opts := o.sesame
	opts.Configure = func(c *config.Config) {
		for i, cl := range c.Clients {
			if _, ok := servers[cl.ID]; ok {
				c.Clients[i].Name = names[cl.ID]
				c.Clients[i].RedirectURIs = []string{base(cl.ID) + "/callback"}
				c.Clients[i].PostLogoutRedirectURIs = []string{base(cl.ID) + "/"}
				c.Clients[i].BackchannelLogoutURI = base(cl.ID) + "/backchannel-logout"
				for _, edit := range o.edits {
					edit(&c.Clients[i], base(cl.ID))
				}
			}
		}
	}
	s := sesametest.New(t, opts)
	stores := map[string]*Sessions{}
	for id, name := range names {
		sessions := NewSessions()
		stores[base(id)] = sessions
		rc := rp.Config{Issuer: s.Issuer, ClientID: id, ClientSecret: sesametest.Secret,
			RedirectURL: base(id) + "/callback", PostLogoutRedirectURL: base(id) + "/", Sessions: sessions, CookieName: id + "_session"}
		if o.orders != nil {
			o.orders.Configure(&rc)
		}
		if o.signIn != nil {
			o.signIn(&rc)
		}
		c, err := rp.New(t.Context(), rc)
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewApp(name, id+"_session", s.Issuer, c, sessions, nil)
		if err != nil {
			t.Fatal(err)
		}
		h.Orders = o.orders
		servers[id].Config.Handler = h
		servers[id].Start()
	}
	jar, _ := cookiejar.New(nil)
	return &world{t: t, s: s, one: base(sesametest.AppA), two: base(sesametest.AppB), browser: &http.Client{Jar: jar}, sessions: stores}
}

// get loads u, following every redirect, and returns the page and where
// it ended.
func (w *world) get(u string) (string, string) {
	w.t.Helper()
	resp, err := w.browser.Get(u)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.read(resp)
}

func (w *world) read(resp *http.Response) (string, string) {
	w.t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b), resp.Request.URL.String()
}

// submit posts the page's first form, its hidden inputs kept, with fields.
func (w *world) submit(page, at string, fields url.Values) (string, string) {
	w.t.Helper()
	raw, form, ok := web.FirstForm(page)
	if !ok {
		w.t.Fatalf("no form at %s: %s", at, page)
	}
	for k, v := range fields {
		form[k] = v
	}
	base, _ := url.Parse(at)
	action, err := base.Parse(raw)
	if err != nil {
		w.t.Fatal(err)
	}
	resp, err := w.browser.PostForm(action.String(), form)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.read(resp)
}

// signIn signs in to the app at base as alice, typing the password if
// asked.
func (w *world) signIn(base string) string {
	w.t.Helper()
	return w.signInAs(base, "alice")
}

// signInAs signs in to the app at base as username, typing the password
// if asked.
func (w *world) signInAs(base, username string) string {
	w.t.Helper()
	page, at := w.get(base + "/sign-in")
	if strings.Contains(page, `name="password"`) {
		page, _ = w.submit(page, at, url.Values{"username": {username}, "password": {sesametest.Password}})
	}
	if !strings.Contains(page, "Signed in as "+username) {
		w.t.Fatalf("%s after %s's sign-in: %s", base, username, page)
	}
	return page
}

// waitFor reloads the app's page until it contains want (a back-channel
// logout is usually delivered before Sesame redirects, but not always).
func (w *world) waitFor(base, want string) string {
	w.t.Helper()
	var page string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if page, _ = w.get(base + "/"); strings.Contains(page, want) {
			return page
		}
	}
	w.t.Fatalf("%s/ never said %q: %s", base, want, page)
	return ""
}

func mustSay(t *testing.T, who, page string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(page, s) {
			t.Errorf("%s does not say %q:\n%s", who, s, page)
		}
	}
}

func mustNotSay(t *testing.T, who, page string, unwanted ...string) {
	t.Helper()
	for _, s := range unwanted {
		if strings.Contains(page, s) {
			t.Errorf("%s says %q:\n%s", who, s, page)
		}
	}
}

// Signing out of App One through Sesame (every app): App One says the
// person signed out of it, although Sesame's back-channel logout for that
// session reaches it too; App Two, which did nothing, says it was told.
func TestDemoOwnSignOutIsToldApartFromBackchannel(t *testing.T) {
	w := newWorld(t)
	if page, _ := w.get(w.one + "/"); !strings.Contains(page, "Not signed in") {
		t.Fatalf("App One before sign-in: %s", page)
	}
	w.signIn(w.one)
	w.signIn(w.two)

	page, at := w.get(w.one + "/sign-out") // Sesame's confirm page
	page, at = w.submit(page, at, url.Values{"logout": {"true"}})
	if !strings.HasPrefix(at, w.one+"/?state=") {
		t.Fatalf("after sign-out the browser is at %s", at)
	}
	mustSay(t, "App One after its own sign-out", page, "Not signed in", wantOwnOne)
	mustNotSay(t, "App One after its own sign-out", page, "Sesame told this app", wantHereOnly)

	page = w.waitFor(w.two, "Sesame told this app")
	mustSay(t, "App Two after App One's sign-out", page, "Not signed in", wantNotified)
	mustNotSay(t, "App Two after App One's sign-out", page, "You signed out")

	// Sesame's back-channel logout for App One's own session changes
	// nothing there, and the note was for one page view.
	time.Sleep(200 * time.Millisecond)
	page, _ = w.get(w.one + "/")
	mustSay(t, "App One reloaded", page, "Not signed in")
	mustNotSay(t, "App One reloaded", page, "Sesame told this app", "You signed out")

	// App Two keeps saying what happened while the browser holds that
	// session's cookie, until the person signs in again.
	page, _ = w.get(w.two + "/")
	mustSay(t, "App Two reloaded", page, wantNotified)
	page = w.signIn(w.two)
	mustNotSay(t, "App Two signed in again", page, "Sesame told this app")
}

// "Sign out of this app only" never reaches Sesame: App One says so, and
// that the person may still be signed in elsewhere, which App Two shows.
func TestDemoSignOutOfThisAppOnlySaysWhatItLeaves(t *testing.T) {
	w := newWorld(t)
	w.signIn(w.one)
	w.signIn(w.two)
	page, _ := w.get(w.one + "/sign-out-here")
	mustSay(t, "App One after signing out of it only", page, "Not signed in", wantOwnOne, wantHereOnly)
	mustNotSay(t, "App One after signing out of it only", page, "Sesame told this app")
	page, _ = w.get(w.two + "/")
	mustSay(t, "App Two", page, "Signed in as alice")
}

// O7: an administrator ends the Sesame session; App One, told by
// back-channel logout, says it was told, never that the person signed
// out of it. A sign-out clicked afterwards on a page left open keeps that
// notice: the app ended nothing.
func TestDemoAdminEndingTheSessionIsReportedAsNotified(t *testing.T) {
	w := newWorld(t)
	w.signIn(w.one)
	admin := w.s.Token(t, sesametest.Robot, url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}})
	if admin.Status != 200 {
		t.Fatalf("admin token: %+v", admin.Raw)
	}
	acct, err := w.s.Store.AccountByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	list := w.api(admin.AccessToken, "GET", "/api/accounts/"+acct.ID+"/sessions")
	if !strings.Contains(list, `"id"`) {
		t.Fatalf("sessions: %s", list)
	}
	id := strings.SplitN(strings.SplitN(list, `"id":"`, 2)[1], `"`, 2)[0]
	w.api(admin.AccessToken, "DELETE", "/api/sessions/"+id)

	page := w.waitFor(w.one, "Sesame told this app")
	mustSay(t, "App One after an admin ended the session", page, "Not signed in", wantNotified)
	mustNotSay(t, "App One after an admin ended the session", page, "You signed out")

	page, _ = w.get(w.one + "/sign-out-here")
	mustSay(t, "App One after a sign-out on a stale page", page, wantNotified)
	mustNotSay(t, "App One after a sign-out on a stale page", page, "You signed out")
}

func (w *world) api(token, method, path string) string {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	page, _ := w.read(resp)
	if resp.StatusCode != 200 {
		w.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, page)
	}
	return page
}

// A link cannot make the page claim a sign-in or sign-out that did not
// happen here: the notes come from the app's own handlers only.
func TestDemoNotesCannotBeForgedByALink(t *testing.T) {
	w := newWorld(t)
	for _, q := range []string{"how=local", "how=sso", "how=password", "how=signed-out"} {
		page, _ := w.get(w.one + "/?" + q)
		mustSay(t, "App One at /?"+q, page, "Not signed in")
		mustNotSay(t, "App One at /?"+q, page, "You signed", "Sesame told", "single sign-on", `class="note"`)
	}
}

// The contract's routes: a back-channel logout URI that takes POST only
// and refuses what is not a logout token, and a callback that explains a
// failed sign-in in words rather than a Go error.
func TestDemoRoutesAnswerAsTheContractSays(t *testing.T) {
	w := newWorld(t)
	resp, err := http.Get(w.one + "/backchannel-logout")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /backchannel-logout: %d", resp.StatusCode)
	}
	resp, err = http.PostForm(w.one+"/backchannel-logout", url.Values{"logout_token": {"not-a-token"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST /backchannel-logout with a bad token: %d", resp.StatusCode)
	}
	resp, err = http.Get(w.one + "/callback?code=x&state=y")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := w.read(resp)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback without a sign-in: %d", resp.StatusCode)
	}
	mustSay(t, "callback without a sign-in", page, "Not signed in", "The sign-in did not complete", "Sign in again", `href="/sign-in"`)
	mustNotSay(t, "callback without a sign-in", page, "rp:")
}
