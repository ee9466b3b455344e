package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// FuzzCookieHeader sends an arbitrary Cookie header with the requests whose
// answer depends on Sesame's cookies: GET /account (the session), GET
// {issuer}/auth for a valid client (the session, and the interaction
// cookie a new sign-in reuses), and GET {issuer}/interaction/{id} (the
// interaction cookie that binds a sign-in to its browser). None may panic
// or fail with a 5xx, and none may take the header for a signed-in browser,
// or for the browser that started a sign-in, unless it carries one of
// those browsers' cookie values (S1, S4).
//
// The header's placeholders stand for this process's cookies (see
// fuzzSesame.credentials for why): {signed_in} for the pairs of a browser
// signed in as alice, {started} for those of a browser that started a
// sign-in, {session} for the value of the first one's session cookie and
// {interaction} for the value of the second one's cookie that binds it to
// its sign-in.
func FuzzCookieHeader(f *testing.F) {
	s := newFuzzSesame(f)
	_, challenge := sesametest.PKCE()
	pkce := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	starting := s.NewBrowser(f)
	page := starting.Get(s.AuthURL(sesametest.AppB, pkce))
	if !sesametest.IsSignInPage(page) {
		f.Fatalf("no sign-in page: %d %s", page.Status, page.Body)
	}
	interaction := page.URL

	base, _ := url.Parse(s.URL + "/")
	values := map[string]string{}
	var secrets []string // the cookie values that stand for a browser
	for name, jar := range map[string]http.CookieJar{"signed_in": s.jar, "started": starting.HTTP.Jar} {
		var pairs []string
		for _, c := range jar.Cookies(base) {
			pairs = append(pairs, c.Name+"="+c.Value)
			secrets = append(secrets, c.Value)
			switch {
			case name == "signed_in" && strings.Contains(c.Name, "session"):
				values["session"] = c.Value
			case name == "started":
				values["interaction"] = c.Value
			}
		}
		values[name] = strings.Join(pairs, "; ")
	}
	if values["session"] == "" || values["interaction"] == "" {
		f.Fatalf("no session or interaction cookie: %v", values)
	}
	placeholders := map[string]func() string{}
	for name, v := range values {
		placeholders[name] = func() string { return v }
	}
	carries := func(header string) bool {
		for _, v := range secrets {
			if v != "" && strings.Contains(header, v) {
				return true
			}
		}
		return false
	}

	for _, seed := range []string{
		"{signed_in}",
		"{started}",
		"{signed_in}; {started}",
		"sesame_session={session}",
		"sesame_session={session}x",
		"sesame_session=x{session}",
		`sesame_session="{session}"`,
		"SESAME_SESSION={session}",
		"sesame_session=; sesame_session={session}",
		"sesame_session={interaction}; sesame_interaction={session}",
		"__Host-sesame_session={session}; __Secure-sesame_session={session}",
		"sesame_interaction={interaction}",
		"sesame_browser={interaction}",
		"sesame_browser={interaction}; sesame_browser=x",
		"sesame_interaction=" + strings.Repeat("A", 43),
		"sesame_interaction=" + strings.Repeat("%", 43),
		"sesame_session=" + strings.Repeat("A", 4096),
		"a=b; ; ;=; =c; d",
		"sesame_session=\x80\xff",
		"",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	get := func(target, cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		return s.serve(req)
	}
	noServerError := func(t *testing.T, what string, rec *httptest.ResponseRecorder) {
		t.Helper()
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %s", what, rec.Code, rec.Body)
		}
	}

	f.Fuzz(func(t *testing.T, cookie string, promptNone bool) {
		cookie = sesametest.Expand(cookie, placeholders)
		if !sesametest.HeaderValue(cookie) {
			return
		}
		rec := get(s.URL+"/account", cookie)
		noServerError(t, "GET /account", rec)
		if strings.Contains(rec.Body.String(), `action="/account/sign-out-everywhere"`) && !carries(cookie) {
			t.Fatalf("GET /account showed an account for Cookie %q", cookie)
		}

		q := url.Values{"state": {"fuzz"}}
		for k, v := range pkce {
			q[k] = v
		}
		if promptNone {
			q.Set("prompt", "none")
		}
		rec = get(s.AuthURL(sesametest.AppA, q), cookie)
		noServerError(t, "GET /auth", rec)
		loc, err := url.Parse(rec.Header().Get("Location"))
		if err != nil {
			t.Fatalf("GET /auth: Location %q: %v", rec.Header().Get("Location"), err)
		}
		if rec.Code/100 == 3 && loc.Query().Get("code") != "" && !carries(cookie) {
			t.Fatalf("GET /auth issued a code for Cookie %q", cookie)
		}

		rec = get(interaction, cookie)
		noServerError(t, "GET interaction", rec)
		if rec.Code == http.StatusOK && !carries(cookie) {
			t.Fatalf("the interaction page opened for Cookie %q: %s", cookie, rec.Body)
		}
	})
}
