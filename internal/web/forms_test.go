package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/web"
)

func newForms(t *testing.T, issuer string) *web.Forms {
	t.Helper()
	key, err := web.FormKey([]byte("an operator secret of some length"))
	if err != nil {
		t.Fatal(err)
	}
	return &web.Forms{
		Cookies: web.NewCookies(issuer), Key: key, TTL: time.Hour,
		Now: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) },
		Refuse: func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			_, _ = w.Write([]byte("<p>" + msg + "</p>"))
		},
	}
}

// page loads a form page: it returns the browser cookie it set and the
// form's token.
func page(t *testing.T, f *web.Forms, carried *http.Cookie) (*http.Cookie, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/account", nil)
	if carried != nil {
		r.AddCookie(carried)
	}
	var tok string
	set := setCookies(func(w http.ResponseWriter) { tok = f.Token(w, r) })
	c := set[f.Cookies.Name(web.BrowserCookie)]
	if c == nil || tok == "" {
		t.Fatalf("no browser cookie or token: %v %q", set, tok)
	}
	return c, tok
}

// post builds a form post carrying cookie c, fields and headers.
func post(c *http.Cookie, fields url.Values, header map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/account/sign-in", strings.NewReader(fields.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	if c != nil {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// W1, spec S7: the browser cookie is made once and kept; its token
// verifies only with that cookie and that key.
func TestFormTokenIsBoundToTheBrowser(t *testing.T) {
	f := newForms(t, "https://id.example.com/oidc")
	c, tok := page(t, f, nil)
	if c.Name != "__Host-sesame_browser" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("browser cookie %+v", c)
	}
	again, tok2 := page(t, f, c)
	if again.Value != c.Value || tok2 != tok {
		t.Error("a second page made a new browser identifier")
	}
	other, otherTok := page(t, f, nil)
	if other.Value == c.Value || otherTok == tok {
		t.Error("two browsers share an identifier")
	}
	stranger := newForms(t, "https://id.example.com/oidc")
	stranger.Key = bytes.Repeat([]byte{1}, 32)

	valid := func(f *web.Forms, c *http.Cookie, tok string) bool {
		r := post(c, url.Values{web.FormField: {tok}}, nil)
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return f.Valid(r)
	}
	for _, c := range []struct {
		name string
		f    *web.Forms
		c    *http.Cookie
		tok  string
		want bool
	}{
		{"its own token", f, c, tok, true},
		{"no token", f, c, "", false},
		{"another browser's token", f, c, otherTok, false},
		{"no browser cookie", f, nil, tok, false},
		{"a malformed cookie", f, &http.Cookie{Name: c.Name, Value: "x"}, tok, false},
		{"another server key", stranger, c, tok, false},
		{"the cookie value as token", f, c, c.Value, false},
	} {
		if got := valid(c.f, c.c, c.tok); got != c.want {
			t.Errorf("%s: Valid = %v, want %v", c.name, got, c.want)
		}
	}
}

// W1: Protect refuses a cross-site post (403) and a post without the
// browser's token (400) before the handler runs; a missing Sec-Fetch-Site
// is accepted, and Origin (null on Sesame's own no-referrer pages) is not
// looked at.
func TestProtect(t *testing.T) {
	f := newForms(t, "http://127.0.0.1:4000/oidc")
	c, tok := page(t, f, nil)
	good := url.Values{web.FormField: {tok}, "username": {"alice"}}
	for _, tc := range []struct {
		name   string
		cookie *http.Cookie
		fields url.Values
		header map[string]string
		want   int
	}{
		{"same-origin with token", c, good, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "null"}, 200},
		{"no fetch metadata with token", c, good, nil, 200},
		{"same-site (another port) with token", c, good, map[string]string{"Sec-Fetch-Site": "same-site"}, 200},
		{"typed by the person with token", c, good, map[string]string{"Sec-Fetch-Site": "none"}, 200},
		{"cross-site with token", c, good, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"cross-site claiming Origin of Sesame", c, good, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://127.0.0.1:4000"}, 403},
		{"same-site without token", c, url.Values{"username": {"mallory"}}, map[string]string{"Sec-Fetch-Site": "same-site"}, 400},
		{"no cookie", nil, good, nil, 400},
		{"token in the query only", c, url.Values{"username": {"alice"}}, nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			h := f.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true }))
			r := post(tc.cookie, tc.fields, tc.header)
			if tc.name == "token in the query only" {
				r.URL.RawQuery = url.Values{web.FormField: {tok}}.Encode()
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.want || ran != (tc.want == 200) {
				t.Errorf("status %d, handler ran %v; want %d", rec.Code, ran, tc.want)
			}
			if tc.want == 403 && !strings.Contains(rec.Body.String(), "another site") {
				t.Errorf("refusal not in words: %s", rec.Body)
			}
		})
	}
}

// The token key comes from the operator's secret, so every instance
// accepts another's forms; without a secret it is random.
func TestFormKey(t *testing.T) {
	a, _ := web.FormKey([]byte("secret number one, long enough"))
	b, _ := web.FormKey([]byte("secret number one, long enough"))
	c, _ := web.FormKey([]byte("secret number two, long enough"))
	r1, _ := web.FormKey(nil)
	r2, _ := web.FormKey(nil)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) || len(a) != 32 {
		t.Error("the key is not a function of the secret")
	}
	if bytes.Equal(r1, r2) || len(r1) != 32 {
		t.Error("keys without a secret are not random")
	}
}
