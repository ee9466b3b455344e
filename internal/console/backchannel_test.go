package console_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/console"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// consoleSID is the sid of the console's authorization in username's
// newest session: the sid of the console's ID token, which a logout token
// for that session names.
func consoleSID(t *testing.T, s *sesametest.Sesame, username string) string {
	t.Helper()
	sessions, err := s.Store.SessionsByAccount(t.Context(), accountID(t, s, username))
	if err != nil {
		t.Fatal(err)
	}
	for _, sess := range sessions {
		for _, a := range sess.Authorizations {
			if a.ClientID == client.ConsoleID {
				return a.SID
			}
		}
	}
	t.Fatalf("%s has no console authorization: %+v", username, sessions)
	return ""
}

// logoutClaims are the claims of a valid logout token for the console's
// session sid of account sub, issued now.
func logoutClaims(s *sesametest.Sesame, sub, sid string) map[string]any {
	now := s.Clock.Now()
	return map[string]any{
		"iss": s.Issuer, "aud": client.ConsoleID, "iat": now.Unix(), "exp": now.Add(backchannel.TokenTTL).Unix(),
		"jti": token.NewID(), "events": map[string]any{backchannel.EventLogout: map[string]any{}}, "sub": sub, "sid": sid,
	}
}

// sign signs claims with Sesame's ES256 key and typ.
func sign(t *testing.T, s *sesametest.Sesame, typ string, claims map[string]any) string {
	t.Helper()
	tok, err := s.Keys.Sign("ES256", typ, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// postLogout posts a logout token to the console's back-channel handler
// as the Deliverer's in-process transport does, and returns its status.
func postLogout(s *sesametest.Sesame, contentType, logoutToken string) int {
	body := url.Values{"logout_token": {logoutToken}}.Encode()
	req := httptest.NewRequest(http.MethodPost, s.URL+console.BackchannelLogoutPath, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	w := httptest.NewRecorder()
	s.Console.BackchannelLogout().ServeHTTP(w, req)
	return w.Code
}

const form = "application/x-www-form-urlencoded"

// consoleStarts tells whether the console, asked for a page with b's
// cookies, answers with the page (false) or sends b to sign in again
// (true), without following the redirect.
func consoleStarts(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) bool {
	t.Helper()
	resp, err := b.HTTP.Get(s.ConsoleURL("/console/apps"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return false
	case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), s.Issuer+"/auth?"):
		return true
	}
	t.Fatalf("the console answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
	return false
}

// Issue 15 point 1: the console is registered with a back-channel logout
// URI (sid required), and a global sign-out of the admin's browser tells
// it as it tells any app, in process: with a delivery client that refuses
// loopback, where the console's URI is, the delivery is recorded
// delivered on the first attempt while the one to app-a on loopback is
// refused; the receipt shows the console told, and the console then asks
// for a sign-in.
func TestGlobalSignOutTellsTheConsoleInProcess(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		opts.UserRoles = map[string][]string{"alice": {"admin"}, "bob": {"admin"}}
		opts.DeliveryHTTP = backchannel.NewHTTPClient(false)
		s := sesametest.New(t, opts)
		registered, err := s.Store.Client(t.Context(), client.ConsoleID)
		if err != nil || registered.BackchannelLogoutURI != s.URL+"/console/backchannel-logout" || !registered.BackchannelLogoutSessionRequired {
			t.Fatalf("the console's client: %+v %v", registered, err)
		}
		b, _ := signedIn(t, s)
		b.SignedIn(sesametest.AppA, "alice", nil)
		sid := consoleSID(t, s, "alice")
		confirm := b.Get(s.Issuer + "/session/end")
		if done := b.Submit(confirm, map[string]string{"logout": "true"}); done.Status != http.StatusOK {
			t.Fatalf("global sign-out: %d\n%s", done.Status, done.Body)
		}

		recs, err := s.Store.ReceiptsByAccount(t.Context(), accountID(t, s, "alice"), 1)
		if err != nil || len(recs) != 1 {
			t.Fatalf("alice's receipts: %v %v", recs, err)
		}
		byClient := s.LastDeliveries(t, "alice")
		d := byClient[client.ConsoleID]
		if d.State != store.DeliveryDelivered || d.Attempts != 1 || d.LastStatus != http.StatusOK || d.SID != sid ||
			d.URI != s.URL+"/console/backchannel-logout" {
			t.Errorf("the console's delivery: %+v", d)
		}
		if a := byClient[sesametest.AppA]; a.State != store.DeliveryFailed || !strings.Contains(a.LastError, backchannel.ErrForbiddenAddress.Error()) {
			t.Errorf("app-a's delivery went out through the refusing client: %+v", a)
		}
		told := false
		for _, o := range recs[0].Outcomes {
			told = told || (o.ClientID == client.ConsoleID && o.SID == sid && o.Revoked && o.DeliveryID == d.ID)
		}
		if !told {
			t.Errorf("the receipt's outcomes do not show the console told: %+v", recs[0].Outcomes)
		}

		if p := b.Get(s.ConsoleURL("/console/apps")); !sesametest.IsSignInPage(p) {
			t.Errorf("the console after the sign-out: %d %s\n%s", p.Status, p.URL, p.Body)
		}

		// Another admin reads the receipt in the console.
		other := s.NewBrowser(t)
		other.OpenConsole("bob")
		page := other.Get(s.ConsoleURL("/console/receipts/" + recs[0].ID))
		i := strings.Index(page.Body, "App ID <code>sesame-console</code>")
		if page.Status != http.StatusOK || i < 0 {
			t.Fatalf("the receipt's page: %d\n%s", page.Status, page.Body)
		}
		item, _, _ := strings.Cut(page.Body[i:], "</li>")
		for _, want := range []string{"delivered: the app accepted the logout token", "<code>" + s.URL + "/console/backchannel-logout</code>", "1 attempt ", "HTTP 200"} {
			if !strings.Contains(item, want) {
				t.Errorf("the receipt's console item lacks %q:\n%s", want, item)
			}
		}
	})
}

// Issue 15 point 1: a logout token for the console's sid ends that console
// session at once, before its token (still live: nothing else signed the
// admin out) is checked: a page starts a sign-in and an action changes
// nothing. The sign-in that follows (SSO, the same sid, after the logout)
// opens the console again rather than going round in a loop.
func TestALogoutTokenEndsTheConsoleBeforeItsToken(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, p := signedIn(t, s)
		sid := consoleSID(t, s, "alice")
		s.Clock.Advance(time.Second) // the logout comes after the sign-in
		if got := postLogout(s, form, sign(t, s, "logout+jwt", logoutClaims(s, accountID(t, s, "alice"), sid))); got != http.StatusOK {
			t.Fatalf("a valid logout token: %d", got)
		}
		if got := b.ConsolePost(p, "/console/apps", postFields("/console/apps")); got.Status != http.StatusForbidden || !strings.Contains(got.Body, endedWords) {
			t.Errorf("an action after the logout: %d\n%s", got.Status, got.Body)
		}
		if _, err := s.Store.Client(t.Context(), "bobs-app"); err == nil {
			t.Error("the action went through")
		}
		if !consoleStarts(t, s, b) {
			t.Error("the console still opened with the ended session")
		}
		if again := b.Get(s.ConsoleURL("/console/apps")); again.Status != http.StatusOK || !strings.HasSuffix(again.URL, "/console/apps") {
			t.Errorf("after signing in again: %d %s\n%s", again.Status, again.URL, again.Body)
		}
	})
}

// Back-Channel Logout 1.0 §2.6, §2.8: the console answers 400 to a token
// an app must refuse, and ends nothing: each names the admin's real
// console sid, and the console opens after each. The last, valid one
// shows the session could have been ended.
func TestInvalidLogoutTokensEndNothing(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, _ := signedIn(t, s)
		sub, sid := accountID(t, s, "alice"), consoleSID(t, s, "alice")
		s.Clock.Advance(time.Second)
		now := s.Clock.Now()
		with := func(change func(map[string]any)) map[string]any {
			c := logoutClaims(s, sub, sid)
			change(c)
			return c
		}
		valid := sign(t, s, "logout+jwt", logoutClaims(s, sub, sid))
		head, rest, _ := strings.Cut(valid, ".")
		_, sig, _ := strings.Cut(rest, ".")
		otherSub, _ := json.Marshal(with(func(c map[string]any) { c["sub"] = "someone-else" }))
		none, _ := json.Marshal(map[string]string{"alg": "none", "typ": "logout+jwt"})

		for _, tc := range []struct {
			name, contentType, token string
		}{
			{"signed by another key", form, forge(t, head, logoutClaims(s, sub, sid))},
			{"tampered with", form, head + "." + base64.RawURLEncoding.EncodeToString(otherSub) + "." + sig},
			{"unsigned (alg none)", form, base64.RawURLEncoding.EncodeToString(none) + "." + strings.Split(valid, ".")[1] + "."},
			{"another issuer", form, sign(t, s, "logout+jwt", with(func(c map[string]any) { c["iss"] = "https://evil.example/oidc" }))},
			{"another app's (aud app-a)", form, sign(t, s, "logout+jwt", with(func(c map[string]any) { c["aud"] = sesametest.AppA }))},
			{"expired", form, sign(t, s, "logout+jwt", with(func(c map[string]any) {
				c["iat"], c["exp"] = now.Add(-3*time.Minute).Unix(), now.Add(-time.Minute).Unix()
			}))},
			{"issued too long ago", form, sign(t, s, "logout+jwt", with(func(c map[string]any) { c["iat"] = now.Add(-time.Hour).Unix() }))},
			{"issued in the future", form, sign(t, s, "logout+jwt", with(func(c map[string]any) {
				c["iat"], c["exp"] = now.Add(time.Hour).Unix(), now.Add(time.Hour+time.Minute).Unix()
			}))},
			{"without iat", form, sign(t, s, "logout+jwt", with(func(c map[string]any) { delete(c, "iat") }))},
			{"with a nonce", form, sign(t, s, "logout+jwt", with(func(c map[string]any) { c["nonce"] = "n" }))},
			{"without events", form, sign(t, s, "logout+jwt", with(func(c map[string]any) { delete(c, "events") }))},
			{"events not an object", form, sign(t, s, "logout+jwt", with(func(c map[string]any) {
				c["events"] = map[string]any{backchannel.EventLogout: "yes"}
			}))},
			{"without sub or sid", form, sign(t, s, "logout+jwt", with(func(c map[string]any) { delete(c, "sub"); delete(c, "sid") }))},
			{"without jti", form, sign(t, s, "logout+jwt", with(func(c map[string]any) { delete(c, "jti") }))},
			{"an ID token's typ", form, sign(t, s, "JWT", logoutClaims(s, sub, sid))},
			{"no token", form, ""},
			{"not posted as a form", "application/json", valid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := postLogout(s, tc.contentType, tc.token); got != http.StatusBadRequest {
					t.Errorf("answered %d, want 400", got)
				}
				if consoleStarts(t, s, b) {
					t.Error("the console session ended")
				}
			})
		}

		if got := postLogout(s, form, valid); got != http.StatusOK {
			t.Fatalf("the valid token: %d", got)
		}
		if !consoleStarts(t, s, b) {
			t.Error("the valid token did not end the console session")
		}
	})
}

// forge signs claims as a logout token with a key that is not Sesame's,
// under the kid of Sesame's header head.
func forge(t *testing.T, head string, claims map[string]any) string {
	t.Helper()
	raw, _ := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		KeyID string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.KeyID == "" {
		t.Fatalf("header %s: %v", raw, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("logout+jwt").WithHeader("kid", h.KeyID))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// B5: with allow_private_network_delivery false and the issuer on
// loopback, Sesame starts with the console registered with its
// back-channel URI: it is served in process, never dialled, so the
// outbound address rule does not apply to it.
func TestAPrivateIssuerWithoutPrivateDeliveryStillStarts(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{Configure: func(c *config.Config) {
		c.AllowPrivateNetworkDelivery = false
		for i := range c.Clients { // the test apps listen on loopback too
			c.Clients[i].BackchannelLogoutURI, c.Clients[i].BackchannelLogoutSessionRequired = "", false
		}
	}}))
	registered, err := s.Store.Client(t.Context(), client.ConsoleID)
	if err != nil || registered.BackchannelLogoutURI != s.Console.BackchannelLogoutURI() || len(registered.RedirectURIs) != 1 {
		t.Fatalf("the console's client: %+v %v", registered, err)
	}
	signedIn(t, s)
}
