package admin_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// fcApp is a web client the tests register through the API, with a
// front-channel logout page on its redirect URI's origin and a query of
// its own.
const (
	fcApp  = "fc-app"
	fcPage = "https://fc-app.example/frontchannel-logout?tenant=7"
)

// fcClient is the registration of fcApp with page as its
// frontchannel_logout_uri.
func fcClient(page string, sessionRequired bool) map[string]any {
	return map[string]any{"id": fcApp, "type": "web", "first_party": true,
		"redirect_uris":           []string{sesametest.RedirectURI(fcApp)},
		"frontchannel_logout_uri": page, "frontchannel_logout_session_required": sessionRequired}
}

// wantFrontchannel fails unless the client the API answered, and the one
// stored, have page and sessionRequired.
func wantFrontchannel(t *testing.T, s *sesametest.Sesame, what string, got map[string]any, page string, sessionRequired bool) {
	t.Helper()
	if got["frontchannel_logout_uri"] != page || got["frontchannel_logout_session_required"] != sessionRequired {
		t.Errorf("%s: the API shows %v, want %q, session required %v", what, got, page, sessionRequired)
	}
	c, err := s.Store.Client(t.Context(), fcApp)
	if err != nil || c.FrontchannelLogoutURI != page || c.FrontchannelLogoutSessionRequired != sessionRequired {
		t.Errorf("%s: stored %q, session required %v (%v); want %q, %v", what, c.FrontchannelLogoutURI, c.FrontchannelLogoutSessionRequired, err, page, sessionRequired)
	}
}

// F1 by API: a client registered or changed with a frontchannel_logout_uri
// and frontchannel_logout_session_required has them stored and shown. A
// page off the origins of the client's redirect URIs (another host, port
// or scheme), with a fragment, or relative is the API's 400 naming the
// field, and writes nothing.
func TestAPIRegistersFrontchannelLogout(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
		bad := map[string]string{
			"another host":   "https://elsewhere.example/frontchannel-logout",
			"another port":   "https://fc-app.example:8443/frontchannel-logout",
			"another scheme": "http://fc-app.example/frontchannel-logout",
			"a fragment":     fcPage + "#signed-out",
			"relative":       "/frontchannel-logout",
		}
		refused := func(what string, st int, got map[string]any) {
			t.Helper()
			msg, _ := got["message"].(string)
			if st != http.StatusBadRequest || got["error"] != "invalid" || got["field"] != "frontchannel_logout_uri" ||
				!strings.HasPrefix(msg, "frontchannel_logout_uri: ") {
				t.Errorf("%s: %d %v, want 400 invalid on frontchannel_logout_uri", what, st, got)
			}
		}
		for name, page := range bad {
			st, got := api.do("POST", "/api/clients", fcClient(page, true))
			refused("register with "+name, st, got)
		}
		if _, err := s.Store.Client(t.Context(), fcApp); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a refused registration was written: %v", err)
		}

		st, got := api.do("POST", "/api/clients", fcClient(fcPage, true))
		if st != http.StatusCreated {
			t.Fatalf("register: %d %v", st, got)
		}
		wantFrontchannel(t, s, "registered", got, fcPage, true)
		st, got = api.do("GET", "/api/clients/"+fcApp, nil)
		if st != http.StatusOK {
			t.Fatalf("read: %d %v", st, got)
		}
		wantFrontchannel(t, s, "read back", got, fcPage, true)

		for name, page := range bad {
			st, got := api.do("PUT", "/api/clients/"+fcApp, fcClient(page, true))
			refused("change to "+name, st, got)
		}
		_, got = api.do("GET", "/api/clients/"+fcApp, nil)
		wantFrontchannel(t, s, "after the refused changes", got, fcPage, true)

		const moved = "https://fc-app.example/signed-out"
		st, got = api.do("PUT", "/api/clients/"+fcApp, fcClient(moved, false))
		if st != http.StatusOK {
			t.Fatalf("change: %d %v", st, got)
		}
		wantFrontchannel(t, s, "changed", got, moved, false)
		_, got = api.do("GET", "/api/clients/"+fcApp, nil)
		wantFrontchannel(t, s, "read back after the change", got, moved, false)
	})
}

// F2, O9 by API: the receipt of a browser's sign-out whose last page
// loads the front-channel page of an app registered through the API shows
// that page as the app's frontchannel_uri, and none for an app without
// one; an admin's sign-out loads no page, and its receipt shows none.
func TestAPIReceiptShowsFrontchannelPages(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
		if st, got := api.do("POST", "/api/clients", fcClient(fcPage, true)); st != http.StatusCreated {
			t.Fatalf("register: %d %v", st, got)
		}
		acct, err := s.Store.AccountByUsername(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		// frontchannelURIs reads receipt id through the API: each
		// outcome's frontchannel_uri by client, "" when absent.
		frontchannelURIs := func(id string) map[string]any {
			t.Helper()
			st, rec := api.do("GET", "/api/receipts/"+id, nil)
			outcomes, _ := rec["outcomes"].([]any)
			if st != http.StatusOK || len(outcomes) != 2 {
				t.Fatalf("receipt %s: %d %v, want app-a's and fc-app's outcomes", id, st, rec)
			}
			got := map[string]any{}
			for _, o := range outcomes {
				o := o.(map[string]any)
				got[o["client_id"].(string)] = o["frontchannel_uri"]
			}
			return got
		}
		// Signs alice in to both apps in a new browser; app-a has no page.
		signedIn := func() *sesametest.Browser {
			t.Helper()
			b := s.NewBrowser(t)
			if cb := b.SignIn(fcApp, "alice", nil); cb.Code == "" {
				t.Fatalf("sign-in to %s: %+v", fcApp, cb)
			}
			b.SignedIn(sesametest.AppA, "alice", nil)
			return b
		}

		b := signedIn()
		done := b.Submit(b.Get(s.Issuer+"/session/end?client_id="+sesametest.AppA), map[string]string{"logout": "true"})
		if done.Status != http.StatusOK || strings.Count(done.Body, "<iframe") != 1 || !strings.Contains(done.Body, `<iframe src="`+fcPage) {
			t.Fatalf("the sign-out's last page: %d %s, want one frame of %s", done.Status, done.Body, fcPage)
		}
		recs, err := s.Store.ReceiptsByAccount(t.Context(), acct.ID, 10)
		if err != nil || len(recs) != 1 {
			t.Fatalf("receipts %+v, %v", recs, err)
		}
		if got := frontchannelURIs(recs[0].ID); got[fcApp] != fcPage || got[sesametest.AppA] != nil {
			t.Errorf("the browser's sign-out: frontchannel_uri by client %v, want %s for %s alone", got, fcPage, fcApp)
		}

		signedIn()
		st, list := api.do("GET", "/api/accounts/"+acct.ID+"/sessions", nil)
		sessions, _ := list["sessions"].([]any)
		if st != http.StatusOK || len(sessions) != 1 {
			t.Fatalf("sessions: %d %v", st, list)
		}
		st, ended := api.do("DELETE", "/api/sessions/"+sessions[0].(map[string]any)["id"].(string), nil)
		id, _ := ended["receipt"].(string)
		if st != http.StatusOK || id == "" {
			t.Fatalf("admin sign-out: %d %v", st, ended)
		}
		if got := frontchannelURIs(id); got[fcApp] != nil || got[sesametest.AppA] != nil {
			t.Errorf("an admin's sign-out: frontchannel_uri by client %v, want none", got)
		}
	})
}
