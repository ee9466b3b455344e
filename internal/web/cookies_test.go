package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/web"
)

// setCookies runs fn on a recorder and returns the cookies it set, by name.
func setCookies(fn func(w http.ResponseWriter)) map[string]*http.Cookie {
	rec := httptest.NewRecorder()
	fn(rec)
	out := map[string]*http.Cookie{}
	for _, c := range rec.Result().Cookies() {
		out[c.Name] = c
	}
	return out
}

// S1, spec S1: HttpOnly, SameSite=Lax, path /, no Domain; Secure and the
// __Host- prefix exactly when the issuer is https.
func TestCookieAttributes(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		issuer, name string
		secure       bool
	}{
		{"http://127.0.0.1:4000/oidc", "sesame_session", false},
		{"https://id.example.com/oidc", "__Host-sesame_session", true},
	} {
		t.Run(c.issuer, func(t *testing.T) {
			ck := web.NewCookies(c.issuer)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			got := setCookies(func(w http.ResponseWriter) { ck.Set(w, r, web.SessionCookie, "v", exp) })[c.name]
			if got == nil {
				t.Fatalf("no cookie %s", c.name)
			}
			if got.Value != "v" || !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Path != "/" ||
				got.Domain != "" || got.Secure != c.secure || !got.Expires.Equal(exp) {
				t.Errorf("cookie %+v", got)
			}
			cleared := setCookies(func(w http.ResponseWriter) { ck.Clear(w, r, web.SessionCookie) })[c.name]
			if cleared == nil || cleared.MaxAge >= 0 || cleared.Secure != c.secure || cleared.Path != "/" {
				t.Errorf("cleared %+v", cleared)
			}
		})
	}
}

// S1: after the rename to __Host-, the session cookie is still read under
// its former name, so an upgrade signs nobody out; the prefixed one wins,
// and writing it removes the former copy. The browser cookie has no
// former name: an unprefixed copy could be planted by a sibling host.
func TestCookieFormerNames(t *testing.T) {
	ck := web.NewCookies("https://id.example.com/oidc")
	for _, c := range []struct {
		name    string
		cookies []*http.Cookie
		base    string
		want    string
	}{
		{"session under its former name", []*http.Cookie{{Name: "sesame_session", Value: "old"}}, web.SessionCookie, session.FormerCookie("old")},
		{"the prefixed name wins", []*http.Cookie{{Name: "sesame_session", Value: "old"}, {Name: "__Host-sesame_session", Value: "new"}}, web.SessionCookie, "new"},
		{"no cookie", nil, web.SessionCookie, ""},
		{"browser cookie unprefixed", []*http.Cookie{{Name: "sesame_browser", Value: "planted"}}, web.BrowserCookie, ""},
		{"the old interaction cookie", []*http.Cookie{{Name: "sesame_interaction", Value: "planted"}}, web.BrowserCookie, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, k := range c.cookies {
				r.AddCookie(k)
			}
			if got := ck.Get(r, c.base); got != c.want {
				t.Errorf("Get = %q, want %q", got, c.want)
			}
		})
	}

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: "sesame_session", Value: "old"})
	set := setCookies(func(w http.ResponseWriter) { ck.Set(w, r, web.SessionCookie, "new", time.Time{}) })
	if old := set["sesame_session"]; old == nil || old.MaxAge >= 0 {
		t.Errorf("the former cookie was not removed: %+v", set)
	}
	if set["__Host-sesame_session"].Value != "new" {
		t.Errorf("new cookie %+v", set["__Host-sesame_session"])
	}
	// On http the name never changed: nothing to remove.
	plain := web.NewCookies("http://127.0.0.1:4000/oidc")
	set = setCookies(func(w http.ResponseWriter) { plain.Set(w, r, web.SessionCookie, "new", time.Time{}) })
	if len(set) != 1 || set["sesame_session"].Value != "new" {
		t.Errorf("http issuer set %+v", set)
	}
}
