package oidc_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/store"
)

func getJSON(t *testing.T, u string, v any) *http.Response {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp
}

func listHas(v any, want string) bool {
	list, _ := v.([]any)
	for _, x := range list {
		if x == want {
			return true
		}
	}
	return false
}

type storeTx = store.Tx

// storeDurable names store.Durable for the tests that open a transaction.
const storeDurable = store.Durable

// submitRaw posts the sign-in form without following redirects, to see the
// response's cookies.
func submitRaw(t *testing.T, b *sesametest.Browser, p sesametest.Page) *http.Response {
	t.Helper()
	action := regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(p.Body)
	if action == nil {
		t.Fatal("no form")
	}
	u, _ := url.Parse(p.URL)
	target, _ := u.Parse(html.UnescapeString(action[1]))
	form := url.Values{"username": {"alice"}, "password": {sesametest.Password}}
	if csrf := regexp.MustCompile(`name="csrf" value="([^"]*)"`).FindStringSubmatch(p.Body); csrf != nil {
		form.Set("csrf", html.UnescapeString(csrf[1])) // the browser's form token (W1)
	}
	resp, err := b.HTTP.PostForm(target.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// cookie returns the browser's session cookie value.
func cookie(t *testing.T, b *sesametest.Browser, s *sesametest.Sesame) string {
	t.Helper()
	u, _ := url.Parse(s.URL + "/")
	for _, c := range b.HTTP.Jar.Cookies(u) {
		if c.Name == session.CookieName {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}
