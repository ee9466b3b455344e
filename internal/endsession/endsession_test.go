package endsession_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// endSession opens the end-session endpoint in the browser.
func endSession(b *sesametest.Browser, s *sesametest.Sesame, q url.Values) sesametest.Page {
	return b.Get(s.Issuer + "/session/end?" + q.Encode())
}

// signedInToBoth signs alice in to app-a and app-b in one browser, app-b
// with offline_access.
func signedInToBoth(t *testing.T, s *sesametest.Sesame) (*sesametest.Browser, sesametest.Tokens, sesametest.Tokens) {
	t.Helper()
	b := s.NewBrowser(t)
	a := b.SignedIn(sesametest.AppA, "alice", nil)
	bt := b.SignedIn(sesametest.AppB, "alice", sesametest.Offline())
	return b, a, bt
}

// O4, O8, spec L7, L10, L12, B1-B5: global sign-out ends the session, revokes
// the grants without offline_access with their tokens, keeps the offline
// one, notifies every app with one valid logout token naming its sid, and
// redirects with state.
func TestGlobalSignOut(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b, a, bt := signedInToBoth(t, s)
	aSID := s.IDClaims(t, a.IDToken)["sid"]
	bSID := s.IDClaims(t, bt.IDToken)["sid"]

	page := endSession(b, s, url.Values{"id_token_hint": {a.IDToken}, "post_logout_redirect_uri": {"https://app-a.example/"}, "state": {"bye"}})
	if page.Status != 200 || !strings.Contains(page.Body, `name="xsrf"`) {
		t.Fatalf("confirm page: %d %s", page.Status, page.Body)
	}
	done := b.Submit(page, map[string]string{"logout": "true"})
	if done.Status != http.StatusSeeOther || done.Location != "https://app-a.example/?state=bye" {
		t.Fatalf("after confirm: %d %q", done.Status, done.Location)
	}
	// spec L12: both apps were told before the redirect (backchannel_wait).
	for id, sid := range map[string]any{sesametest.AppA: aSID, sesametest.AppB: bSID} {
		got := s.Apps[id].Received()
		if len(got) != 1 || got[0].SID != sid || got[0].Typ != "logout+jwt" {
			t.Errorf("%s received %+v (rejected %v), want one token for sid %v", id, got, s.Apps[id].Rejected(), sid)
			continue
		}
		if _, ok := got[0].Claims["nonce"]; ok {
			t.Errorf("%s: logout token has a nonce", id)
		}
		exp, iat := got[0].Claims["exp"].(float64), got[0].Claims["iat"].(float64)
		if exp-iat != 120 {
			t.Errorf("%s: logout token lives %vs, want 120", id, exp-iat)
		}
	}
	if st, _ := s.UserInfo(t, a.AccessToken); st != 401 {
		t.Errorf("app-a's access token survived global sign-out: %d", st)
	}
	if m := s.Introspect(t, sesametest.AppA, a.AccessToken); m["active"] != false {
		t.Errorf("introspection after sign-out: %v", m)
	}
	if r := s.Refresh(t, sesametest.AppB, bt.RefreshToken); r.Status != 200 {
		t.Errorf("offline_access refresh token died with the session: %+v", r.Raw)
	}
	for _, id := range []string{sesametest.AppA, sesametest.AppB} {
		if cb := b.SignIn(id, "alice", url.Values{"prompt": {"none"}}); cb.Error != "login_required" {
			t.Errorf("%s: prompt=none after sign-out: %+v", id, cb)
		}
	}
}

// O9: the receipt says what was revoked, what was kept and why, and what
// became of each delivery.
func TestSignOutWritesAReceipt(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b, _, _ := signedInToBoth(t, s)
	b.Submit(endSession(b, s, url.Values{"client_id": {sesametest.AppA}}), map[string]string{"logout": "true"})
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	recs, err := s.Store.ReceiptsByAccount(t.Context(), acct.ID, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("receipts %v %v", recs, err)
	}
	r, err := signout.ReadReceipt(t.Context(), s.Store, recs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Scope != string(signout.ScopeBrowser) || r.ClientID != sesametest.AppA || len(r.Outcomes) != 2 {
		t.Fatalf("receipt %+v", r)
	}
	for _, o := range r.Outcomes {
		wantKept := o.ClientID == sesametest.AppB
		if o.Revoked == wantKept || (wantKept && o.Kept != signout.KeptOffline) || o.DeliveryID == "" {
			t.Errorf("outcome %+v", o)
		}
	}
	if len(r.Deliveries) != 2 {
		t.Fatalf("deliveries %+v", r.Deliveries)
	}
	for _, d := range r.Deliveries {
		if d.State != store.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("delivery %+v", d)
		}
	}
}

// O5: signing out of this app only ends that app's authorization, keeps the
// session (with a new id) and other apps, and notifies that app alone.
func TestSignOutOfThisAppOnly(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) { c.SignoutConfirm = "ask" }})
	b, a, _ := signedInToBoth(t, s)
	page := endSession(b, s, url.Values{"client_id": {sesametest.AppA}})
	if !strings.Contains(page.Body, `name="app_only"`) || strings.Contains(page.Body, "<script") {
		t.Fatalf("ask mode must offer app_only and not submit by itself: %s", page.Body)
	}
	done := b.Submit(page, map[string]string{"app_only": "true"})
	if done.Status != 200 || !strings.Contains(done.Body, "still signed in") {
		t.Fatalf("done page: %d %s", done.Status, done.Body)
	}
	if got := s.Apps[sesametest.AppA].WaitReceived(1, 5*time.Second); len(got) != 1 {
		t.Errorf("app-a notified %d times", len(got))
	}
	if st, _ := s.UserInfo(t, a.AccessToken); st != 401 {
		t.Errorf("app-a's token survived: %d", st)
	}
	if cb := b.SignIn(sesametest.AppB, "alice", url.Values{"prompt": {"none"}}); cb.Code == "" {
		t.Errorf("app-b no longer signs in silently: %+v", cb)
	}
	if got := s.Apps[sesametest.AppB].Received(); len(got) != 0 {
		t.Errorf("app-b was told of a sign-out it was not part of: %+v", got)
	}
	if cb := b.SignIn(sesametest.AppA, "alice", url.Values{"prompt": {"none"}}); cb.Code == "" {
		t.Errorf("the session ended: app-a cannot sign in silently again: %+v", cb)
	}
}

// O2, O3, spec L3-L6, L13: requests that cannot be trusted get a 400 page
// and no redirect, and sign nobody out.
func TestUntrustedEndSessionRequests(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	a := b.SignedIn(sesametest.AppA, "alice", nil)
	parts := strings.Split(a.IDToken, ".")
	cases := map[string]url.Values{
		"forged signature":     {"id_token_hint": {parts[0] + "." + parts[1] + ".AAAA"}},
		"alg none":             {"id_token_hint": {"eyJhbGciOiJub25lIn0." + parts[1] + "."}},
		"not a JWT":            {"id_token_hint": {"garbage"}},
		"mismatched client_id": {"id_token_hint": {a.IDToken}, "client_id": {sesametest.AppB}},
		"unknown client":       {"client_id": {"nobody"}},
		"unregistered URI":     {"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://evil.example/"}},
		"added query":          {"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/?x=1"}},
		"no trailing slash":    {"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example"}},
		"case":                 {"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://APP-A.example/"}},
		"other app's URI":      {"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-b.example/"}},
		"repeated state":       {"client_id": {sesametest.AppA}, "state": {"a", "b"}},
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			p := endSession(b, s, q)
			if p.Status != http.StatusBadRequest || p.Location != "" || strings.Contains(p.Body, `name="xsrf"`) {
				t.Fatalf("status %d location %q", p.Status, p.Location)
			}
		})
	}
	if st, _ := s.UserInfo(t, a.AccessToken); st != 200 {
		t.Errorf("a refused request signed alice out: %d", st)
	}
}

// O2, spec L2: an expired id_token_hint that Sesame signed is accepted.
func TestExpiredHintIsAccepted(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	a := b.SignedIn(sesametest.AppA, "alice", nil)
	s.Clock.Advance(2 * time.Hour)
	p := endSession(b, s, url.Values{"id_token_hint": {a.IDToken}, "post_logout_redirect_uri": {"https://app-a.example/"}})
	if p.Status != 200 {
		t.Fatalf("expired hint refused: %d", p.Status)
	}
	if done := b.Submit(p, map[string]string{"logout": "true"}); done.Location != "https://app-a.example/" {
		t.Errorf("redirect %q (spec L7: no state added when none was sent)", done.Location)
	}
}

// O3, spec S4: only the latest confirm page of a session confirms; a stale
// or missing xsrf gives 400 and signs nobody out.
func TestStaleConfirmPageSignsNobodyOut(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	a := b.SignedIn(sesametest.AppA, "alice", nil)
	old := endSession(b, s, url.Values{"client_id": {sesametest.AppA}})
	endSession(b, s, url.Values{"client_id": {sesametest.AppA}}) // a newer page
	if p := b.Submit(old, map[string]string{"logout": "true"}); p.Status != http.StatusBadRequest {
		t.Errorf("stale page: %d", p.Status)
	}
	if p := b.Post(s.Issuer+"/session/end/confirm", url.Values{"logout": {"yes"}}); p.Status != http.StatusBadRequest {
		t.Errorf("no xsrf: %d", p.Status)
	}
	if st, _ := s.UserInfo(t, a.AccessToken); st != 200 {
		t.Errorf("signed out by a stale page: %d", st)
	}
}

// O3, spec L9, L11: with no session, sign-out still completes; Logto's
// logout=yes counts as global.
func TestSignOutWithoutSession(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	p := endSession(b, s, url.Values{"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}, "state": {"s"}})
	if p.Status != 200 {
		t.Fatalf("%d", p.Status)
	}
	if done := b.Submit(p, map[string]string{"logout": "yes"}); done.Location != "https://app-a.example/?state=s" {
		t.Errorf("redirect %q", done.Location)
	}
	p = endSession(b, s, url.Values{})
	if done := b.Submit(p, map[string]string{"logout": "true"}); done.Status != 200 || !strings.Contains(done.Body, "signed out") {
		t.Errorf("no-params sign-out: %d %s", done.Status, done.Body)
	}
}

// O3: signout_confirm: auto submits logout=true by script (as Logto),
// allowed by the page's CSP nonce, when the request proves where it came
// from (here an id_token_hint of this session); a bare client_id does not
// (the abuse suite tries the rest).
func TestAutoConfirmPageSubmitsItself(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	tok := b.SignedIn(sesametest.AppA, "alice", nil)
	p := endSession(b, s, url.Values{"id_token_hint": {tok.IDToken}})
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(p.Body, "<script nonce=") || !strings.Contains(csp, "'nonce-") || !strings.Contains(p.Body, `name="logout"`) {
		t.Errorf("auto page: csp %q body %s", csp, p.Body)
	}
	p = endSession(b, s, url.Values{"client_id": {sesametest.AppA}})
	if strings.Contains(p.Body, "<script") || strings.Contains(p.Header.Get("Content-Security-Policy"), "'nonce-") {
		t.Errorf("a bare client_id got the self-submitting page: %s", p.Body)
	}
}

// spec L1: end-session accepts POST; B4, D7: discovery advertises it.
func TestEndSessionByPostAndDiscovery(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	p := b.Post(s.Issuer+"/session/end", url.Values{"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}})
	if p.Status != 200 || !strings.Contains(p.Body, `name="xsrf"`) {
		t.Fatalf("POST end-session: %d", p.Status)
	}
	if done := b.Submit(p, map[string]string{"logout": "true"}); done.Location != "https://app-a.example/" {
		t.Errorf("redirect %q", done.Location)
	}
	disc := b.Get(s.Issuer + "/.well-known/openid-configuration")
	for _, want := range []string{`"end_session_endpoint":"` + s.Issuer + `/session/end"`, `"backchannel_logout_supported":true`, `"backchannel_logout_session_supported":true`,
		`"frontchannel_logout_supported":true`, `"frontchannel_logout_session_supported":true`} {
		if !strings.Contains(disc.Body, want) {
			t.Errorf("discovery lacks %s", want)
		}
	}
}

// Metrics count sign-outs by scope and deliveries by result.
func TestSignOutMetrics(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	b.Submit(b.Get(s.Issuer+"/session/end?client_id="+sesametest.AppA), map[string]string{"logout": "true"})
	m := b.Get(s.URL + "/metrics").Body
	for _, want := range []string{`sesame_signouts_total{scope="browser"} 1`, `sesame_backchannel_attempts_total{result="delivered"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// spec B6: a logout token is signed like that client's ID tokens.
func TestLogoutTokenUsesTheClientsAlgorithm(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == sesametest.AppB {
				c.Clients[i].IDTokenSignedResponseAlg = "RS256"
			}
		}
	}})
	b, _, _ := signedInToBoth(t, s)
	b.Submit(b.Get(s.Issuer+"/session/end"), map[string]string{"logout": "true"})
	for id, alg := range map[string]string{sesametest.AppA: "ES256", sesametest.AppB: "RS256"} {
		got := s.Apps[id].WaitReceived(1, 5*time.Second)
		if len(got) != 1 || got[0].Alg != alg {
			t.Errorf("%s: %+v, want one %s token", id, got, alg)
		}
	}
}

// O2, spec L6: a post_logout_redirect_uri with no client named is ignored:
// no redirect, the done page.
func TestRedirectWithoutClientIsIgnored(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	p := b.Get(s.Issuer + "/session/end?" + url.Values{"post_logout_redirect_uri": {"https://app-a.example/"}}.Encode())
	done := b.Submit(p, map[string]string{"logout": "true"})
	if done.Location != "" || done.Status != 200 {
		t.Errorf("redirected to %q (%d)", done.Location, done.Status)
	}
}

// Concurrent sign-outs of one session (a double click, an admin and the
// person at once): exactly one signs it out, one receipt, one logout token
// per app. On both databases: the database decides who deletes the
// session.
func TestConcurrentSignOutsOfOneSession(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		b, _, _ := signedInToBoth(t, s)
		acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
		sessions, _ := s.Store.SessionsByAccount(t.Context(), acct.ID)
		page := b.Get(s.Issuer + "/session/end?client_id=" + sesametest.AppA)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { b.Submit(page, map[string]string{"logout": "true"}) })
			wg.Go(func() { _, _ = s.Signout.RevokeSession(t.Context(), sessions[0].ID, signout.CauseAdmin, nil) })
		}
		wg.Wait()
		recs, _ := s.Store.ReceiptsByAccount(t.Context(), acct.ID, 20)
		if len(recs) != 1 {
			t.Errorf("%d receipts, want 1", len(recs))
		}
		time.Sleep(1500 * time.Millisecond) // room for a duplicate delivery
		for _, id := range []string{sesametest.AppA, sesametest.AppB} {
			if got := s.Apps[id].Received(); len(got) != 1 {
				t.Errorf("%s received %d logout tokens, want 1", id, len(got))
			}
		}
	})
}

// C1, O4: a client with offline_survives_signout: false loses even its
// offline_access grant at global sign-out.
func TestOfflineGrantDiesWhenTheClientSaysSo(t *testing.T) {
	no := false
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == sesametest.AppB {
				c.Clients[i].OfflineSurvivesSignout = &no
			}
		}
	}})
	b, _, bt := signedInToBoth(t, s)
	b.Submit(b.Get(s.Issuer+"/session/end?client_id="+sesametest.AppA), map[string]string{"logout": "true"})
	if r := s.Refresh(t, sesametest.AppB, bt.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("the offline grant of a client that does not keep them survived: %+v", r.Raw)
	}
}

// cancelLink is the href of the confirm page's Cancel link, unescaped as a
// browser reads it.
func cancelLink(t *testing.T, p sesametest.Page) string {
	t.Helper()
	m := regexp.MustCompile(`<a href="([^"]*)" class="button secondary">Cancel</a>`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no Cancel link on the confirm page: %s", p.Body)
	}
	return html.UnescapeString(m[1])
}

// O3: Cancel is a link (not a form) back to the registered
// post_logout_redirect_uri with state, or to the landing page when the
// request sent no return address; following it signs nobody out.
func TestConfirmPageCancelSignsNobodyOut(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) { c.SignoutConfirm = "ask" }})
	b, a, _ := signedInToBoth(t, s)
	cases := []struct {
		name string
		q    url.Values
		want string
	}{
		{"registered URI and state", url.Values{"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}, "state": {"a b&c"}},
			"https://app-a.example/?state=a+b%26c"},
		{"registered URI", url.Values{"id_token_hint": {a.IDToken}, "post_logout_redirect_uri": {"https://app-a.example/"}}, "https://app-a.example/"},
		{"state without a URI", url.Values{"client_id": {sesametest.AppA}, "state": {"s"}}, "/"},
		{"URI without a client", url.Values{"post_logout_redirect_uri": {"https://app-a.example/"}, "state": {"s"}}, "/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := endSession(b, s, c.q)
			if got := cancelLink(t, p); got != c.want {
				t.Errorf("Cancel goes to %q, want %q", got, c.want)
			}
			if c.want == "/" {
				if land := b.Get(s.URL + cancelLink(t, p)); land.Status != 200 || !strings.Contains(land.Body, "You are signed in as <strong>alice</strong>") {
					t.Errorf("the landing page after Cancel: %d", land.Status)
				}
			}
		})
	}
	if st, _ := s.UserInfo(t, a.AccessToken); st != 200 {
		t.Errorf("a cancelled sign-out signed app-a out: %d", st)
	}
	for _, id := range []string{sesametest.AppA, sesametest.AppB} {
		if cb := b.SignIn(id, "alice", url.Values{"prompt": {"none"}}); cb.Code == "" {
			t.Errorf("%s cannot sign in silently after Cancel: %+v", id, cb)
		}
		if got := s.Apps[id].Received(); len(got) != 0 {
			t.Errorf("%s was told of a sign-out that was cancelled", id)
		}
	}
}

// O3: the page names the app that asked (its name, or its id without one)
// and says what each choice does: "this app only" keeps the Sesame
// session and the other apps.
func TestConfirmPageNamesTheAppAndTheChoice(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		c.SignoutConfirm = "ask"
		for i := range c.Clients {
			if c.Clients[i].ID == sesametest.AppA {
				c.Clients[i].Name = "Travel Planner"
			}
			if c.Clients[i].ID == sesametest.AppB {
				c.Clients[i].Name = ""
			}
		}
	}})
	b, _, _ := signedInToBoth(t, s)
	p := endSession(b, s, url.Values{"client_id": {sesametest.AppA}})
	for _, want := range []string{
		"<strong>Travel Planner</strong> asked Sesame to sign you out.",
		"<strong>Travel Planner only</strong>: signs you out of Travel Planner alone. You stay signed in to Sesame in this browser, and to your other apps.",
		"<strong>Every app</strong>: ends your Sesame session in this browser, and signs you out of every app you used with it.",
		`<button type="submit" name="logout" value="true">Sign out of every app</button>`,
		`<button type="submit" name="app_only" value="true" class="secondary">Sign out of Travel Planner only</button>`,
		"<li>" + sesametest.AppB + "</li>",
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if p := endSession(b, s, url.Values{"client_id": {sesametest.AppB}}); !strings.Contains(p.Body, "<strong>"+sesametest.AppB+"</strong> asked Sesame to sign you out.") {
		t.Errorf("an app without a name is not named by its id: %s", p.Body)
	}
}

// Error pages say what went wrong and what to do in words: no bare status
// text, and nobody was signed out.
func TestRefusedSignOutSaysWhatToDo(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	p := endSession(b, s, url.Values{"client_id": {"nobody"}})
	for _, want := range []string{"<h1>You were not signed out</h1>", "not known to Sesame", "Nothing was signed out", "Go back to the app"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the page lacks %q: %s", want, p.Body)
		}
	}
	if strings.Contains(p.Body, "Bad Request") {
		t.Error("the page says Bad Request")
	}
}
