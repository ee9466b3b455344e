package console_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// admins are the options of a Sesame whose alice holds the admin role
// (C5); bob holds none.
func admins(opts sesametest.Options) sesametest.Options {
	opts.UserRoles = map[string][]string{"alice": {"admin"}}
	return opts
}

// Words each refusal says.
const (
	notAdminWords  = "your account does not have the admin role"
	endedWords     = "Reload the page to sign in again"
	crossSiteWords = "This form was sent from another site"
)

// signedIn opens the console as alice and checks she lands on the apps.
func signedIn(t *testing.T, s *sesametest.Sesame) (*sesametest.Browser, sesametest.Page) {
	t.Helper()
	b := s.NewBrowser(t)
	p := b.OpenConsole("alice")
	if p.Status != http.StatusOK || !strings.HasSuffix(p.URL, "/console/apps") || !strings.Contains(p.Body, "<h1>Apps</h1>") {
		t.Fatalf("alice opening the console: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	return b, p
}

var secretRe = regexp.MustCompile(`class="secret"[^>]*>\s*<strong>[^<]*</strong>\s*<code class="value">([^<]+)</code>`)

// shownSecret is the secret a console page shows, or "".
func shownSecret(p sesametest.Page) string {
	m := secretRe.FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return m[1]
}

// redeem signs alice in to app id in b and redeems the code with secret
// at /token; it returns the token endpoint's status.
func redeem(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser, id, secret string) int {
	t.Helper()
	cb := b.SignIn(id, "alice", nil)
	if cb.Code == "" {
		t.Fatalf("no code for %s: %q", id, cb.Error)
	}
	verifier, _ := sesametest.PKCE()
	resp, _ := s.PostForm(t, "/token", id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Code},
		"redirect_uri": {sesametest.RedirectURI(id)}, "code_verifier": {verifier}})
	return resp.StatusCode
}

func accountID(t *testing.T, s *sesametest.Sesame, username string) string {
	t.Helper()
	acct, err := s.Store.AccountByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	return acct.ID
}

// An admin signs in to the console through Sesame itself, sees the apps,
// creates a web app and a machine-to-machine app (each secret shown once,
// and working at /token), edits the web app, and rotates its secret (the
// old one refused at once, the new one working). Every change is audited
// with alice, a person acting as an admin, as its actor.
func TestAnAdminManagesApps(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, p := signedIn(t, s)
		for _, want := range []string{`href="/console/apps/app-a"`, "App ID <code>sesame-console</code>", "Sesame's own</span>",
			`<span class="badge muted">configuration file</span>`, "<code>https://app-a.example/callback</code>"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the app list lacks %q", want)
			}
		}

		// Create a web app: its secret is on the answer, and only there.
		p = b.Get(s.ConsoleURL("/console/apps/new"))
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `action="/console/apps"`) {
			t.Fatalf("create form: %d %s", p.Status, p.Body)
		}
		p = b.ConsolePost(p, "/console/apps", url.Values{"id": {"shop"}, "name": {"Shop"}, "type": {"web"},
			"redirect_uris": {sesametest.RedirectURI("shop")}, "post_logout_redirect_uris": {"https://shop.example/"},
			"first_party": {"on"}, "offline_survives_signout": {"on"}})
		secret := shownSecret(p)
		if p.Status != http.StatusOK || secret == "" || !strings.Contains(p.Body, "The app is created") {
			t.Fatalf("create a web app: %d, secret %q\n%s", p.Status, secret, p.Body)
		}
		for _, want := range []string{"@logto/node", "Sesame&#39;s SDK (rp)", "openid-client", s.Issuer + "/token", s.Issuer + "/session/end",
			s.Issuer + "/jwks", s.Issuer + "/.well-known/openid-configuration", `appId: &#34;shop&#34;`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the new app's page lacks %q", want)
			}
		}
		c, err := s.Store.Client(t.Context(), "shop")
		if err != nil || c.Type != client.TypeWeb || !c.FirstParty || c.Name != "Shop" {
			t.Fatalf("stored: %+v %v", c, err)
		}
		if again := b.Get(s.ConsoleURL("/console/apps/shop")); again.Status != http.StatusOK || strings.Contains(again.Body, secret) || shownSecret(again) != "" {
			t.Errorf("the secret is shown again on the app's page (%d)", again.Status)
		}
		person := s.NewBrowser(t)
		if st := redeem(t, s, person, "shop", secret); st != http.StatusOK {
			t.Errorf("the shown secret at /token: %d", st)
		}

		// Edit every field the console edits.
		p = b.Get(s.ConsoleURL("/console/apps/shop"))
		p = b.ConsolePost(p, "/console/apps/shop", url.Values{"name": {"The Shop"},
			"redirect_uris":             {sesametest.RedirectURI("shop") + "\nhttps://shop.example/cb2"},
			"post_logout_redirect_uris": {"https://shop.example/bye"},
			"backchannel_logout_uri":    {"https://shop.example/backchannel"}, "backchannel_logout_session_required": {"on"},
			"frontchannel_logout_uri": {"https://shop.example/frontchannel"}, "frontchannel_logout_session_required": {"on"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The changes are saved") {
			t.Fatalf("edit: %d %s\n%s", p.Status, p.URL, p.Body)
		}
		c, _ = s.Store.Client(t.Context(), "shop")
		if c.Name != "The Shop" || !slices.Equal(c.RedirectURIs, []string{sesametest.RedirectURI("shop"), "https://shop.example/cb2"}) ||
			!slices.Equal(c.PostLogoutRedirectURIs, []string{"https://shop.example/bye"}) ||
			c.BackchannelLogoutURI != "https://shop.example/backchannel" || !c.BackchannelLogoutSessionRequired ||
			c.FrontchannelLogoutURI != "https://shop.example/frontchannel" || !c.FrontchannelLogoutSessionRequired ||
			c.OfflineSurvivesSignout || c.FirstParty {
			t.Errorf("after the edit: %+v", c)
		}
		if st := redeem(t, s, person, "shop", secret); st != http.StatusOK {
			t.Errorf("an edit changed the secret: %d", st)
		}

		// An edit that does not validate changes nothing and keeps what
		// was typed, with the problem in words.
		p = b.ConsolePost(p, "/console/apps/shop", url.Values{"name": {"Broken"}, "redirect_uris": {"http://evil.example/cb"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "must be https") || !strings.Contains(p.Body, "http://evil.example/cb</textarea>") {
			t.Errorf("an invalid edit: %d\n%s", p.Status, p.Body)
		}
		if after, _ := s.Store.Client(t.Context(), "shop"); after.Name != "The Shop" {
			t.Errorf("an invalid edit was saved: %+v", after)
		}

		// Rotate: a new secret, shown once; the old one refused at once.
		p = b.Get(s.ConsoleURL("/console/apps/shop"))
		p = b.ConsolePost(p, "/console/apps/shop/secret", nil)
		rotated := shownSecret(p)
		if p.Status != http.StatusOK || rotated == "" || rotated == secret {
			t.Fatalf("rotate: %d, secret %q\n%s", p.Status, rotated, p.Body)
		}
		if st := redeem(t, s, person, "shop", secret); st != http.StatusUnauthorized {
			t.Errorf("the old secret after rotation: %d, want 401", st)
		}
		if st := redeem(t, s, person, "shop", rotated); st != http.StatusOK {
			t.Errorf("the rotated secret: %d", st)
		}

		// A machine-to-machine app: its shown secret gets it a token.
		p = b.ConsolePost(p, "/console/apps", url.Values{"id": {"svc"}, "name": {"Service"}, "type": {"m2m"}})
		m2m := shownSecret(p)
		if p.Status != http.StatusOK || m2m == "" || !strings.Contains(p.Body, "client_credentials") {
			t.Fatalf("create an m2m app: %d\n%s", p.Status, p.Body)
		}
		if resp, body := s.PostForm(t, "/token", "svc", m2m, url.Values{"grant_type": {"client_credentials"}}); resp.StatusCode != http.StatusOK {
			t.Errorf("the m2m app's secret: %d %s", resp.StatusCode, body)
		}
		// A public app has no secret: its answer is its page.
		p = b.ConsolePost(p, "/console/apps", url.Values{"id": {"spa-2"}, "type": {"spa"}, "redirect_uris": {"https://spa-2.example/cb"}})
		if p.Status != http.StatusOK || shownSecret(p) != "" || !strings.Contains(p.Body, "The app is created") || !strings.Contains(p.Body, "client.None()") {
			t.Errorf("create an SPA: %d\n%s", p.Status, p.Body)
		}
		// A duplicate id is refused in words, the form kept.
		p = b.ConsolePost(p, "/console/apps", url.Values{"id": {"shop"}, "name": {"Again"}, "type": {"web"}, "redirect_uris": {"https://x.example/cb"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "exists already") || !strings.Contains(p.Body, `value="Again"`) {
			t.Errorf("a duplicate id: %d\n%s", p.Status, p.Body)
		}

		entries, err := s.Store.AuditEntries(t.Context(), store.AuditFilter{TargetKind: string(audit.TargetClient), TargetID: "shop", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
			if e.ActorKind != string(audit.ActorAdminAccount) || e.ActorID != accountID(t, s, "alice") {
				t.Errorf("audit entry %s by %s %s, want alice as %s", e.Action, e.ActorKind, e.ActorID, audit.ActorAdminAccount)
			}
		}
		for _, want := range []audit.Action{audit.ClientCreate, audit.ClientUpdate, audit.ClientRotateSecret} {
			if !slices.Contains(actions, string(want)) {
				t.Errorf("no %s entry among %v", want, actions)
			}
		}
	})
}

// routeURL is a console route's path with its wildcards filled in.
func routeURL(pattern, id string) string {
	return strings.NewReplacer("{$}", "", "{id}", id).Replace(pattern)
}

// outsideTheGuard are the routes a person without the admin role may use:
// the redirect to the console's start, the sign-in's callback, and
// signing out (offered on the refusal itself).
var outsideTheGuard = []string{"GET /console", "GET /console/callback", "POST /console/sign-out"}

// postFields are what a real form of each console action posts: were the
// guard missing, each would change something.
func postFields(pattern string) url.Values {
	switch pattern {
	case "/console/apps":
		return url.Values{"id": {"bobs-app"}, "type": {"web"}, "redirect_uris": {"https://bob.example/cb"}}
	case "/console/apps/{id}":
		return url.Values{"name": {"taken over"}, "redirect_uris": {"https://bob.example/cb"}}
	}
	return nil
}

// A person without the admin role who signs in is refused every page and
// every action of the console, in words, with a way to sign out; nothing
// they post changes anything.
func TestPersonsWithoutTheRoleAreRefusedEveryRoute(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	victim := client.Spec{ID: "victim", Name: "Victim", Type: client.TypeWeb, Secret: sesametest.Secret, RedirectURIs: []string{"https://victim.example/cb"}}
	before, err := s.Clients.Upsert(t.Context(), victim)
	if err != nil {
		t.Fatal(err)
	}
	b := s.NewBrowser(t)
	refusal := b.OpenConsole("bob")
	if refusal.Status != http.StatusForbidden || !strings.Contains(refusal.Body, notAdminWords) ||
		!strings.Contains(refusal.Body, `action="/console/sign-out"`) || strings.Contains(refusal.Body, `href="/console/apps"`) {
		t.Fatalf("bob opening the console: %d\n%s", refusal.Status, refusal.Body)
	}
	checked := 0
	for _, rt := range s.Console.Routes() {
		name := rt.Method + " " + rt.Pattern
		if slices.Contains(outsideTheGuard, name) {
			continue
		}
		checked++
		t.Run(name, func(t *testing.T) {
			var p sesametest.Page
			if rt.Method == http.MethodGet {
				p = b.Get(s.ConsoleURL(routeURL(rt.Pattern, "victim")))
			} else {
				p = b.ConsolePost(refusal, routeURL(rt.Pattern, "victim"), postFields(rt.Pattern))
			}
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, notAdminWords) {
				t.Errorf("bob: %d\n%s", p.Status, p.Body)
			}
		})
	}
	if checked < 7 {
		t.Errorf("only %d routes checked", checked)
	}
	if _, err := s.Store.Client(t.Context(), "bobs-app"); err == nil {
		t.Error("bob created an app")
	}
	after, _ := s.Store.Client(t.Context(), "victim")
	if after.Name != before.Name || after.SecretHash != before.SecretHash || !slices.Equal(after.RedirectURIs, before.RedirectURIs) {
		t.Errorf("bob changed an app: %+v", after)
	}
	// The console's own sign-out stays open to him.
	if p := b.ConsolePost(refusal, "/console/sign-out", nil); !strings.Contains(p.Body, `name="xsrf"`) && !sesametest.IsSignInPage(p) {
		t.Errorf("bob signing out: %d\n%s", p.Status, p.Body)
	}
}

// W1: every console post is refused when the browser says another site
// made it, even with the right form token; one without the token is
// refused too.
func TestCrossSitePostsAreRefused(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	b, p := signedIn(t, s)
	for _, rt := range s.Console.Routes() {
		if rt.Method != http.MethodPost {
			continue
		}
		t.Run(rt.Pattern, func(t *testing.T) {
			got := b.ConsolePostFrom("cross-site", p, routeURL(rt.Pattern, "spa"), postFields(rt.Pattern))
			if got.Status != http.StatusForbidden || !strings.Contains(got.Body, crossSiteWords) {
				t.Errorf("cross-site: %d\n%s", got.Status, got.Body)
			}
			form := postFields(rt.Pattern)
			if form == nil {
				form = url.Values{}
			}
			if got := b.Post(s.ConsoleURL(routeURL(rt.Pattern, "spa")), form); got.Status != http.StatusBadRequest {
				t.Errorf("without the form token: %d\n%s", got.Status, got.Body)
			}
		})
	}
	if _, err := s.Store.Client(t.Context(), "bobs-app"); err == nil {
		t.Error("a refused post created an app")
	}
	if c, _ := s.Store.Client(t.Context(), "spa"); c.Name != "SPA" {
		t.Errorf("a refused post changed an app: %+v", c)
	}
	if p := b.Get(s.ConsoleURL("/console/apps")); p.Status != http.StatusOK {
		t.Errorf("after the refused sign-out, the console: %d", p.Status)
	}
}

// C5: the role is read at every request, not when the console signed in:
// taken away, the very next page and the very next action are refused.
func TestLosingTheRoleEndsTheConsoleAtOnce(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, p := signedIn(t, s)
		if err := s.Store.InTx(context.Background(), store.Durable, func(tx store.Tx) error {
			return tx.SetAccountRoles(context.Background(), accountID(t, s, "alice"), nil)
		}); err != nil {
			t.Fatal(err)
		}
		if got := b.Get(s.ConsoleURL("/console/apps")); got.Status != http.StatusForbidden || !strings.Contains(got.Body, notAdminWords) {
			t.Errorf("the next page: %d\n%s", got.Status, got.Body)
		}
		got := b.ConsolePost(p, "/console/apps", postFields("/console/apps"))
		if got.Status != http.StatusForbidden || !strings.Contains(got.Body, notAdminWords) {
			t.Errorf("the next action: %d\n%s", got.Status, got.Body)
		}
		if _, err := s.Store.Client(t.Context(), "bobs-app"); err == nil {
			t.Error("the action went through")
		}
	})
}

// O4, G2: a global sign-out in the browser revokes the console's grant
// (it holds no offline access), so the console asks for a sign-in at the
// next request.
func TestGlobalSignOutEndsTheConsole(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, _ := signedIn(t, s)
		confirm := b.Get(s.Issuer + "/session/end")
		if !strings.Contains(confirm.Body, `name="xsrf"`) {
			t.Fatalf("no confirm page: %d\n%s", confirm.Status, confirm.Body)
		}
		if done := b.Submit(confirm, map[string]string{"logout": "true"}); done.Status != http.StatusOK {
			t.Fatalf("global sign-out: %d\n%s", done.Status, done.Body)
		}
		if p := b.Get(s.ConsoleURL("/console/apps")); !sesametest.IsSignInPage(p) {
			t.Errorf("the console after a global sign-out: %d %s\n%s", p.Status, p.URL, p.Body)
		}
	})
}

// The console's sign-out is an ordinary Sesame sign-out: end-session
// with the console's ID token as hint, back to the console, which then
// asks for a sign-in.
func TestSignOutOfTheConsole(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	b, p := signedIn(t, s)
	req, _ := http.NewRequest(http.MethodPost, s.ConsoleURL("/console/sign-out"), strings.NewReader(url.Values{"csrf": {sesametest.ConsoleCSRF(t, p)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	end, _ := url.Parse(resp.Header.Get("Location"))
	q := end.Query()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(end.String(), s.Issuer+"/session/end?") ||
		q.Get("post_logout_redirect_uri") != s.URL+"/console/" || q.Get("id_token_hint") == "" {
		t.Fatalf("sign-out: %d %s", resp.StatusCode, end)
	}
	if claims := s.IDClaims(t, q.Get("id_token_hint")); claims["aud"] != client.ConsoleID {
		t.Errorf("the hint is not the console's ID token: %v", claims)
	}
	if !slices.ContainsFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "sesame_console" && c.MaxAge < 0 }) {
		t.Error("the console's cookie was not cleared")
	}
	confirm := b.Get(end.String())
	if !strings.Contains(confirm.Body, `name="xsrf"`) {
		t.Fatalf("no confirm page: %d\n%s", confirm.Status, confirm.Body)
	}
	back := b.Submit(confirm, map[string]string{"logout": "true"})
	if !sesametest.IsSignInPage(back) || !strings.Contains(back.URL, "/oidc/") {
		t.Errorf("after signing out, the console: %d %s\n%s", back.Status, back.URL, back.Body)
	}
}

// An ended console session (the access token expired) starts a silent
// sign-in on a page (SSO: Sesame's session is still there); an action
// asks for a reload instead, and changes nothing.
func TestAnExpiredConsoleSession(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	b, p := signedIn(t, s)
	s.Clock.Advance(61 * time.Minute)
	got := b.ConsolePost(p, "/console/apps", postFields("/console/apps"))
	if got.Status != http.StatusForbidden || !strings.Contains(got.Body, endedWords) {
		t.Errorf("an action after expiry: %d\n%s", got.Status, got.Body)
	}
	if _, err := s.Store.Client(t.Context(), "bobs-app"); err == nil {
		t.Error("the action went through")
	}
	if again := b.Get(s.ConsoleURL("/console/apps/app-a")); again.Status != http.StatusOK || !strings.HasSuffix(again.URL, "/console/apps/app-a") {
		t.Errorf("a page after expiry: %d %s (want the page again, through SSO)\n%s", again.Status, again.URL, again.Body)
	}
}

// C4: an app the configuration file declares is shown read-only, and the
// console refuses to change it or its secret.
func TestDeclaredAppsAreReadOnly(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	b, _ := signedIn(t, s)
	before, _ := s.Store.Client(t.Context(), sesametest.AppA)
	p := b.Get(s.ConsoleURL("/console/apps/app-a"))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "declared in the configuration file") ||
		strings.Contains(p.Body, `action="/console/apps/app-a"`) || strings.Contains(p.Body, "/secret") {
		t.Errorf("a declared app's page: %d\n%s", p.Status, p.Body)
	}
	for _, path := range []string{"/console/apps/app-a", "/console/apps/app-a/secret"} {
		got := b.ConsolePost(p, path, url.Values{"name": {"changed"}, "redirect_uris": {"https://app-a.example/other"}})
		if got.Status != http.StatusConflict || !strings.Contains(got.Body, "configuration file") {
			t.Errorf("POST %s: %d\n%s", path, got.Status, got.Body)
		}
	}
	after, _ := s.Store.Client(t.Context(), sesametest.AppA)
	if after.Name != before.Name || after.SecretHash != before.SecretHash || !slices.Equal(after.RedirectURIs, before.RedirectURIs) {
		t.Errorf("a declared app changed: %+v", after)
	}
}

// Pages are built like Sesame's others: a strict CSP allowing no script
// and posting only to Sesame, no framing or caching, a viewport, the
// sections to come named as such, and the console's cookie HttpOnly and
// SameSite=Lax.
func TestPagesAndCookies(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	b := s.NewBrowser(t)
	start, err := b.HTTP.Get(s.ConsoleURL("/console/apps/app-a"))
	if err != nil {
		t.Fatal(err)
	}
	start.Body.Close()
	auth, _ := url.Parse(start.Header.Get("Location"))
	q := auth.Query()
	if start.StatusCode != http.StatusSeeOther || !strings.HasPrefix(auth.String(), s.Issuer+"/auth?") || q.Get("client_id") != client.ConsoleID ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" ||
		q.Get("scope") != "openid profile sesame:admin" || q.Get("redirect_uri") != s.URL+"/console/callback" {
		t.Fatalf("the console's sign-in request: %d %s", start.StatusCode, auth)
	}
	checkCookie(t, start, "sesame_console_signin")
	signIn := b.Get(auth.String())
	action, form := b.Form(signIn, map[string]string{"username": "alice", "password": sesametest.Password})
	resp, err := b.HTTP.PostForm(action, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, s.URL+"/console/callback?") {
		t.Fatalf("after sign-in: %d %s", resp.StatusCode, callback)
	}
	resp, err = b.HTTP.Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/apps/app-a" {
		t.Fatalf("callback: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	checkCookie(t, resp, "sesame_console")
	// The sign-in's state is single use: the callback again finds none,
	// and another browser (a planted callback) never had one.
	if again := b.Get(callback); again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "was not started in this browser") {
		t.Errorf("the callback replayed: %d", again.Status)
	}
	other := s.NewBrowser(t)
	if planted := other.Get(callback); planted.Status != http.StatusBadRequest {
		t.Errorf("a callback in a browser that did not start the sign-in: %d", planted.Status)
	}
	if p := other.Get(s.ConsoleURL("/console/apps")); !sesametest.IsSignInPage(p) {
		t.Errorf("the planted callback opened the console: %d %s", p.Status, p.URL)
	}

	for _, path := range []string{"/console/apps", "/console/apps/new", "/console/apps/app-a", "/console/apps/nobody"} {
		p := b.Get(s.ConsoleURL(path))
		csp := p.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") || strings.Contains(csp, "script-src") ||
			p.Header.Get("X-Frame-Options") != "DENY" || p.Header.Get("Cache-Control") != "no-store" ||
			!strings.Contains(p.Body, `name="viewport"`) || strings.Contains(p.Body, "<script") {
			t.Errorf("%s: headers %v", path, p.Header)
		}
		for _, section := range []string{`href="/console/apps"`, `href="/console/users"`, `href="/console/resources"`} {
			if !strings.Contains(p.Body, section) {
				t.Errorf("%s: the nav has no %s", path, section)
			}
		}
		if path == "/console/apps/nobody" && p.Status != http.StatusNotFound {
			t.Errorf("an unknown app: %d", p.Status)
		}
	}
}

func checkCookie(t *testing.T, resp *http.Response, name string) {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == name {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Value == "" {
				t.Errorf("cookie %s: %+v", name, c)
			}
			return
		}
	}
	t.Errorf("no cookie %s in %v", name, resp.Header["Set-Cookie"])
}

// The console's client id is Sesame's own: the configuration file cannot
// declare it, and neither the admin API nor the console can create,
// change or delete it; Sesame registers it at start, as a first-party web
// app whose secret nobody holds.
func TestTheConsoleIDIsReserved(t *testing.T) {
	cfg := config.Default()
	cfg.Issuer = "http://127.0.0.1:4000/oidc"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the default configuration: %v", err)
	}
	cfg.Clients = []client.Spec{{ID: client.ConsoleID, Type: client.TypeWeb, Secret: "s3cret-s3cret", RedirectURIs: []string{"http://127.0.0.1:4000/console/callback"}}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `id "sesame-console" is reserved`) {
		t.Errorf("the configuration file declaring the console's client: %v", err)
	}

	s := sesametest.New(t, admins(sesametest.Options{}))
	registered, err := s.Store.Client(t.Context(), client.ConsoleID)
	if err != nil || registered.Type != client.TypeWeb || !registered.FirstParty || registered.SecretHash == "" ||
		!slices.Equal(registered.RedirectURIs, []string{s.URL + "/console/callback"}) ||
		!slices.Equal(registered.PostLogoutRedirectURIs, []string{s.URL + "/console/"}) || registered.OfflineSurvivesSignout {
		t.Fatalf("the console's client as registered: %+v %v", registered, err)
	}
	robot := s.Token(t, sesametest.Robot, url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}})
	if robot.Status != http.StatusOK {
		t.Fatalf("admin token: %+v", robot.Raw)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/clients", `{"id":"sesame-console","type":"web","redirect_uris":["https://evil.example/cb"]}`},
		{"PUT", "/api/clients/sesame-console", `{"type":"web","redirect_uris":["https://evil.example/cb"]}`},
		{"DELETE", "/api/clients/sesame-console", ``},
	} {
		req, _ := http.NewRequest(c.method, s.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+robot.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "reserved") {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}

	b, p := signedIn(t, s)
	view := b.Get(s.ConsoleURL("/console/apps/sesame-console"))
	if view.Status != http.StatusOK || !strings.Contains(view.Body, "This is Sesame's own console") ||
		strings.Contains(view.Body, `action="/console/apps/sesame-console"`) {
		t.Errorf("the console's own app page: %d\n%s", view.Status, view.Body)
	}
	for _, c := range []struct {
		path   string
		fields url.Values
	}{
		{"/console/apps", url.Values{"id": {client.ConsoleID}, "type": {"web"}, "redirect_uris": {"https://evil.example/cb"}}},
		{"/console/apps/sesame-console", url.Values{"redirect_uris": {"https://evil.example/cb"}}},
		{"/console/apps/sesame-console/secret", nil},
	} {
		if got := b.ConsolePost(p, c.path, c.fields); got.Status != http.StatusConflict || !strings.Contains(got.Body, "registered by Sesame at every start") {
			t.Errorf("POST %s: %d\n%s", c.path, got.Status, got.Body)
		}
	}
	after, _ := s.Store.Client(t.Context(), client.ConsoleID)
	if after.SecretHash != registered.SecretHash || !slices.Equal(after.RedirectURIs, registered.RedirectURIs) {
		t.Errorf("the console's client changed: %+v", after)
	}
	// Its secret is nobody's: no guess gets a token, and it has no
	// client_credentials anyway.
	if tok := s.Token(t, client.ConsoleID, url.Values{"grant_type": {"client_credentials"}}); tok.Status != http.StatusUnauthorized {
		t.Errorf("the console's client at /token with a guessed secret: %d", tok.Status)
	}
}
