package ui_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/ui"
)

func pages(t *testing.T) *ui.Pages {
	t.Helper()
	p, err := ui.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// every page Sesame renders, filled as a person sees it.
func everyPage(p *ui.Pages) map[string]func(http.ResponseWriter) {
	at := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	return map[string]func(http.ResponseWriter){
		"sign-in": func(w http.ResponseWriter) {
			p.SignIn(w, http.StatusUnauthorized, ui.SignInData{Action: "/x", App: "Shop", Username: "alice", Error: "Wrong username or password.", CSRF: "c"})
		},
		"consent": func(w http.ResponseWriter) {
			p.Consent(w, ui.ConsentData{Action: "/x", App: "Shop", Username: "alice", Scopes: ui.Describe([]string{"openid", "email"}), CSRF: "c",
				APIs: []ui.ConsentAPI{
					{Name: "Orders API", Scopes: ui.DescribeAPIScopes([]string{"read:orders", "write:orders"}, map[string]string{"read:orders": "Read your orders"})},
					{Name: "Billing API"},
				}})
		},
		"confirm": func(w http.ResponseWriter) {
			p.SignOut(w, ui.SignOutData{Action: "/x", XSRF: "x", App: "Shop", Username: "alice", Apps: []string{"Shop", "Blog"},
				CanChooseApp: true, CSRF: "c", RedirectURI: "https://shop.example/", Cancel: "https://shop.example/?state=s"})
		},
		"signed-out": func(w http.ResponseWriter) { p.SignedOut(w, ui.SignedOutData{}) },
		"error": func(w http.ResponseWriter) {
			p.Error(w, http.StatusBadRequest, ui.ErrorData{Message: "The app that sent you here is not known to Sesame.", Code: "invalid_request", NoRedirect: true})
		},
		"account": func(w http.ResponseWriter) {
			p.Account(w, ui.AccountData{Username: "alice", CSRF: "c",
				Devices: []ui.Device{{ID: "d", Name: "Chrome on macOS", IP: "192.0.2.1", SignedInAt: at, LastActive: at, ThisDevice: true, Apps: []string{"Shop"}}},
				Apps:    []ui.ConnectedApp{{GrantID: "g", App: "Shop", Access: ui.AccessWords([]string{"openid"}), GrantedAt: at, ExpiresAt: at}}})
		},
		"front-channel": func(w http.ResponseWriter) {
			p.Frontchannel(w, ui.FrontchannelData{Frames: []ui.Frame{{App: "Shop", URL: "https://shop.example/fc?iss=x&sid=y"}},
				Target: "https://shop.example/?state=s", Delay: 2, Nonce: "n"})
		},
		"landing": func(w http.ResponseWriter) {
			p.Landing(w, ui.LandingData{Issuer: "https://id.example/oidc", Discovery: "https://id.example/oidc/.well-known/openid-configuration", Username: "alice"})
		},
	}
}

// W2 and the pages' accessibility, checked on the markup (the browser
// test runs axe-core on the rendered pages): a viewport tag, one h1,
// headings that never skip a level, and a label for every field a person
// fills in.
func TestEveryPageIsReadableOnAPhone(t *testing.T) {
	p := pages(t)
	heading := regexp.MustCompile(`<h([1-6])[ >]`)
	input := regexp.MustCompile(`<input type="(text|password)" id="([^"]+)"`)
	for name, render := range everyPage(p) {
		rec := httptest.NewRecorder()
		render(rec)
		body := rec.Body.String()
		if !strings.Contains(body, `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
			t.Errorf("%s: no viewport tag", name)
		}
		levels := heading.FindAllStringSubmatch(body, -1)
		if len(levels) == 0 || levels[0][1] != "1" || strings.Count(body, "<h1") != 1 {
			t.Errorf("%s: headings %v, want one h1 first", name, levels)
		}
		for i := 1; i < len(levels); i++ {
			prev, _ := strconv.Atoi(levels[i-1][1])
			cur, _ := strconv.Atoi(levels[i][1])
			if cur > prev+1 {
				t.Errorf("%s: h%d follows h%d", name, cur, prev)
			}
		}
		for _, m := range input.FindAllStringSubmatch(body, -1) {
			if !strings.Contains(body, `<label for="`+m[2]+`">`) {
				t.Errorf("%s: field %s has no label", name, m[2])
			}
		}
	}
}

// Error pages never show the bare status text (Bad Request) as their
// title: a page without one gets words for its status.
func TestErrorTitlesAreWords(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 405, 413, 414, 429, 500, 502, 503} {
		got := ui.ErrorTitle(status)
		if got == "" || got == http.StatusText(status) {
			t.Errorf("ErrorTitle(%d) = %q", status, got)
		}
	}
	rec := httptest.NewRecorder()
	pages(t).Error(rec, http.StatusBadRequest, ui.ErrorData{Message: "m"})
	if strings.Contains(rec.Body.String(), "Bad Request") || rec.Code != http.StatusBadRequest {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

// The account page says what scopes let an app do in words; a scope
// without words is shown as it is.
func TestAccessWords(t *testing.T) {
	got := ui.AccessWords([]string{"openid", "profile", "email", "offline_access", "read:orders"})
	want := []string{"sign you in", "your name and profile", "your email address", "stay connected when you are away", "read:orders"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", got)
	}
}

// O3: Cancel returns to the registered address as it is, a native app's
// own scheme included; an address that would run code becomes the landing
// page.
func TestCancelURL(t *testing.T) {
	cases := map[string]string{
		"https://shop.example/?state=s": "https://shop.example/?state=s",
		"com.example.app:/signed-out":   "com.example.app:/signed-out",
		"":                              "/",
		"javascript:alert(1)":           "/",
		"JavaScript:alert(1)":           "/",
		"data:text/html,x":              "/",
	}
	for in, want := range cases {
		if got := string(ui.SignOutData{Cancel: in}.CancelURL()); got != want {
			t.Errorf("CancelURL(%q) = %q, want %q", in, got, want)
		}
	}
	rec := httptest.NewRecorder()
	pages(t).SignOut(rec, ui.SignOutData{Action: "/x", Cancel: "com.example.app:/signed-out"})
	if !strings.Contains(rec.Body.String(), `<a href="com.example.app:/signed-out" class="button secondary">Cancel</a>`) {
		t.Errorf("a native app's return address was not kept: %s", rec.Body)
	}
}
