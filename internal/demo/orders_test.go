package demo

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/rp"
	rpresource "github.com/sesame-id/sesame/rp/resource"
)

// The exact words of the Orders section: they are what the demo teaches
// of API resources.
const (
	wantMayRead = "Your account may read orders: the Orders API accepted the token Sesame gave this app for it, with read:orders, and answered:"
	want403     = "The Orders API refused (403): your account may not read orders. " +
		"It needs a role that permits read:orders, which an administrator gives."
)

func wantInvalidTarget(app string) string {
	return "Sesame would not give " + app + " a token for the Orders API (invalid_target): " +
		"the API is not registered at Sesame, or your sign-in to this app did not ask for it. Signing out and in again may help."
}

// orderLines are the orders NewOrdersAPI answers, as the page lists them.
var orderLines = []string{"Order 1001: a pot of Sesame seeds", "Order 1002: a jar of tahini"}

// apiLog records, for each call the Orders API received with a valid
// token, the client it was issued to and its scopes.
type apiLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *apiLog) record(v *rpresource.Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := v.Verify(r.Context(), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); err == nil {
			l.mu.Lock()
			l.calls = append(l.calls, c.ClientID+" ["+strings.Join(c.Scopes, " ")+"]")
			l.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (l *apiLog) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// newOrdersWorld is a world whose two apps read the demo's Orders API, as
// `sesame demo` wires them, from Sesame's Orders API (sesametest's
// WithOrders: alice's role permits read:orders, bob holds none).
func newOrdersWorld(t *testing.T, o worldOptions) (*world, *apiLog) {
	t.Helper()
	apiSrv := httptest.NewUnstartedServer(nil)
	t.Cleanup(apiSrv.Close)
	o.sesame = o.sesame.WithOrders()
	o.orders = &Orders{URL: "http://" + apiSrv.Listener.Addr().String(), Resource: sesametest.OrdersAPI}
	w := buildWorld(t, o)
	v, err := rpresource.New(t.Context(), rpresource.Config{Issuer: w.s.Issuer, Audience: sesametest.OrdersAPI})
	if err != nil {
		t.Fatal(err)
	}
	log := &apiLog{}
	apiSrv.Config.Handler = log.record(v, NewOrdersAPI(v))
	apiSrv.Start()
	return w, log
}

// Issue 14: both demo apps call the Orders API, each with the token
// Sesame gave it; the person's roles decide the answer. alice's role
// permits read:orders: each app lists her orders and says she may read
// them. bob holds no role: each app gets a token without read:orders and
// shows the API's 403 in words, not Sesame's invalid_target.
func TestDemoAppsShowOrdersAsTheUsersRolePermit(t *testing.T) {
	for _, tc := range []struct {
		user           string
		want, unwanted []string
		// tokens are the client_id and scopes of the tokens the API saw.
		tokens []string
	}{
		{user: "alice", want: append([]string{"Your orders", wantMayRead}, orderLines...),
			unwanted: []string{"refused", "may not", "invalid_target"},
			tokens:   []string{"app-a [read:orders]", "app-b [read:orders]"}},
		{user: "bob", want: []string{"Your orders", want403},
			unwanted: []string{wantMayRead, "Order 1001", "invalid_target"},
			tokens:   []string{"app-a []", "app-b []"}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			w, api := newOrdersWorld(t, worldOptions{})
			page := w.signInAs(w.one, tc.user) // by password
			mustSay(t, "App One as "+tc.user, page, tc.want...)
			mustNotSay(t, "App One as "+tc.user, page, tc.unwanted...)
			page = w.signInAs(w.two, tc.user) // by single sign-on
			mustSay(t, "App Two as "+tc.user, page, tc.want...)
			mustNotSay(t, "App Two as "+tc.user, page, tc.unwanted...)
			if got := api.seen(); !slices.Equal(got, tc.tokens) {
				t.Errorf("the Orders API was called with tokens %q, want %q", got, tc.tokens)
			}
		})
	}
}

// An app whose sign-in did not ask for the Orders API (as one configured
// before it read orders) gets invalid_target from Sesame, never a token:
// the page says so, and does not blame the person's roles.
func TestDemoSaysWhenSesameRefusesATokenForTheAPI(t *testing.T) {
	w, api := newOrdersWorld(t, worldOptions{signIn: func(c *rp.Config) { c.Resources = nil }})
	page := w.signInAs(w.one, "alice")
	mustSay(t, "App One", page, "Your orders", wantInvalidTarget("App One"))
	mustNotSay(t, "App One", page, "may not read", "(403)", orderLines[0])
	if got := api.seen(); len(got) != 0 {
		t.Errorf("the Orders API was called with %q", got)
	}
}
