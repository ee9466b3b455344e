package demo

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/rp"
	rpresource "github.com/sesame-id/sesame/rp/resource"
)

// newOrdersWorld is a test Sesame with the demo's Orders API and App One
// reading it: alice's role permits read:orders, bob holds none.
func newOrdersWorld(t *testing.T) (w *world, api string) {
	t.Helper()
	appSrv := httptest.NewUnstartedServer(nil)
	apiSrv := httptest.NewUnstartedServer(nil)
	t.Cleanup(appSrv.Close)
	t.Cleanup(apiSrv.Close)
	base := "http://" + appSrv.Listener.Addr().String()
	api = "http://" + apiSrv.Listener.Addr().String()
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		c.APIResources = []resource.APISpec{{Indicator: api, Name: "Orders API", Scopes: []string{ScopeReadOrders}}}
		c.Roles = []resource.RoleSpec{{Name: "orders-reader", Permissions: map[string][]string{api: {ScopeReadOrders}}}}
		for i, u := range c.Users {
			if u.Username == "alice" {
				c.Users[i].Roles = []string{"orders-reader"}
			}
		}
		for i, cl := range c.Clients {
			if cl.ID == sesametest.AppA {
				c.Clients[i].Name = "App One"
				c.Clients[i].FirstParty = true
				c.Clients[i].RedirectURIs = []string{base + "/callback"}
				c.Clients[i].PostLogoutRedirectURIs = []string{base + "/"}
			}
		}
	}})
	v, err := rpresource.New(t.Context(), rpresource.Config{Issuer: s.Issuer, Audience: api})
	if err != nil {
		t.Fatal(err)
	}
	apiSrv.Config.Handler = NewOrdersAPI(v)
	apiSrv.Start()
	sessions := NewSessions()
	c, err := rp.New(t.Context(), rp.Config{Issuer: s.Issuer, ClientID: sesametest.AppA, ClientSecret: sesametest.Secret,
		RedirectURL: base + "/callback", PostLogoutRedirectURL: base + "/", Sessions: sessions, CookieName: "one_session",
		Resources: []string{api}, Scopes: []string{"openid", "profile", ScopeReadOrders}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewApp("App One", "one_session", s.Issuer, c, sessions, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Orders = &Orders{URL: api, Resource: api}
	appSrv.Config.Handler = h
	appSrv.Start()
	jar, _ := cookiejar.New(nil)
	return &world{t: t, s: s, one: base, browser: &http.Client{Jar: jar}}, api
}

// signInAs signs in to App One as username, typing the password.
func (w *world) signInAs(username string) string {
	w.t.Helper()
	page, at := w.get(w.one + "/sign-in")
	page, _ = w.submit(page, at, url.Values{"username": {username}, "password": {sesametest.Password}})
	if !strings.Contains(page, "Signed in as "+username) {
		w.t.Fatalf("App One after %s's sign-in: %s", username, page)
	}
	return page
}

// The demo's Orders API: App One gets a JWT access token for it from
// Sesame (AccessTokenFor) and shows alice her orders; bob, whose roles do
// not permit read:orders, sees the API's refusal in words.
func TestDemoOrdersAPI(t *testing.T) {
	alice, _ := newOrdersWorld(t)
	page := alice.signInAs("alice")
	mustSay(t, "App One as alice", page, "Your orders", "Order 1001: a pot of Sesame seeds")
	mustNotSay(t, "App One as alice", page, "refused")

	bob, _ := newOrdersWorld(t)
	page = bob.signInAs("bob")
	mustSay(t, "App One as bob", page, "Your orders", "may not")
	mustNotSay(t, "App One as bob", page, "Order 1001")
}
