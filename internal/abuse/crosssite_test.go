package abuse_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/web"
)

// formRoute is one form Sesame renders, set up in a victim's browser: the
// post its page makes, and how to tell whether a post took effect.
type formRoute struct {
	name string
	// open brings a fresh Sesame and browser to the page and returns
	// where its form posts, what it posts, and a check that reports
	// whether a post took effect.
	open func(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) (action string, form url.Values, took func(sesametest.Page) bool)
}

// W1: every POST of a form Sesame renders is refused cross-site and
// without the browser's token; the honest post still works.
var formRoutes = []formRoute{
	{"sign-in (interaction)", func(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) (string, url.Values, func(sesametest.Page) bool) {
		p := b.Get(s.AuthURL(sesametest.AppA, nil))
		action, form := b.Form(p, map[string]string{"username": "alice", "password": sesametest.Password})
		return action, form, landedWithCode
	}},
	{"consent", func(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) (string, url.Values, func(sesametest.Page) bool) {
		p := b.Get(s.AuthURL(sesametest.ThirdParty, nil))
		p = b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password})
		if !sesametest.IsConsentPage(p) {
			t.Fatalf("no consent page: %d %s", p.Status, p.Body)
		}
		action, form := b.Form(p, map[string]string{"decision": "allow"})
		return action, form, landedWithCode
	}},
	{"sign-out confirm", func(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) (string, url.Values, func(sesametest.Page) bool) {
		tok := b.SignedIn(sesametest.AppA, "alice", nil)
		p := b.Get(s.Issuer + "/session/end?" + url.Values{"client_id": {sesametest.AppA}}.Encode())
		action, form := b.Form(p, map[string]string{"logout": "true"})
		return action, form, tokenEnded(t, s, tok.AccessToken)
	}},
	{"account sign-in", func(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) (string, url.Values, func(sesametest.Page) bool) {
		p := b.Get(s.URL + "/account")
		action, form := b.Form(p, map[string]string{"username": "alice", "password": sesametest.Password})
		return action, form, func(sesametest.Page) bool { return strings.Contains(b.Get(s.URL+"/account").Body, "Devices") }
	}},
	{"account: sign a device out", func(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) (string, url.Values, func(sesametest.Page) bool) {
		phone := s.NewBrowser(t)
		tok := phone.SignedIn(sesametest.AppA, "alice", nil)
		_, form := b.Form(accountPage(t, s, b), nil)
		return s.URL + "/account/sessions/" + sessionOf(t, s, phone) + "/end", form, tokenEnded(t, s, tok.AccessToken)
	}},
	{"account: disconnect an app", func(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) (string, url.Values, func(sesametest.Page) bool) {
		tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil)
		_, form := b.Form(accountPage(t, s, b), nil)
		acct, err := s.Store.AccountByUsername(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		grants, err := s.Store.GrantsByAccount(t.Context(), acct.ID)
		if err != nil || len(grants) != 1 {
			t.Fatalf("grants %v, %v", grants, err)
		}
		return s.URL + "/account/grants/" + grants[0].ID + "/revoke", form, tokenEnded(t, s, tok.AccessToken)
	}},
	{"account: sign out everywhere", func(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) (string, url.Values, func(sesametest.Page) bool) {
		tok := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil)
		_, form := b.Form(accountPage(t, s, b), nil)
		return s.URL + "/account/sign-out-everywhere", form, tokenEnded(t, s, tok.AccessToken)
	}},
}

// W1, spec S7: for each form route, a post the browser marks cross-site is
// refused with 403 even with the right token, and a same-site post (another
// port of the same host) without the token with 400; neither takes
// effect, and the honest post from Sesame's own page then does.
func TestFormPostsAreBoundToSesamesPages(t *testing.T) {
	for _, route := range formRoutes {
		t.Run(route.name, func(t *testing.T) {
			sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
				s := sesametest.New(t, opts)
				b := s.NewBrowser(t)
				action, form, took := route.open(t, s, b)
				if form.Get(web.FormField) == "" {
					t.Fatalf("the page's form carries no %s", web.FormField)
				}

				p := b.PostFrom("cross-site", action, form)
				if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "another site") ||
					!strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
					t.Errorf("cross-site post: %d %s %s", p.Status, p.Header.Get("Content-Type"), p.Body)
				}
				if took(p) {
					t.Fatal("a cross-site post took effect")
				}

				forged := cloneValues(form)
				forged.Set(web.FormField, strings.Repeat("A", len(form.Get(web.FormField))))
				for _, c := range []struct {
					name, site string
					form       url.Values
				}{
					{"same-site, no token", "same-site", without(form, web.FormField)},
					{"no fetch metadata, no token", "", without(form, web.FormField)},
					{"same-site, forged token", "same-site", forged},
				} {
					p := b.PostFrom(c.site, action, c.form)
					if p.Status != http.StatusBadRequest {
						t.Errorf("%s: %d %s", c.name, p.Status, p.Body)
					}
					if took(p) {
						t.Fatalf("%s: the post took effect", c.name)
					}
				}

				if honest := b.PostFrom("same-origin", action, form); !took(honest) {
					t.Errorf("the honest post from Sesame's page did not work: %d %s %s", honest.Status, honest.Location, honest.Body)
				}
			})
		})
	}
}

// W1, spec S7, issue 11 point 4 (login CSRF): a third-party page makes the
// victim's browser post the attacker's credentials to the account page's
// sign-in, or to a sign-in the attacker started. Whatever the browser
// sends with it, the victim's browser is not signed in to the attacker's
// account.
func TestLoginCSRFFails(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		// The attacker, bob, loads Sesame's pages in his own browser to
		// learn what a form looks like, tokens included.
		attacker := s.NewBrowser(t)
		accountAction, accountForm := attacker.Form(attacker.Get(s.URL+"/account"),
			map[string]string{"username": "bob", "password": sesametest.Password})
		oidcAction, oidcForm := attacker.Form(attacker.Get(s.AuthURL(sesametest.AppA, nil)),
			map[string]string{"username": "bob", "password": sesametest.Password})

		victim := s.NewBrowser(t)
		victim.Get(s.URL + "/account") // the victim has been to Sesame: it holds a browser cookie
		for _, c := range []struct {
			name, site, action string
			form               url.Values
			want               int
		}{
			// What a browser sends for a form on another site: SameSite=Lax
			// keeps the cookies home too, but the test browser sends them.
			{"cross-site page, attacker's token", "cross-site", accountAction, accountForm, http.StatusForbidden},
			{"cross-site page to the attacker's sign-in", "cross-site", oidcAction, oidcForm, http.StatusForbidden},
			// A page on another port of the same host is the same site: the
			// browser sends the victim's cookies, and the token stops it.
			{"same-site page, attacker's token", "same-site", accountAction, accountForm, http.StatusBadRequest},
			{"same-site page, no token", "same-site", accountAction, without(accountForm, web.FormField), http.StatusBadRequest},
			{"older browser, no fetch metadata", "", accountAction, accountForm, http.StatusBadRequest},
			{"same-site page to the attacker's sign-in", "same-site", oidcAction, oidcForm, http.StatusBadRequest},
		} {
			if p := victim.PostFrom(c.site, c.action, c.form); p.Status != c.want {
				t.Errorf("%s: %d, want %d: %s", c.name, p.Status, c.want, p.Body)
			}
		}
		if p := victim.Get(s.URL + "/account"); !sesametest.IsSignInPage(p) || strings.Contains(p.Body, "bob") {
			t.Errorf("the victim's browser was signed in: %d %s", p.Status, p.Body)
		}
		bob, err := s.Store.AccountByUsername(t.Context(), "bob")
		if err != nil {
			t.Fatal(err)
		}
		if sessions, err := s.Store.SessionsByAccount(t.Context(), bob.ID); err != nil || len(sessions) != 0 {
			t.Errorf("bob has sessions: %v, %v", sessions, err)
		}
		// The attacker's own browser, posting its own form, signs in: the
		// refusals above are about the victim's browser, not the form.
		if p := attacker.PostFrom("same-origin", accountAction, accountForm); !strings.Contains(p.Body, "Devices") {
			t.Errorf("the attacker's honest sign-in failed: %d %s", p.Status, p.Body)
		}
	})
}

// Protocol endpoints that apps call from other sites stay open to
// cross-site requests (W1): POST /auth and POST /session/end.
func TestProtocolEndpointsStayOpenCrossSite(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		b := s.NewBrowser(t)
		auth, _ := url.Parse(s.AuthURL(sesametest.AppA, nil))
		if p := b.PostFrom("cross-site", s.Issuer+"/auth", auth.Query()); !sesametest.IsSignInPage(p) {
			t.Errorf("cross-site POST /auth: %d %s", p.Status, p.Body)
		}
		end := url.Values{"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}}
		if p := b.PostFrom("cross-site", s.Issuer+"/session/end", end); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="xsrf"`) {
			t.Errorf("cross-site POST /session/end: %d %s", p.Status, p.Body)
		}
	})
}

// landedWithCode reports whether a post ended at the app with a code.
func landedWithCode(p sesametest.Page) bool {
	return p.Status == http.StatusSeeOther && strings.Contains(p.Location, "code=")
}

// tokenEnded returns a check that the access token no longer works.
func tokenEnded(t *testing.T, s *sesametest.Sesame, accessToken string) func(sesametest.Page) bool {
	return func(sesametest.Page) bool {
		st, _ := s.UserInfo(t, accessToken)
		return st == http.StatusUnauthorized
	}
}

// accountPage opens /account in b, signed in as alice.
func accountPage(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) sesametest.Page {
	t.Helper()
	p := b.Get(s.URL + "/account")
	if sesametest.IsSignInPage(p) {
		p = b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password})
	}
	if !strings.Contains(p.Body, "Devices") {
		t.Fatalf("account page: %d %s", p.Status, p.Body)
	}
	return p
}

// sessionOf is the id of the session b's cookie names.
func sessionOf(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) string {
	t.Helper()
	cur, err := s.Sessions.FromCookie(t.Context(), b.SessionCookie())
	if err != nil {
		t.Fatal(err)
	}
	return cur.Session.ID
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func without(v url.Values, field string) url.Values {
	out := cloneValues(v)
	out.Del(field)
	return out
}

// S1: the session cookie's former name (before the __Host- prefix) opens
// only a session made before the rename, so a sibling subdomain that
// plants a former-name cookie with a session of its own (made since)
// signs nobody in, and the name opens nothing once session_max_ttl has
// passed. A session from before the upgrade still works under it: the
// upgrade signs nobody out.
func TestFormerSessionCookieNameOpensOnlySessionsFromBeforeTheRename(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		b := s.NewBrowser(t)
		b.SignedIn(sesametest.AppA, "bob", nil)
		value := b.SessionCookie()
		if _, err := s.Sessions.FromCookie(t.Context(), value); err != nil {
			t.Fatalf("the session under its own name: %v", err)
		}
		if _, err := s.Sessions.FromCookie(t.Context(), session.FormerCookie(value)); !errors.Is(err, session.ErrNoSession) {
			t.Fatalf("a session made since the rename opened under the former name: %v", err)
		}
		// As the migration marks the sessions that existed before it.
		if _, err := rawDB(t, s).ExecContext(t.Context(), "UPDATE sessions SET legacy_cookie = true"); err != nil {
			t.Fatal(err)
		}
		if cur, err := s.Sessions.FromCookie(t.Context(), session.FormerCookie(value)); err != nil || cur.Account.Username != "bob" {
			t.Fatalf("a session from before the rename, under the former name: %v", err)
		}
	})
}
