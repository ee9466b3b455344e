package abuse_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// authorityCall calls the admin API at s with a bearer token and returns
// the status and the decoded JSON answer.
func authorityCall(t *testing.T, s *sesametest.Sesame, bearer, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, s.URL+path, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s answered %d without JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, m
}

// authorityToken gets a sesame:admin token by client_credentials for
// clientID with its secret; it fails t unless the token endpoint gives one.
func authorityToken(t *testing.T, s *sesametest.Sesame, clientID, secret string) string {
	t.Helper()
	resp, body := s.PostForm(t, "/token", clientID, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("admin token for %s: %d %s", clientID, resp.StatusCode, body)
	}
	return tok.AccessToken
}

// authorityAdminClient registers a new m2m admin client through the API
// (so the API may change it later: it is not the configuration file's)
// and returns its secret.
func authorityAdminClient(t *testing.T, s *sesametest.Sesame, robot, id string) string {
	t.Helper()
	st, c := authorityCall(t, s, robot, "POST", "/api/clients", map[string]any{"id": id, "type": client.TypeM2M, "admin": true})
	secret, _ := c["secret"].(string)
	if st != http.StatusCreated || secret == "" {
		t.Fatalf("create admin client %s: %d %v", id, st, c)
	}
	return secret
}

// refused reports whether an admin API answer refuses the token.
func refused(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden
}

// C5: an admin token dies at once when its client loses the admin role
// (its admin flag cleared by the API) or its secret is rotated (by the API,
// or by the registry's upsert that the CLI's `clients add` and the
// configuration file use). Each is checked at the very next call, with no
// wait for the token to expire.
func TestAdminTokenDiesWithItsClientsAuthority(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		robot := authorityToken(t, s, sesametest.Robot, sesametest.Secret)
		put := func(t *testing.T, id string, body map[string]any) {
			if st, m := authorityCall(t, s, robot, "PUT", "/api/clients/"+id, body); st != http.StatusOK {
				t.Fatalf("PUT %s: %d %v", id, st, m)
			}
		}
		for _, c := range []struct {
			name   string
			change func(t *testing.T, id string)
			// stillAdmin is whether the client may get a new admin token
			// (with its new secret, when it has one).
			stillAdmin bool
		}{
			{"demoted by the API", func(t *testing.T, id string) { // C5: the flag cleared
				put(t, id, map[string]any{"type": client.TypeM2M, "admin": false})
			}, false},
			{"rotated by the API", func(t *testing.T, id string) { // C5: a secret rotation
				put(t, id, map[string]any{"type": client.TypeM2M, "admin": true, "rotate_secret": true})
			}, true},
			{"rotated by the CLI", func(t *testing.T, id string) { // C5: `sesame clients add ID --type m2m --secret-file F`
				if _, err := s.Clients.Upsert(t.Context(), client.Spec{ID: id, Type: client.TypeM2M, Secret: "a secret the operator chose", Admin: true}); err != nil {
					t.Fatal(err)
				}
			}, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				id := "ops-" + strings.ReplaceAll(c.name, " ", "-")
				secret := authorityAdminClient(t, s, robot, id)
				ops := authorityToken(t, s, id, secret)
				if st, m := authorityCall(t, s, ops, "GET", "/api/clients", nil); st != http.StatusOK {
					t.Fatalf("a fresh admin token: %d %v", st, m)
				}
				c.change(t, id)
				mallory := "mallory-" + id
				for _, call := range [][2]string{{"GET", "/api/clients"}, {"POST", "/api/accounts"}} {
					if st, _ := authorityCall(t, s, ops, call[0], call[1], map[string]any{"username": mallory, "password": "mallory-password"}); !refused(st) {
						t.Errorf("the old token still works: %s %s answered %d", call[0], call[1], st)
					}
				}
				if _, err := s.Store.AccountByUsername(t.Context(), mallory); err == nil {
					t.Error("the old token created an account")
				}
				if !c.stillAdmin {
					resp, body := s.PostForm(t, "/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}})
					if resp.StatusCode == http.StatusOK {
						t.Errorf("the demoted client got a new admin token: %s", body)
					}
				}
			})
		}
	})
}

// C5: an m2m client that leaves the configuration's admin_clients loses
// the role at the restart that reads the file: its token, still unexpired
// in the database, is refused by the new server.
func TestAdminTokenDiesWhenAdminClientsDropsIt(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		before := sesametest.New(t, opts)
		robot := authorityToken(t, before, sesametest.Robot, sesametest.Secret)
		if st, m := authorityCall(t, before, robot, "GET", "/api/clients", nil); st != http.StatusOK {
			t.Fatalf("admin token before the restart: %d %v", st, m)
		}
		after := sesametest.New(t, sesametest.Options{Database: before.Config.Database, Configure: func(c *config.Config) {
			c.AdminClients = nil
		}})
		if st, m := authorityCall(t, after, robot, "GET", "/api/clients", nil); !refused(st) {
			t.Errorf("the token of a client no longer in admin_clients: %d %v", st, m)
		}
		// The server that still lists it keeps honouring it: the token
		// itself is sound, only the role went.
		if st, m := authorityCall(t, before, robot, "GET", "/api/clients", nil); st != http.StatusOK {
			t.Errorf("admin token on the server that lists the client: %d %v", st, m)
		}
	})
}

// A5, O6: an admin password reset ends every session of the account with
// its grants and tokens, and the apps are told by back-channel logout; the
// account's other owner of a browser (bob) is untouched, and the new
// password signs in.
func TestAdminPasswordResetEndsTheAccountsSessions(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		opts.Configure = func(c *config.Config) {
			for i := range c.Clients {
				if c.Clients[i].ID == sesametest.AppB {
					no := false // its offline grants end with the session (O4), so its refresh token must die
					c.Clients[i].OfflineSurvivesSignout = &no
				}
			}
		}
		s := sesametest.New(t, opts)
		robot := authorityToken(t, s, sesametest.Robot, sesametest.Secret)
		laptop, phone, bobs := s.NewBrowser(t), s.NewBrowser(t), s.NewBrowser(t)
		atA := laptop.SignedIn(sesametest.AppA, "alice", nil)
		atB := phone.SignedIn(sesametest.AppB, "alice", sesametest.Offline())
		bob := bobs.SignedIn(sesametest.AppA, "bob", nil)
		if atB.RefreshToken == "" {
			t.Fatal("no refresh token for app-b")
		}
		alice, err := s.Store.AccountByUsername(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}

		const newPassword = "a new password nobody else knows"
		if st, m := authorityCall(t, s, robot, "PATCH", "/api/accounts/"+alice.ID, map[string]any{"password": newPassword}); st != http.StatusOK {
			t.Fatalf("reset: %d %v", st, m)
		}

		if ss, _ := s.Store.SessionsByAccount(t.Context(), alice.ID); len(ss) != 0 {
			t.Errorf("%d sessions of alice survived the reset", len(ss))
		}
		for name, b := range map[string]*sesametest.Browser{"laptop": laptop, "phone": phone} {
			if p := b.Get(s.AuthURL(sesametest.AppC, nil)); !sesametest.IsSignInPage(p) {
				t.Errorf("alice's %s still signs in without a password (%d)", name, p.Status)
			}
		}
		if st, _ := s.UserInfo(t, atA.AccessToken); st != http.StatusUnauthorized {
			t.Errorf("app-a's access token after the reset: %d", st)
		}
		if tok := s.Refresh(t, sesametest.AppB, atB.RefreshToken); tok.Status == http.StatusOK {
			t.Error("app-b's refresh token works after the reset")
		}
		for _, app := range []string{sesametest.AppA, sesametest.AppB} {
			got := s.Apps[app].WaitReceived(1, 5*time.Second)
			if len(got) != 1 || got[0].Subject != alice.ID {
				t.Errorf("%s got %d logout tokens (%v), want alice's one", app, len(got), got)
			}
		}
		grants, _ := s.Store.GrantsByAccount(t.Context(), alice.ID)
		for _, g := range grants {
			if g.RevokedAt.IsZero() {
				t.Errorf("the grant of %s survived the reset", g.ClientID)
			}
		}
		events, _ := s.Store.Events(t.Context(), 0, 100)
		signouts := 0
		for _, e := range events {
			if e.Kind == store.EventSignOut && e.AccountID == alice.ID && strings.Contains(e.Detail, signout.CausePasswordChange) {
				signouts++
			}
		}
		if signouts != 2 {
			t.Errorf("%d sign-outs of alice recorded as caused by the password change, want 2", signouts)
		}
		if st, _ := s.UserInfo(t, bob.AccessToken); st != http.StatusOK {
			t.Errorf("bob's token died with alice's reset: %d", st)
		}
		p := s.NewBrowser(t)
		page := p.Get(s.AuthURL(sesametest.AppA, nil))
		if cb := sesametest.Landed(t, p.Submit(page, map[string]string{"username": "alice", "password": newPassword})); cb.Code == "" {
			t.Errorf("the new password does not sign in: %+v", cb)
		}
	})
}

// A5, C4: a password the configuration file gave a user is applied only
// when the user is created, so a reset by the admin API survives the next
// start, which seeds the file's users again.
func TestResetPasswordOfAConfigUserSurvivesARestart(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		before := sesametest.New(t, opts)
		robot := authorityToken(t, before, sesametest.Robot, sesametest.Secret)
		alice, err := before.Store.AccountByUsername(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		const newPassword = "the password after the reset"
		if st, m := authorityCall(t, before, robot, "PATCH", "/api/accounts/"+alice.ID, map[string]any{"password": newPassword}); st != http.StatusOK {
			t.Fatalf("reset alice, declared by the file: %d %v", st, m)
		}
		after := sesametest.New(t, sesametest.Options{Database: before.Config.Database})
		for _, c := range []struct {
			password string
			signsIn  bool
		}{{newPassword, true}, {sesametest.Password, false}} {
			b := after.NewBrowser(t)
			p := b.Submit(b.Get(after.AuthURL(sesametest.AppA, nil)), map[string]string{"username": "alice", "password": c.password})
			if signedIn := p.Status == http.StatusSeeOther && strings.Contains(p.Location, "code="); signedIn != c.signsIn {
				t.Errorf("after the restart, password %q signs in: %v, want %v", c.password, signedIn, c.signsIn)
			}
		}
	})
}
