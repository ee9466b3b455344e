package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Issue 14, as the command wires the demo: the Orders API, written with
// rp/resource, serves on its own address and refuses a call without a
// token (401, RFC 6750 §3); both apps call it with the token Sesame gave
// each. alice, whose role permits read:orders, sees her orders in either
// app and that she may read them; bob, who holds no role, sees the API's
// 403 in words in either.
func TestDemoAppsReadTheOrdersAPI(t *testing.T) {
	d := startDemo(t)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + d.addrs.api + "/orders")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("the Orders API without a token: %d, WWW-Authenticate %q; want 401 and a Bearer challenge",
			resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	const (
		mayRead = "Your account may read orders: the Orders API accepted the token Sesame gave this app for it"
		order   = "Order 1001: a pot of Sesame seeds"
		refused = "The Orders API refused (403): your account may not read orders."
	)
	app1, app2 := "http://"+d.addrs.app1, "http://"+d.addrs.app2
	alice := d.newBrowser(t)
	for _, app := range []string{app1, app2} { // by password, then SSO
		if page := alice.signIn(app, "alice"); !strings.Contains(page, mayRead) || !strings.Contains(page, order) || strings.Contains(page, "refused") {
			t.Errorf("%s as alice: want her orders and that she may read them: %s", app, page)
		}
	}
	bob := d.newBrowser(t)
	for _, app := range []string{app2, app1} {
		if page := bob.signIn(app, "bob"); !strings.Contains(page, refused) || strings.Contains(page, order) || strings.Contains(page, "invalid_target") {
			t.Errorf("%s as bob: want the API's 403 in words: %s", app, page)
		}
	}
}
