package abuse_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// rawDB opens s's database through a connection of its own, to see or
// set what the handlers cannot.
func rawDB(t *testing.T, s *sesametest.Sesame) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", s.Config.Database // the drivers package store registers
	if path, ok := strings.CutPrefix(dsn, "sqlite://"); ok {
		driver, dsn = "sqlite", path
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rows counts the rows of a table of s's database through a connection of
// its own: what the attack left behind, whatever the handlers say.
func rows(t *testing.T, s *sesametest.Sesame, table string) int {
	t.Helper()
	db := rawDB(t, s)
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// flood sends n requests made by req from 8 clients at once, redirects
// not followed, and fails the test on any answer but the one req expects.
func flood(t *testing.T, n int, req func(i int) (r *http.Request, want int)) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := map[string]int{}
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				r, want := req(i)
				resp, err := noRedirects.Do(r)
				status := 0
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				if status != want {
					mu.Lock()
					bad[fmt.Sprintf("%d instead of %d", status, want)]++
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("of %d oversized requests, unexpected answers: %v", n, bad)
	}
}

// noRedirects is a client that reports redirects instead of following
// them: the answer to an oversized request is what counts.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// W2, spec S9, A5: every authorization parameter has a limit. Beyond it
// the request is refused with invalid_request, redirected to the app once
// its redirect URI is trusted, or the error page when it is not yet, or
// when the oversized value is the state that would be sent back. Nothing
// is stored: 1,000 oversized requests leave auth_requests as they were,
// where one good request adds a row.
func TestOversizedAuthorizationParametersAreRefusedAndNotStored(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		long := func(n int) string { return strings.Repeat("x", n) }
		cases := []struct {
			param, value string
			page         bool // the error page; otherwise invalid_request at the app
		}{
			{"login_hint", long(513), false},
			{"ui_locales", long(257), false},
			{"claims_locales", long(257), false},
			{"scope", "openid " + long(2042), false},
			{"scope", "openid" + strings.Repeat(" profile", 64), false}, // 65 values
			{"nonce", long(513), false},
			{"id_token_hint", long(4097), false},
			{"acr_values", long(513), false},
			{"state", long(2049), true},
			{"redirect_uri", "https://app-a.example/callback?" + long(2048), true},
			{"client_id", long(513), true},
		}
		for _, c := range cases {
			p := s.NewBrowser(t).Get(s.AuthURL(sesametest.AppA, url.Values{c.param: {c.value}}))
			if c.page {
				if p.Status != http.StatusBadRequest || p.Location != "" || !strings.Contains(p.Body, c.param) {
					t.Errorf("%s of %d bytes: %d %q, want the 400 error page naming it", c.param, len(c.value), p.Status, p.Location)
				}
				continue
			}
			cb := sesametest.Landed(t, p)
			if cb.Error != "invalid_request" || cb.State != "state-123" || !strings.HasPrefix(p.Location, sesametest.RedirectURI(sesametest.AppA)) {
				t.Errorf("%s of %d bytes: %+v, want invalid_request with the state at the app", c.param, len(c.value), cb)
			}
		}
		// At their limits, the same parameters are accepted (sign-in page).
		atLimit := url.Values{"login_hint": {long(512)}, "ui_locales": {long(256)}, "nonce": {long(512)},
			"state": {long(2048)}, "scope": {"openid" + strings.Repeat(" profile", 63)}}
		if p := s.NewBrowser(t).Get(s.AuthURL(sesametest.AppA, atLimit)); !sesametest.IsSignInPage(p) {
			t.Errorf("parameters at their limits: %d %s", p.Status, p.Location)
		}

		before := rows(t, s, "auth_requests")
		flood(t, 1000, func(i int) (*http.Request, int) {
			c := cases[i%len(cases)]
			req, _ := http.NewRequest(http.MethodGet, s.AuthURL(sesametest.AppA, url.Values{c.param: {c.value}}), nil)
			if c.page {
				return req, http.StatusBadRequest
			}
			return req, http.StatusSeeOther
		})
		if after := rows(t, s, "auth_requests"); after != before {
			t.Errorf("auth_requests went from %d to %d rows after 1,000 oversized requests", before, after)
		}
		if p := s.NewBrowser(t).Get(s.AuthURL(sesametest.AppA, nil)); !sesametest.IsSignInPage(p) || rows(t, s, "auth_requests") != before+1 {
			t.Errorf("a good request: %d, %d rows (the count must see what is stored)", p.Status, rows(t, s, "auth_requests"))
		}
	})
}

// W2, O2, spec S9: every end-session parameter has a limit; beyond it the
// 400 page and no redirect, for GET and for POST, and nothing stored:
// 1,000 oversized requests leave logout_requests as they were.
func TestOversizedEndSessionParametersAreRefusedAndNotStored(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		base := url.Values{"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}}
		with := func(name, value string) url.Values {
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			q.Set(name, value)
			return q
		}
		cases := []url.Values{
			with("state", strings.Repeat("s", 2049)),
			with("post_logout_redirect_uri", "https://app-a.example/?"+strings.Repeat("p", 2048)),
			with("id_token_hint", strings.Repeat("h", 4097)),
			with("ui_locales", strings.Repeat("l", 257)),
			with("logout_hint", strings.Repeat("l", 513)),
			with("client_id", strings.Repeat("c", 513)),
		}
		endpoint := s.Issuer + "/session/end"
		for _, q := range cases {
			for _, post := range []bool{false, true} {
				var p sesametest.Page
				if post {
					p = s.NewBrowser(t).Post(endpoint, q)
				} else {
					p = s.NewBrowser(t).Get(endpoint + "?" + q.Encode())
				}
				if p.Status != http.StatusBadRequest || p.Location != "" || !strings.Contains(p.Body, "too long") {
					t.Errorf("post=%v %v: %d %q, want the 400 page", post, short(q), p.Status, p.Location)
				}
			}
		}
		if p := s.NewBrowser(t).Get(endpoint + "?" + with("state", strings.Repeat("s", 2048)).Encode()); p.Status != http.StatusOK {
			t.Errorf("state at its limit: %d", p.Status)
		}

		before := rows(t, s, "logout_requests")
		flood(t, 1000, func(i int) (*http.Request, int) {
			q := cases[i%len(cases)]
			if i%2 == 0 {
				req, _ := http.NewRequest(http.MethodGet, endpoint+"?"+q.Encode(), nil)
				return req, http.StatusBadRequest
			}
			req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(q.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req, http.StatusBadRequest
		})
		if after := rows(t, s, "logout_requests"); after != before {
			t.Errorf("logout_requests went from %d to %d rows after 1,000 oversized requests", before, after)
		}
		if p := s.NewBrowser(t).Get(endpoint + "?" + base.Encode()); p.Status != http.StatusOK || rows(t, s, "logout_requests") != before+1 {
			t.Errorf("a good request: %d, %d rows (the count must see what is stored)", p.Status, rows(t, s, "logout_requests"))
		}
	})
}

// short names the parameters of q with the lengths of their values.
func short(q url.Values) string {
	var out []string
	for k, v := range q {
		out = append(out, fmt.Sprintf("%s(%d)", k, len(v[0])))
	}
	return strings.Join(out, " ")
}

// W2, spec S9: a query string over 8 KB is refused before any handler
// reads it: 414 with an error page for a browser and a JSON error for a
// client, on every route, and nothing stored. One under the cap (an
// unknown parameter, never read) goes through.
func TestQueryStringOver8KBIsRefused(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		before := rows(t, s, "auth_requests") + rows(t, s, "logout_requests")
		pad := url.Values{"padding": {strings.Repeat("p", 8<<10)}}
		for _, target := range []string{
			s.AuthURL(sesametest.AppA, pad),
			s.Issuer + "/session/end?" + pad.Encode(),
			s.Issuer + "/token?" + pad.Encode(),
			s.URL + "/account?" + pad.Encode(),
		} {
			for _, accept := range []string{"text/html,application/xhtml+xml", "application/json"} {
				req, _ := http.NewRequest(http.MethodGet, target, nil)
				req.Header.Set("Accept", accept)
				resp, err := noRedirects.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				html := strings.HasPrefix(accept, "text/html")
				if resp.StatusCode != http.StatusRequestURITooLong || resp.Header.Get("Location") != "" ||
					html != strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
					!html && !strings.Contains(string(body), `"invalid_request"`) {
					t.Errorf("%s... (Accept %s): %d %s %.200s", target[:40], accept, resp.StatusCode, resp.Header.Get("Content-Type"), body)
				}
			}
		}
		if after := rows(t, s, "auth_requests") + rows(t, s, "logout_requests"); after != before {
			t.Errorf("%d rows stored by refused requests", after-before)
		}
		under := url.Values{"padding": {strings.Repeat("p", 7<<10)}}
		if p := s.NewBrowser(t).Get(s.AuthURL(sesametest.AppA, under)); !sesametest.IsSignInPage(p) {
			t.Errorf("a 7 KB query: %d", p.Status)
		}
	})
}

// W2: a form body over 64 KB is not read: the authorization and
// end-session endpoints answer their 400 page and store nothing.
func TestFormBodyOver64KBIsRefused(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		before := rows(t, s, "auth_requests") + rows(t, s, "logout_requests")
		u, _ := url.Parse(s.AuthURL(sesametest.AppA, url.Values{"padding": {strings.Repeat("p", 64<<10)}}))
		for _, endpoint := range []string{s.Issuer + "/auth", s.Issuer + "/session/end"} {
			p := s.NewBrowser(t).Post(endpoint, u.Query())
			if p.Status != http.StatusBadRequest || p.Location != "" {
				t.Errorf("POST %s with 64 KB: %d %q", endpoint, p.Status, p.Location)
			}
		}
		if after := rows(t, s, "auth_requests") + rows(t, s, "logout_requests"); after != before {
			t.Errorf("%d rows stored by refused requests", after-before)
		}
	})
}

// B5, spec S6: with private delivery off, the admin API refuses to
// register (or update a client to) a back-channel URI Sesame could never
// deliver to, one that would aim its outbound calls inward: 400 naming
// backchannel_logout_uri, and no client stored.
func TestPrivateBackchannelURIRefusedByTheAdminAPI(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		opts.Configure = func(c *config.Config) {
			c.AllowPrivateNetworkDelivery = false
			for i := range c.Clients {
				c.Clients[i].BackchannelLogoutURI = "" // the test apps listen on loopback
			}
		}
		s := sesametest.New(t, opts)
		tok := s.Token(t, sesametest.Robot, url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}})
		if tok.AccessToken == "" {
			t.Fatalf("admin token: %+v", tok.Raw)
		}
		call := func(method, path string, body map[string]any) (int, string) {
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(string(b)))
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(out)
		}
		spec := func(id, uri string) map[string]any {
			return map[string]any{"id": id, "type": "web", "redirect_uris": []string{"https://" + id + ".example/cb"}, "backchannel_logout_uri": uri}
		}
		for i, uri := range []string{"http://localhost:8080/bc", "http://169.254.169.254/latest/meta-data", "https://[::ffff:10.0.0.1]/bc",
			"https://[64:ff9b::a9fe:a9fe]/bc", "https://0.0.0.0/bc", "https://100.64.0.1/bc", "https://[::a9fe:a9fe]/bc"} {
			id := fmt.Sprintf("ssrf-%d", i)
			if st, body := call(http.MethodPost, "/api/clients", spec(id, uri)); st != http.StatusBadRequest || !strings.Contains(body, "backchannel_logout_uri") {
				t.Errorf("create with %s: %d %s", uri, st, body)
			}
			if st, _ := call(http.MethodGet, "/api/clients/"+id, nil); st != http.StatusNotFound {
				t.Errorf("%s: the refused client exists (%d)", uri, st)
			}
		}
		if st, body := call(http.MethodPost, "/api/clients", spec("good", "https://good.example/bc")); st != http.StatusCreated {
			t.Fatalf("create with a public host name: %d %s", st, body)
		}
		if st, body := call(http.MethodPut, "/api/clients/good", spec("good", "http://127.0.0.1:9/bc")); st != http.StatusBadRequest || !strings.Contains(body, "backchannel_logout_uri") {
			t.Errorf("update to loopback: %d %s", st, body)
		}
	})
}

// W2, spec S9: the token, revocation and introspection endpoints bound
// every parameter they define, in the body and in Basic credentials, so a
// 64 KB secret is never hashed and a 64 KB token never looked up: 400
// invalid_request (401 invalid_client for Basic), and honest requests of
// the same shape still work.
func TestOversizedClientRequestParametersAreRefused(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		long := strings.Repeat("x", 600)
		cases := []struct {
			path, secret string
			form         url.Values
			status       int
			code         string
		}{
			{"/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {sesametest.Worker}, "client_secret": {long}}, 400, "invalid_request"},
			{"/token", sesametest.Secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {long}}, 400, "invalid_request"},
			// A code is sealed, so it is a token (4 KB), not a 512-byte value.
			{"/token", sesametest.Secret, url.Values{"grant_type": {"authorization_code"}, "code": {strings.Repeat("c", 4097)}}, 400, "invalid_request"},
			{"/token", sesametest.Secret, url.Values{"grant_type": {"client_credentials"}, "scope": {strings.TrimSpace(strings.Repeat("a ", 65))}}, 400, "invalid_request"},
			{"/token", long, url.Values{"grant_type": {"client_credentials"}}, 401, "invalid_client"},
			{"/token/revocation", sesametest.Secret, url.Values{"token": {strings.Repeat("t", 4097)}}, 400, "invalid_request"},
			{"/token/introspection", sesametest.Secret, url.Values{"token": {strings.Repeat("t", 4097)}}, 400, "invalid_request"},
		}
		for _, c := range cases {
			resp, body := s.PostForm(t, c.path, sesametest.Worker, c.secret, c.form)
			var e struct{ Error string }
			_ = json.Unmarshal(body, &e)
			if resp.StatusCode != c.status || e.Error != c.code {
				t.Errorf("%s %v: %d %s, want %d %s", c.path, short(c.form), resp.StatusCode, body, c.status, c.code)
			}
		}
		// The same requests within their limits are answered as usual.
		if resp, body := s.PostForm(t, "/token", sesametest.Worker, sesametest.Secret, url.Values{"grant_type": {"client_credentials"}}); resp.StatusCode != 200 {
			t.Errorf("an honest client_credentials request: %d %s", resp.StatusCode, body)
		}
		if resp, body := s.PostForm(t, "/token/introspection", sesametest.Worker, sesametest.Secret, url.Values{"token": {strings.Repeat("t", 4096)}}); resp.StatusCode != 200 {
			t.Errorf("introspection of a 4 KB token: %d %s", resp.StatusCode, body)
		}
	})
}
