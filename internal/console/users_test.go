package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// userPath is the console address of a user's page, or of one of its
// actions (suffix "/password"...).
func userPath(t *testing.T, s *sesametest.Sesame, username, suffix string) string {
	t.Helper()
	return "/console/users/" + accountID(t, s, username) + suffix
}

// auditedByAlice checks that account username's audit log holds action,
// made by alice acting as an admin (C5), from an address.
func auditedByAlice(t *testing.T, s *sesametest.Sesame, username string, action audit.Action) {
	t.Helper()
	entries, err := s.Store.AuditEntries(t.Context(), store.AuditFilter{AccountID: accountID(t, s, username), Action: string(action), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Errorf("no %s entry about %s", action, username)
	}
	for _, e := range entries {
		if e.ActorKind != string(audit.ActorAdminAccount) || e.ActorID != accountID(t, s, "alice") || e.Address == "" {
			t.Errorf("%s about %s by %s %s from %q, want alice as %s", action, username, e.ActorKind, e.ActorID, e.Address, audit.ActorAdminAccount)
		}
	}
}

// loggedOut waits for app to accept a logout token about account id, and
// reports whether one came.
func loggedOut(app *sesametest.App, id string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if slices.ContainsFunc(app.Received(), func(l sesametest.Logout) bool { return l.Subject == id }) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// An admin finds users by the start of their username (any case) or
// email, creates one (refused in words for a taken name or a short
// password), and sees the new user's page; the creation is audited with
// alice as its actor.
func TestAnAdminFindsAndCreatesUsers(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, p := signedIn(t, s)
		alice, bob := userPath(t, s, "alice", ""), userPath(t, s, "bob", "")

		p = b.Get(s.ConsoleURL("/console/users"))
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `href="`+alice+`"`) || !strings.Contains(p.Body, `href="`+bob+`"`) ||
			!strings.Contains(p.Body, `<a href="/console/users" aria-current="page">Users</a>`) {
			t.Fatalf("the user list: %d\n%s", p.Status, p.Body)
		}
		for _, c := range []struct{ q, finds, not string }{
			{"BO", bob, alice},
			{"alice@EXAMPLE", alice, bob},
		} {
			got := b.Get(s.ConsoleURL("/console/users?q=" + url.QueryEscape(c.q)))
			if got.Status != http.StatusOK || !strings.Contains(got.Body, `href="`+c.finds+`"`) || strings.Contains(got.Body, `href="`+c.not+`"`) {
				t.Errorf("search %q: %d\n%s", c.q, got.Status, got.Body)
			}
		}
		if got := b.Get(s.ConsoleURL("/console/users?q=nobody")); !strings.Contains(got.Body, "No user's username or email starts with") {
			t.Errorf("a search that finds nobody: %d\n%s", got.Status, got.Body)
		}

		p = b.Get(s.ConsoleURL("/console/users/new"))
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `action="/console/users"`) {
			t.Fatalf("the create form: %d\n%s", p.Status, p.Body)
		}
		p = b.ConsolePost(p, "/console/users", url.Values{"username": {"carol"}, "password": {sesametest.Password},
			"name": {"Carol Example"}, "email": {"carol@example.com"}, "email_verified": {"on"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The user is created") || !strings.Contains(p.Body, "<h1>carol</h1>") {
			t.Fatalf("create: %d %s\n%s", p.Status, p.URL, p.Body)
		}
		carol, err := s.Store.AccountByUsername(t.Context(), "carol")
		if err != nil || carol.Name != "Carol Example" || carol.Email != "carol@example.com" || !carol.EmailVerified || carol.Disabled {
			t.Fatalf("stored: %+v %v", carol, err)
		}
		if !strings.HasSuffix(p.URL, "/console/users/"+carol.ID+"?done=created") {
			t.Errorf("the answer is %s, not carol's page", p.URL)
		}
		if _, err := s.Accounts.Authenticate(t.Context(), "carol", sesametest.Password, "192.0.2.1"); err != nil {
			t.Errorf("carol cannot sign in with the password given: %v", err)
		}
		auditedByAlice(t, s, "carol", audit.AccountCreate)

		// Refusals in words, the form kept (never the password).
		for _, c := range []struct {
			fields url.Values
			words  string
		}{
			{url.Values{"username": {"CAROL"}, "password": {sesametest.Password}, "name": {"Again"}}, "That username is taken"},
			{url.Values{"username": {"dave"}, "password": {"short"}, "name": {"Dave"}}, "at least 8 characters"},
			{url.Values{"username": {""}, "password": {sesametest.Password}}, "Type a username"},
		} {
			got := b.ConsolePost(p, "/console/users", c.fields)
			if got.Status != http.StatusBadRequest || !strings.Contains(got.Body, c.words) || strings.Contains(got.Body, c.fields.Get("password")) ||
				(c.fields.Get("name") != "" && !strings.Contains(got.Body, `value="`+c.fields.Get("name")+`"`)) {
				t.Errorf("create %v: %d\n%s", c.fields, got.Status, got.Body)
			}
		}
		if _, err := s.Store.AccountByUsername(t.Context(), "dave"); err == nil {
			t.Error("a refused user was created")
		}

		// The profile is edited on the user's page.
		p = b.ConsolePost(p, "/console/users/"+carol.ID, url.Values{"name": {"Carol C"}, "email": {"cc@example.com"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The changes are saved") {
			t.Fatalf("edit the profile: %d\n%s", p.Status, p.Body)
		}
		if got, _ := s.Store.Account(t.Context(), carol.ID); got.Name != "Carol C" || got.Email != "cc@example.com" || got.EmailVerified {
			t.Errorf("after the edit: %+v", got)
		}
		auditedByAlice(t, s, "carol", audit.AccountUpdate)
	})
}

// A5: an admin resets a password: the new one works and the old one no
// longer does, every session of the user ends, their tokens die, and a
// back-channel app hears of it. Two passwords that differ change nothing.
func TestResettingAPasswordEndsTheUsersSessions(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		bobID := accountID(t, s, "bob")
		laptop := s.NewBrowser(t)
		tok := laptop.SignedIn(sesametest.AppA, "bob", sesametest.Offline())
		phone := s.NewBrowser(t)
		phone.SignedIn(sesametest.AppB, "bob", nil)
		b, p := signedIn(t, s)

		p = b.Get(s.ConsoleURL(userPath(t, s, "bob", "")))
		if p.Status != http.StatusOK || strings.Count(p.Body, "Sign out this device") != 2 {
			t.Fatalf("bob's page: %d\n%s", p.Status, p.Body)
		}
		got := b.ConsolePost(p, userPath(t, s, "bob", "/password"), url.Values{"password": {"n3w-passw0rd-for-bob"}, "password_again": {"n3w-passw0rd-for-b0b"}})
		if got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "The two passwords differ") {
			t.Errorf("passwords that differ: %d\n%s", got.Status, got.Body)
		}
		if sessions, _ := s.Store.SessionsByAccount(t.Context(), bobID); len(sessions) != 2 {
			t.Fatalf("a refused reset ended sessions: %d left", len(sessions))
		}

		p = b.ConsolePost(p, userPath(t, s, "bob", "/password"), url.Values{"password": {"n3w-passw0rd-for-bob"}, "password_again": {"n3w-passw0rd-for-bob"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The password is reset") || strings.Contains(p.Body, "n3w-passw0rd") {
			t.Fatalf("reset: %d\n%s", p.Status, p.Body)
		}
		if _, err := s.Accounts.Authenticate(t.Context(), "bob", "n3w-passw0rd-for-bob", "192.0.2.1"); err != nil {
			t.Errorf("the new password: %v", err)
		}
		if _, err := s.Accounts.Authenticate(t.Context(), "bob", sesametest.Password, "192.0.2.1"); err == nil {
			t.Error("the old password still works")
		}
		if sessions, _ := s.Store.SessionsByAccount(t.Context(), bobID); len(sessions) != 0 {
			t.Errorf("%d sessions outlived the reset", len(sessions))
		}
		for _, id := range []string{sesametest.AppA, sesametest.AppB} {
			if !loggedOut(s.Apps[id], bobID) {
				t.Errorf("%s was not told by back-channel", id)
			}
		}
		// The offline grant dies too (A5), whatever a sign-out keeps.
		if refreshed := s.Refresh(t, sesametest.AppA, tok.RefreshToken); refreshed.Status != http.StatusBadRequest {
			t.Errorf("the refresh token after the reset: %d", refreshed.Status)
		}
		if st, _ := s.UserInfo(t, tok.AccessToken); st != http.StatusUnauthorized {
			t.Errorf("the access token after the reset: %d", st)
		}
		if !strings.Contains(p.Body, "Not signed in anywhere") || !strings.Contains(p.Body, "a password change or reset") {
			t.Errorf("bob's page after the reset shows devices or lacks the sign-outs:\n%s", p.Body)
		}
		auditedByAlice(t, s, "bob", audit.AccountPasswordChange)
	})
}

// O6, S4: locking a user ends their devices, tells their apps, and stops
// their single sign-on: the next authorization request asks for a
// sign-in, which is refused. Unlocking lets them in again.
func TestLockingAUserStopsTheirSSO(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		bobID := accountID(t, s, "bob")
		person := s.NewBrowser(t)
		person.SignedIn(sesametest.AppA, "bob", nil)
		if cb := person.SignIn(sesametest.AppB, "bob", nil); cb.Code == "" {
			t.Fatalf("no single sign-on before the lock: %q", cb.Error)
		}
		b, _ := signedIn(t, s)
		p := b.Get(s.ConsoleURL(userPath(t, s, "bob", "")))
		p = b.ConsolePost(p, userPath(t, s, "bob", "/lock"), nil)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The user is locked") || !strings.Contains(p.Body, `action="`+userPath(t, s, "bob", "/unlock")+`"`) {
			t.Fatalf("lock: %d\n%s", p.Status, p.Body)
		}
		if acct, _ := s.Store.Account(t.Context(), bobID); !acct.Disabled {
			t.Fatal("bob is not disabled")
		}
		if !loggedOut(s.Apps[sesametest.AppA], bobID) || !loggedOut(s.Apps[sesametest.AppB], bobID) {
			t.Error("bob's apps were not told")
		}
		again := person.Get(s.AuthURL(sesametest.AppC, nil))
		if !sesametest.IsSignInPage(again) {
			t.Fatalf("single sign-on after the lock: %d %s", again.Status, again.Location)
		}
		if refused := person.Submit(again, map[string]string{"username": "bob", "password": sesametest.Password}); refused.Location != "" || sesametest.IsConsentPage(refused) {
			t.Errorf("a locked user signed in: %d %s", refused.Status, refused.Location)
		}
		auditedByAlice(t, s, "bob", audit.AccountDisable)

		p = b.ConsolePost(p, userPath(t, s, "bob", "/unlock"), nil)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The user is unlocked") {
			t.Fatalf("unlock: %d\n%s", p.Status, p.Body)
		}
		if cb := person.SignIn(sesametest.AppC, "bob", nil); cb.Code == "" {
			t.Errorf("bob after the unlock: %q", cb.Error)
		}
		auditedByAlice(t, s, "bob", audit.AccountEnable)
	})
}

// R1, C5: an admin gives a user roles among those that exist (the
// built-in admin role among them) and takes them away; an unknown role is
// refused. Removing one's own admin role asks first, then closes the
// console.
func TestAnAdminAssignsRoles(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts).WithOrders())
		bobID := accountID(t, s, "bob")
		b, p := signedIn(t, s)
		p = b.Get(s.ConsoleURL(userPath(t, s, "bob", "")))
		for _, want := range []string{`name="role" value="admin"`, `name="role" value="orders-reader"`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("bob's roles form lacks %s", want)
			}
		}
		p = b.ConsolePost(p, userPath(t, s, "bob", "/roles"), url.Values{"role": {sesametest.OrdersReader, "admin"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "The roles are saved") {
			t.Fatalf("assign: %d\n%s", p.Status, p.Body)
		}
		if roles, _ := s.Store.AccountRoles(t.Context(), bobID); !slices.Equal(roles, []string{"admin", sesametest.OrdersReader}) {
			t.Errorf("bob holds %v", roles)
		}
		auditedByAlice(t, s, "bob", audit.RolesAssign)
		if got := b.ConsolePost(p, userPath(t, s, "bob", "/roles"), url.Values{"role": {"no-such-role"}}); got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "no role no-such-role") {
			t.Errorf("an unknown role: %d\n%s", got.Status, got.Body)
		}

		// Bob, an admin now, takes his own role away: asked first.
		bobs := s.NewBrowser(t)
		if open := bobs.OpenConsole("bob"); open.Status != http.StatusOK {
			t.Fatalf("bob opening the console as an admin: %d\n%s", open.Status, open.Body)
		}
		own := bobs.Get(s.ConsoleURL(userPath(t, s, "bob", "")))
		if !strings.Contains(own.Body, "This is you: without it the console closes to you at once") {
			t.Errorf("no warning beside bob's own admin role:\n%s", own.Body)
		}
		asked := bobs.ConsolePost(own, userPath(t, s, "bob", "/roles"), url.Values{"role": {sesametest.OrdersReader}})
		if asked.Status != http.StatusBadRequest || !strings.Contains(asked.Body, "You are removing your own admin role") || !strings.Contains(asked.Body, `name="confirm_self"`) {
			t.Fatalf("removing one's own admin role: %d\n%s", asked.Status, asked.Body)
		}
		if roles, _ := s.Store.AccountRoles(t.Context(), bobID); !slices.Contains(roles, "admin") {
			t.Fatal("the role went before bob confirmed")
		}
		gone := bobs.ConsolePost(asked, userPath(t, s, "bob", "/roles"), url.Values{"role": {sesametest.OrdersReader}, "confirm_self": {"yes"}})
		if gone.Status != http.StatusOK || !strings.Contains(gone.Body, "Your admin role is removed") {
			t.Fatalf("confirmed: %d\n%s", gone.Status, gone.Body)
		}
		if roles, _ := s.Store.AccountRoles(t.Context(), bobID); !slices.Equal(roles, []string{sesametest.OrdersReader}) {
			t.Errorf("bob holds %v", roles)
		}
		if next := bobs.Get(s.ConsoleURL("/console/users")); next.Status != http.StatusForbidden || !strings.Contains(next.Body, notAdminWords) {
			t.Errorf("the console after bob's own role went: %d", next.Status)
		}
	})
}

// The grant of a form's hidden input, the session of another.
var (
	grantInput   = regexp.MustCompile(`<input type="hidden" name="grant" value="([^"]+)">`)
	sessionInput = regexp.MustCompile(`<input type="hidden" name="session" value="([^"]+)">`)
)

// O7, O6, O9: a user's page shows each device with its apps and each
// connected app with whether it survives a sign-out and why; the admin
// signs the user out of one app, then of one device, each answered by its
// receipt (what ended, which apps were told, the delivery's fate), then
// of every device.
func TestEachSignOutLayerFromTheConsole(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		bobID := accountID(t, s, "bob")
		laptop := s.NewBrowser(t)
		laptop.SignedIn(sesametest.AppA, "bob", sesametest.Offline())
		laptop.SignedIn(sesametest.AppB, "bob", nil)
		phone := s.NewBrowser(t)
		phone.SignedIn(sesametest.AppC, "bob", nil)
		b, p := signedIn(t, s)

		p = b.Get(s.ConsoleURL(userPath(t, s, "bob", "")))
		if p.Status != http.StatusOK || len(sessionInput.FindAllString(p.Body, -1)) != 2 || len(grantInput.FindAllString(p.Body, -1)) != 3 {
			t.Fatalf("bob's page: %d\n%s", p.Status, p.Body)
		}
		if !strings.Contains(p.Body, "Apps: app-a, app-b") && !strings.Contains(p.Body, "Apps: app-b, app-a") {
			t.Errorf("the laptop's apps are not listed:\n%s", p.Body)
		}
		for _, want := range []string{"survives sign-out</span> It holds offline_access", "ends at sign-out</span> It has no offline_access",
			"signed in to app-c"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("bob's page lacks %q", want)
			}
		}

		grants, _ := s.Store.GrantsByAccount(t.Context(), bobID)
		var appB string
		for _, g := range grants {
			if g.ClientID == sesametest.AppB {
				appB = g.ID
			}
		}
		// One app: app-b's grant, on the laptop.
		rec := b.ConsolePost(p, userPath(t, s, "bob", "/sign-out-app"), url.Values{"grant": {appB}})
		if rec.Status != http.StatusOK || !strings.Contains(rec.URL, "/console/receipts/") || !strings.Contains(rec.Body, "The user is signed out of the app") ||
			!strings.Contains(rec.Body, "<strong>app-b</strong>") || !strings.Contains(rec.Body, "Its grant and tokens are revoked") {
			t.Fatalf("sign out of one app: %d %s\n%s", rec.Status, rec.URL, rec.Body)
		}
		if g, _ := s.Store.Grant(t.Context(), appB); g.RevokedAt.IsZero() {
			t.Error("app-b's grant stands")
		}
		if !loggedOut(s.Apps[sesametest.AppB], bobID) {
			t.Error("app-b was not told")
		}
		if again := eventually(b, rec.URL, "delivered: the app accepted the logout token"); again == "" {
			t.Errorf("the receipt never shows the delivery delivered")
		}
		if cb := laptop.SignIn(sesametest.AppA, "bob", nil); cb.Code == "" {
			t.Errorf("signing out of app-b signed the laptop out of app-a: %q", cb.Error)
		}

		// One device: the phone.
		sessions, _ := s.Store.SessionsByAccount(t.Context(), bobID)
		var phoneSession string
		for _, sess := range sessions {
			if slices.ContainsFunc(sess.Authorizations, func(a store.Authorization) bool { return a.ClientID == sesametest.AppC }) {
				phoneSession = sess.ID
			}
		}
		rec = b.ConsolePost(p, userPath(t, s, "bob", "/sign-out-device"), url.Values{"session": {phoneSession}})
		if rec.Status != http.StatusOK || !strings.Contains(rec.Body, "The device is signed out") || !strings.Contains(rec.Body, "One device, every app on it") ||
			!strings.Contains(rec.Body, "<strong>app-c</strong>") || !strings.Contains(rec.Body, "<dt>Started by</dt><dd>an admin") {
			t.Fatalf("sign out of one device: %d\n%s", rec.Status, rec.Body)
		}
		if _, err := s.Store.Session(t.Context(), phoneSession); err == nil {
			t.Error("the phone's session stands")
		}
		if !loggedOut(s.Apps[sesametest.AppC], bobID) {
			t.Error("app-c was not told")
		}
		if cb := laptop.SignIn(sesametest.AppB, "bob", nil); cb.Code == "" {
			t.Errorf("signing the phone out signed the laptop out: %q", cb.Error)
		}
		auditedByAlice(t, s, "bob", audit.GrantRevoke)
		auditedByAlice(t, s, "bob", audit.SessionRevoke)

		// Every device.
		p = b.Get(s.ConsoleURL(userPath(t, s, "bob", "")))
		p = b.ConsolePost(p, userPath(t, s, "bob", "/sign-out"), nil)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "Every device of the user is signed out") || !strings.Contains(p.Body, "Not signed in anywhere") {
			t.Fatalf("sign out every device: %d\n%s", p.Status, p.Body)
		}
		if sessions, _ := s.Store.SessionsByAccount(t.Context(), bobID); len(sessions) != 0 {
			t.Errorf("%d sessions outlived the sign-out everywhere", len(sessions))
		}
		if !loggedOut(s.Apps[sesametest.AppA], bobID) {
			t.Error("app-a was not told")
		}
		// O4: the offline grant of app-a survives; the page says why.
		if !strings.Contains(p.Body, "survives sign-out</span> It holds offline_access") {
			t.Errorf("the surviving offline grant is not shown:\n%s", p.Body)
		}
		// Each sign-out is listed, linked to its receipt.
		recs, _ := s.Store.ReceiptsByAccount(t.Context(), bobID, 10)
		if len(recs) < 3 {
			t.Fatalf("%d receipts", len(recs))
		}
		for _, r := range recs {
			if !strings.Contains(p.Body, `href="/console/receipts/`+r.ID+`"`) {
				t.Errorf("receipt %s (%s) is not linked", r.ID, r.Scope)
			}
		}
		auditedByAlice(t, s, "bob", audit.AccountSignOutEverywhere)
		if got := b.Get(s.ConsoleURL("/console/receipts/nobody")); got.Status != http.StatusNotFound {
			t.Errorf("an unknown receipt: %d", got.Status)
		}
	})
}

// eventually reloads u in b until its page contains want, for up to five
// seconds; it returns the page, or "" when want never came.
func eventually(b *sesametest.Browser, u, want string) string {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if p := b.Get(u); strings.Contains(p.Body, want) {
			return p.Body
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ""
}

// An admin may sign a user out of a device or an app of that user only:
// another user's session or grant, posted on this user's page, is not
// found, and nothing ends.
func TestSignOutsStayOnTheirUser(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	person := s.NewBrowser(t)
	person.SignedIn(sesametest.AppA, "bob", nil)
	bobID := accountID(t, s, "bob")
	sessions, _ := s.Store.SessionsByAccount(t.Context(), bobID)
	grants, _ := s.Store.GrantsByAccount(t.Context(), bobID)
	if len(sessions) != 1 || len(grants) != 1 {
		t.Fatalf("bob has %d sessions, %d grants", len(sessions), len(grants))
	}
	b, p := signedIn(t, s)
	for path, fields := range map[string]url.Values{
		"/sign-out-device": {"session": {sessions[0].ID}},
		"/sign-out-app":    {"grant": {grants[0].ID}},
	} {
		if got := b.ConsolePost(p, userPath(t, s, "alice", path), fields); got.Status != http.StatusNotFound {
			t.Errorf("%s of bob's on alice's page: %d\n%s", path, got.Status, got.Body)
		}
	}
	if _, err := s.Store.Session(t.Context(), sessions[0].ID); err != nil {
		t.Errorf("bob's session ended: %v", err)
	}
	if g, _ := s.Store.Grant(t.Context(), grants[0].ID); !g.RevokedAt.IsZero() {
		t.Error("bob's grant was revoked")
	}
}

// C4: a user the configuration file declares shows its declared fields
// read-only, and the console refuses to change them (the profile, the
// roles the file lists, an unlock of a user the file locks); its password
// and lock stay the console's.
func TestDeclaredUsersAreReadOnly(t *testing.T) {
	opts := admins(sesametest.Options{Configure: func(c *config.Config) {
		c.Users = append(c.Users, account.Spec{Username: "dora", Password: sesametest.Password, Disabled: true})
	}})
	s := sesametest.New(t, opts)
	b, p := signedIn(t, s)
	aliceID := accountID(t, s, "alice")
	before, _ := s.Store.Account(t.Context(), aliceID)

	p = b.Get(s.ConsoleURL(userPath(t, s, "alice", "")))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "declared in the configuration file") ||
		strings.Contains(p.Body, `action="/console/users/`+aliceID+`"`) || strings.Contains(p.Body, `action="/console/users/`+aliceID+`/roles"`) ||
		!strings.Contains(p.Body, `action="/console/users/`+aliceID+`/password"`) || !strings.Contains(p.Body, `action="/console/users/`+aliceID+`/lock"`) {
		t.Fatalf("a declared user's page: %d\n%s", p.Status, p.Body)
	}
	for path, fields := range map[string]url.Values{
		"":       {"name": {"Mallory"}, "email": {"mallory@example.com"}},
		"/roles": {"role": {"admin"}, "confirm_self": {"yes"}},
	} {
		got := b.ConsolePost(p, userPath(t, s, "alice", path), fields)
		if got.Status != http.StatusConflict || !strings.Contains(got.Body, "configuration file") {
			t.Errorf("POST %s: %d\n%s", path, got.Status, got.Body)
		}
	}
	if got := b.ConsolePost(p, userPath(t, s, "dora", "/unlock"), nil); got.Status != http.StatusConflict || !strings.Contains(got.Body, "which sets their lock") {
		t.Errorf("unlock a user the file locks: %d\n%s", got.Status, got.Body)
	}
	after, _ := s.Store.Account(t.Context(), aliceID)
	if after.Name != before.Name || after.Email != before.Email {
		t.Errorf("a declared user changed: %+v", after)
	}
	if dora, _ := s.Store.AccountByUsername(t.Context(), "dora"); !dora.Disabled {
		t.Error("dora was unlocked")
	}
	// The password is not the file's once the user exists (C4, A5).
	bob := b.Get(s.ConsoleURL(userPath(t, s, "bob", "")))
	if got := b.ConsolePost(bob, userPath(t, s, "bob", "/password"), url.Values{"password": {"a new password"}, "password_again": {"a new password"}}); got.Status != http.StatusOK {
		t.Errorf("reset a declared user's password: %d\n%s", got.Status, got.Body)
	}
}

// A person without the admin role who posts each users action with real
// fields and real ids is refused, and nothing changes; a cross-site post
// of an admin's is refused too.
func TestUserActionsAreRefusedToNonAdminsAndOtherSites(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	carol, err := s.Accounts.Create(t.Context(), account.Spec{Username: "carol", Password: sesametest.Password, Name: "Carol"})
	if err != nil {
		t.Fatal(err)
	}
	victim := s.NewBrowser(t)
	victim.SignedIn(sesametest.AppA, "carol", nil)
	sessions, _ := s.Store.SessionsByAccount(t.Context(), carol.ID)
	grants, _ := s.Store.GrantsByAccount(t.Context(), carol.ID)
	if len(sessions) != 1 || len(grants) != 1 {
		t.Fatalf("carol has %d sessions, %d grants", len(sessions), len(grants))
	}
	actions := map[string]url.Values{
		"":                 {"name": {"Mallory"}, "email": {"mallory@example.com"}},
		"/password":        {"password": {"taken over!"}, "password_again": {"taken over!"}},
		"/lock":            nil,
		"/roles":           {"role": {"admin"}},
		"/sign-out":        nil,
		"/sign-out-device": {"session": {sessions[0].ID}},
		"/sign-out-app":    {"grant": {grants[0].ID}},
	}
	check := func(t *testing.T) {
		t.Helper()
		after, _ := s.Store.Account(t.Context(), carol.ID)
		if after.Name != carol.Name || after.Email != carol.Email || after.PasswordHash != carol.PasswordHash || after.Disabled {
			t.Errorf("carol changed: %+v", after)
		}
		if roles, _ := s.Store.AccountRoles(t.Context(), carol.ID); len(roles) != 0 {
			t.Errorf("carol holds %v", roles)
		}
		if _, err := s.Store.Session(t.Context(), sessions[0].ID); err != nil {
			t.Errorf("carol's session ended: %v", err)
		}
		if g, _ := s.Store.Grant(t.Context(), grants[0].ID); !g.RevokedAt.IsZero() {
			t.Error("carol's grant was revoked")
		}
		if _, err := s.Store.AccountByUsername(t.Context(), "bobs-friend"); err == nil {
			t.Error("a user was created")
		}
	}

	bob := s.NewBrowser(t)
	refusal := bob.OpenConsole("bob")
	for path, fields := range actions {
		if got := bob.ConsolePost(refusal, "/console/users/"+carol.ID+path, fields); got.Status != http.StatusForbidden || !strings.Contains(got.Body, notAdminWords) {
			t.Errorf("bob posting %s: %d\n%s", path, got.Status, got.Body)
		}
	}
	if got := bob.ConsolePost(refusal, "/console/users", url.Values{"username": {"bobs-friend"}, "password": {sesametest.Password}}); got.Status != http.StatusForbidden {
		t.Errorf("bob creating a user: %d", got.Status)
	}
	for _, path := range []string{"/console/users", "/console/users/new", "/console/users/" + carol.ID} {
		if got := bob.Get(s.ConsoleURL(path)); got.Status != http.StatusForbidden || strings.Contains(got.Body, "carol") {
			t.Errorf("bob reading %s: %d", path, got.Status)
		}
	}
	check(t)

	admin, p := signedIn(t, s)
	for path, fields := range actions {
		if got := admin.ConsolePostFrom("cross-site", p, "/console/users/"+carol.ID+path, fields); got.Status != http.StatusForbidden || !strings.Contains(got.Body, crossSiteWords) {
			t.Errorf("a cross-site post to %s: %d\n%s", path, got.Status, got.Body)
		}
	}
	if got := admin.ConsolePostFrom("cross-site", p, "/console/users", url.Values{"username": {"bobs-friend"}, "password": {sesametest.Password}}); got.Status != http.StatusForbidden {
		t.Errorf("a cross-site create: %d", got.Status)
	}
	check(t)
}
