package abuse_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
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
					// Not only the admin API: every reader sees the token dead.
					if resp, body := s.PostForm(t, "/token/introspection", id, secret, url.Values{"token": {ops}}); resp.StatusCode != 200 || !strings.Contains(string(body), `"active":false`) {
						t.Errorf("introspection of the demoted client's old token: %d %s", resp.StatusCode, body)
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

// A5, O4, O6: an admin password reset ends every session of the account
// and every grant, with the clients' default configuration, which keeps
// offline grants at a sign-out (offline_survives_signout): whoever knew
// the old password may hold an offline refresh token, from a session
// still live or from one signed out before, and both die at the reset.
// The apps of the ended sessions are told by back-channel logout; bob is
// untouched, and the new password signs in.
func TestAdminPasswordResetEndsTheAccountsSessions(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		robot := authorityToken(t, s, sesametest.Robot, sesametest.Secret)
		laptop, phone, mallory, bobs := s.NewBrowser(t), s.NewBrowser(t), s.NewBrowser(t), s.NewBrowser(t)
		atA := laptop.SignedIn(sesametest.AppA, "alice", nil)
		atB := phone.SignedIn(sesametest.AppB, "alice", sesametest.Offline())
		stolen := mallory.SignedIn(sesametest.AppC, "alice", sesametest.Offline())
		bob := bobs.SignedIn(sesametest.AppA, "bob", nil)
		if atB.RefreshToken == "" || stolen.RefreshToken == "" {
			t.Fatal("no offline refresh token")
		}
		alice, err := s.Store.AccountByUsername(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		// The attacker's session ends before the reset (here by an admin,
		// O7 as O4): the offline grant survives it, as configured.
		sessions, err := s.Store.SessionsByAccount(t.Context(), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sess := range sessions {
			if len(sess.Authorizations) == 1 && sess.Authorizations[0].ClientID == sesametest.AppC {
				if st, m := authorityCall(t, s, robot, "DELETE", "/api/sessions/"+sess.ID, nil); st != http.StatusOK {
					t.Fatalf("end the attacker's session: %d %v", st, m)
				}
			}
		}
		if got := s.Apps[sesametest.AppC].WaitReceived(1, 5*time.Second); len(got) != 1 {
			t.Fatalf("app-c got %d logout tokens for the attacker's session", len(got))
		}
		if stolen = s.Refresh(t, sesametest.AppC, stolen.RefreshToken); stolen.Status != http.StatusOK || stolen.RefreshToken == "" {
			t.Fatalf("the offline refresh token did not outlive its session (O4): %d %s", stolen.Status, stolen.Error)
		}

		const newPassword = "a new password nobody else knows"
		if st, m := authorityCall(t, s, robot, "PATCH", "/api/accounts/"+alice.ID, map[string]any{"password": newPassword}); st != http.StatusOK {
			t.Fatalf("reset: %d %v", st, m)
		}

		if ss, _ := s.Store.SessionsByAccount(t.Context(), alice.ID); len(ss) != 0 {
			t.Errorf("%d sessions of alice survived the reset", len(ss))
		}
		for name, b := range map[string]*sesametest.Browser{"laptop": laptop, "phone": phone} {
			if p := b.Get(s.AuthURL(sesametest.AppD, nil)); !sesametest.IsSignInPage(p) {
				t.Errorf("alice's %s still signs in without a password (%d)", name, p.Status)
			}
		}
		if st, _ := s.UserInfo(t, atA.AccessToken); st != http.StatusUnauthorized {
			t.Errorf("app-a's access token after the reset: %d", st)
		}
		for _, c := range []struct {
			name, app, refresh string
		}{
			{"app-b's, of a live session", sesametest.AppB, atB.RefreshToken},
			{"the attacker's, of a session ended before", sesametest.AppC, stolen.RefreshToken},
		} {
			if active, _ := s.Introspect(t, c.app, c.refresh)["active"].(bool); active {
				t.Errorf("introspection: %s offline refresh token is active after the reset", c.name)
			}
			if tok := s.Refresh(t, c.app, c.refresh); tok.Status != http.StatusBadRequest || tok.Error != "invalid_grant" {
				t.Errorf("%s offline refresh token after the reset: %d %q, want 400 invalid_grant", c.name, tok.Status, tok.Error)
			}
		}
		for _, app := range []string{sesametest.AppA, sesametest.AppB} {
			got := s.Apps[app].WaitReceived(1, 5*time.Second)
			if len(got) != 1 || got[0].Subject != alice.ID {
				t.Errorf("%s got %d logout tokens (%v), want alice's one", app, len(got), got)
			}
		}
		// The attacker's session was told when it ended; no sid is left
		// to name in another logout token (B1, S3).
		if got := s.Apps[sesametest.AppC].Received(); len(got) != 1 {
			t.Errorf("app-c got %d logout tokens, want the one of its session's end", len(got))
		}
		grants, _ := s.Store.GrantsByAccount(t.Context(), alice.ID)
		if len(grants) != 3 {
			t.Errorf("alice has %d grants, want 3", len(grants))
		}
		for _, g := range grants {
			if g.RevokedAt.IsZero() {
				t.Errorf("the grant of %s survived the reset", g.ClientID)
			}
		}
		events, _ := s.Store.Events(t.Context(), 0, 100)
		signouts, revoked := 0, 0
		for _, e := range events {
			if e.AccountID != alice.ID || !strings.Contains(e.Detail, string(signout.CausePasswordChange)) {
				continue
			}
			switch e.Kind {
			case store.EventSignOut:
				signouts++
			case store.EventGrantRevoked: // the grant no session named
				revoked++
			}
		}
		if signouts != 2 || revoked != 1 {
			t.Errorf("%d sign-outs and %d grant revocations recorded as caused by the password change, want 2 and 1", signouts, revoked)
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

// A5: a person who changes their own password stays signed in where they
// did it, with the grants of that session's apps; every other session
// ends, and every other grant, offline ones of a session still live or
// already ended included.
func TestOwnPasswordChangeKeepsOnlyThatSession(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		here, there := s.NewBrowser(t), s.NewBrowser(t)
		mine := here.SignedIn(sesametest.AppA, "alice", sesametest.Offline())
		other := there.SignedIn(sesametest.AppB, "alice", sesametest.Offline())
		alice, err := s.Store.AccountByUsername(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		var keep string
		sessions, _ := s.Store.SessionsByAccount(t.Context(), alice.ID)
		for _, sess := range sessions {
			if sess.Authorizations[0].ClientID == sesametest.AppA {
				keep = sess.ID
			}
		}
		hash, err := s.Accounts.HashPassword("my own new password")
		if err != nil {
			t.Fatal(err)
		}
		reset, err := s.Signout.ResetPassword(t.Context(), signout.PasswordReset{AccountID: alice.ID, Hash: hash, Keep: keep})
		if err != nil || len(reset.Sessions) != 1 || reset.Account.PasswordHash != hash {
			t.Fatalf("reset: %d sessions ended, %v", len(reset.Sessions), err)
		}
		if p := here.Get(s.AuthURL(sesametest.AppC, nil)); sesametest.IsSignInPage(p) {
			t.Error("the kept session asks for the password again")
		}
		if tok := s.Refresh(t, sesametest.AppA, mine.RefreshToken); tok.Status != http.StatusOK {
			t.Errorf("the kept session's offline refresh token: %d %s", tok.Status, tok.Error)
		}
		if p := there.Get(s.AuthURL(sesametest.AppC, nil)); !sesametest.IsSignInPage(p) {
			t.Errorf("the other session still signs in without a password (%d)", p.Status)
		}
		if tok := s.Refresh(t, sesametest.AppB, other.RefreshToken); tok.Error != "invalid_grant" {
			t.Errorf("the other session's offline refresh token: %d %q, want invalid_grant", tok.Status, tok.Error)
		}
		if got := s.Apps[sesametest.AppB].WaitReceived(1, 5*time.Second); len(got) != 1 {
			t.Errorf("app-b got %d logout tokens, want 1", len(got))
		}
		if got := s.Apps[sesametest.AppA].Received(); len(got) != 0 {
			t.Errorf("app-a, of the kept session, got %d logout tokens", len(got))
		}
	})
}

// A5, C4: a password reset and a start's seeding of the same declared
// user, run side by side, never put the old password hash back: each
// reads and writes the account in one transaction under its lock.
func TestSeedNeverWritesBackAReplacedPassword(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		alice, err := s.Store.AccountByUsername(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		spec := sesametest.DefaultUsers()[0]
		for round := range 10 {
			hash, err := s.Accounts.HashPassword(fmt.Sprintf("password of round %d", round))
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 3)
			wg.Go(func() { _, errs[0] = s.Accounts.Upsert(t.Context(), spec) })
			wg.Go(func() {
				_, errs[1] = s.Signout.ResetPassword(t.Context(), signout.PasswordReset{AccountID: alice.ID, Hash: hash})
			})
			wg.Go(func() { _, errs[2] = s.Accounts.Upsert(t.Context(), spec) })
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if a, err := s.Store.AccountByUsername(t.Context(), "alice"); err != nil || a.PasswordHash != hash {
				t.Fatalf("round %d: the reset's hash was written over (%v)", round, err)
			}
		}
	})
}

// C4: a lock is the file's only when it declares one. A lock an admin
// sets on a declared user survives the next start, which seeds the
// file's users again; the admin may lift it. A user the file disables
// stays disabled, and the API refuses to re-enable it (409).
func TestLockOfADeclaredUserSurvivesARestart(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		before := sesametest.New(t, opts)
		robot := authorityToken(t, before, sesametest.Robot, sesametest.Secret)
		bob, err := before.Store.AccountByUsername(t.Context(), "bob")
		if err != nil {
			t.Fatal(err)
		}
		patch := func(t *testing.T, s *sesametest.Sesame, disabled bool) (int, map[string]any) {
			t.Helper()
			return authorityCall(t, s, robot, "PATCH", "/api/accounts/"+bob.ID, map[string]any{"disabled": disabled})
		}
		disabled := func(t *testing.T, s *sesametest.Sesame) bool {
			t.Helper()
			a, err := s.Store.Account(t.Context(), bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			return a.Disabled
		}
		if st, m := patch(t, before, true); st != http.StatusOK {
			t.Fatalf("lock bob: %d %v", st, m)
		}
		after := sesametest.New(t, sesametest.Options{Database: before.Config.Database})
		if !disabled(t, after) {
			t.Fatal("the restart lifted the admin's lock of bob")
		}
		b := after.NewBrowser(t)
		if p := b.Submit(b.Get(after.AuthURL(sesametest.AppA, nil)), map[string]string{"username": "bob", "password": sesametest.Password}); strings.Contains(p.Location, "code=") {
			t.Error("bob, locked, signs in after the restart")
		}
		if st, m := patch(t, after, false); st != http.StatusOK || disabled(t, after) {
			t.Fatalf("lift the lock of bob, which the file does not declare: %d %v", st, m)
		}

		// The file disables bob: the next start does, and only the file
		// may re-enable him.
		fileLocks := func(c *config.Config) {
			for i := range c.Users {
				if c.Users[i].Username == "bob" {
					c.Users[i].Disabled = true
				}
			}
		}
		locked := sesametest.New(t, sesametest.Options{Database: before.Config.Database, Configure: fileLocks})
		if !disabled(t, locked) {
			t.Fatal("the file's disabled: true did not disable bob")
		}
		if st, m := patch(t, locked, false); st != http.StatusConflict {
			t.Errorf("re-enable bob, whom the file disables: %d %v, want 409", st, m)
		}
		if st, m := patch(t, locked, true); st != http.StatusOK {
			t.Errorf("disable bob, as the file does: %d %v", st, m)
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
