package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

const shownOnceWords = "This secret was shown once."

// m2mToken is the status of a client_credentials request of app id with
// secret.
func m2mToken(t *testing.T, s *sesametest.Sesame, id, secret string) int {
	t.Helper()
	resp, _ := s.PostForm(t, "/token", id, secret, url.Values{"grant_type": {"client_credentials"}})
	return resp.StatusCode
}

// rotations counts the audit entries of the rotations of app id's secret.
func rotations(t *testing.T, s *sesametest.Sesame, id string) int {
	t.Helper()
	entries, err := s.Store.AuditEntries(t.Context(), store.AuditFilter{TargetKind: string(audit.TargetClient), TargetID: id, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == string(audit.ClientRotateSecret) {
			n++
		}
	}
	return n
}

// A secret the console makes is shown once, on the GET its POST
// redirects to (post/redirect/get), carried there by a sealed, HttpOnly
// cookie that the page clears: a reload of that page says the secret was
// shown once, never shows it again, and makes no new app nor secret.
func TestASecretIsShownOnceAndAReloadMakesNoOther(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	b, _ := signedIn(t, s)
	ctx := t.Context()

	// Create a machine-to-machine app without an id, so that posting
	// again would make another one: the POST answers 303 with the sealed
	// secret in a cookie, and no secret in sight.
	form := b.Get(s.ConsoleURL("/console/apps/new"))
	before, err := s.Store.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.HTTP.PostForm(s.ConsoleURL("/console/apps"), url.Values{"csrf": {sesametest.ConsoleCSRF(t, form)}, "name": {"Reports"}, "type": {"m2m"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/apps/") || !strings.HasSuffix(loc, "?done=created") {
		t.Fatalf("create: %d %q, want 303 to the app's page", resp.StatusCode, loc)
	}
	checkCookie(t, resp, "sesame_console_secret")
	id, _ := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(loc, "/console/apps/"), "?done=created"))

	p := b.Get(s.ConsoleURL(loc))
	secret := shownSecret(p)
	if p.Status != http.StatusOK || secret == "" || !strings.Contains(p.Body, "The app is created") || strings.Contains(p.Body, shownOnceWords) {
		t.Fatalf("the app's page after the redirect: %d, secret %q\n%s", p.Status, secret, p.Body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "sesame_console_secret" && strings.Contains(c.Value, secret) {
			t.Errorf("the cookie holds the secret in the clear")
		}
	}
	if st := m2mToken(t, s, id, secret); st != http.StatusOK {
		t.Errorf("the shown secret at /token: %d", st)
	}

	// A reload: the secret is not shown again, nothing new is made.
	again := b.Get(s.ConsoleURL(loc))
	if again.Status != http.StatusOK || shownSecret(again) != "" || strings.Contains(again.Body, secret) || !strings.Contains(again.Body, shownOnceWords) {
		t.Errorf("the reloaded page: %d, secret %q\n%s", again.Status, shownSecret(again), again.Body)
	}
	after, err := s.Store.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Errorf("%d apps before the creation and %d after it and a reload, want one more", len(before), len(after))
	}

	// Rotate: the new secret shows on the redirect's page only; a reload
	// rotates nothing, so the shown secret keeps working.
	p = b.ConsolePost(again, "/console/apps/"+url.PathEscape(id)+"/secret", nil)
	rotated := shownSecret(p)
	if p.Status != http.StatusOK || !strings.HasSuffix(p.URL, "?done=rotated") || rotated == "" || rotated == secret ||
		!strings.Contains(p.Body, "The app has a new secret") {
		t.Fatalf("rotate: %d %s, secret %q\n%s", p.Status, p.URL, rotated, p.Body)
	}
	for range 2 {
		reload := b.Get(p.URL)
		if reload.Status != http.StatusOK || shownSecret(reload) != "" || strings.Contains(reload.Body, rotated) || !strings.Contains(reload.Body, shownOnceWords) {
			t.Errorf("the reloaded rotation: %d, secret %q\n%s", reload.Status, shownSecret(reload), reload.Body)
		}
	}
	if n := rotations(t, s, id); n != 1 {
		t.Errorf("%d rotations audited after one rotation and two reloads", n)
	}
	if st := m2mToken(t, s, id, secret); st != http.StatusUnauthorized {
		t.Errorf("the first secret after the rotation: %d, want 401", st)
	}
	if st := m2mToken(t, s, id, rotated); st != http.StatusOK {
		t.Errorf("the rotated secret after reloads: %d", st)
	}

	// The page without the notice says nothing of a secret; another
	// browser of the same admin, without the cookie, never sees it.
	if plain := b.Get(s.ConsoleURL("/console/apps/" + url.PathEscape(id))); strings.Contains(plain.Body, shownOnceWords) || shownSecret(plain) != "" {
		t.Errorf("the app's page without a notice speaks of the secret")
	}
	other, _ := signedIn(t, s)
	if p := other.Get(s.ConsoleURL(loc)); shownSecret(p) != "" || !strings.Contains(p.Body, shownOnceWords) {
		t.Errorf("another browser's page: %d, secret %q", p.Status, shownSecret(p))
	}
}

// secretCleared reports whether the answer of p clears (or sets) the
// shown-once cookie.
func secretCleared(p sesametest.Page) bool {
	for _, c := range p.Header.Values("Set-Cookie") {
		if strings.Contains(c, "sesame_console_secret=") {
			return true
		}
	}
	return false
}

// A shown-once secret belongs to the page of its app: the page of
// another app, even one that was just created or rotated, neither takes
// it nor says a secret was shown once, and the secret waits for its own
// page.
func TestASecretWaitsForItsOwnAppsPage(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	b, p := signedIn(t, s)

	// Reports is created and its secret shown and taken; then Billing is
	// created, and the browser holds Billing's secret without following
	// the redirect to Billing's page.
	p = b.ConsolePost(p, "/console/apps", url.Values{"id": {"reports"}, "name": {"Reports"}, "type": {"m2m"}})
	if p.Status != http.StatusOK || shownSecret(p) == "" {
		t.Fatalf("create reports: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	resp, err := b.HTTP.PostForm(s.ConsoleURL("/console/apps"), url.Values{"csrf": {sesametest.ConsoleCSRF(t, p)}, "id": {"billing"}, "name": {"Billing"}, "type": {"m2m"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc != "/console/apps/billing?done=created" {
		t.Fatalf("create billing: %d %q", resp.StatusCode, loc)
	}
	checkCookie(t, resp, "sesame_console_secret")

	// Reports' page, with either notice that speaks of a secret, is its
	// page as usual: no secret, no word of one shown once, Billing's
	// cookie untouched.
	for _, done := range []string{"created", "rotated"} {
		other := b.Get(s.ConsoleURL("/console/apps/reports?done=" + done))
		if other.Status != http.StatusOK || !strings.Contains(other.Body, "<h1>Reports</h1>") {
			t.Fatalf("reports' page (%s): %d\n%s", done, other.Status, other.Body)
		}
		if secret := shownSecret(other); secret != "" || strings.Contains(other.Body, shownOnceWords) || secretCleared(other) {
			t.Errorf("reports' page (%s) holding billing's secret: secret %q, says shown once %t, clears the cookie %t",
				done, secret, strings.Contains(other.Body, shownOnceWords), secretCleared(other))
		}
	}

	// Billing's page shows Billing's secret, which works; then it is gone.
	own := b.Get(s.ConsoleURL(loc))
	secret := shownSecret(own)
	if own.Status != http.StatusOK || secret == "" || strings.Contains(own.Body, shownOnceWords) || !secretCleared(own) {
		t.Fatalf("billing's page after reports' pages: %d, secret %q\n%s", own.Status, secret, own.Body)
	}
	if st := m2mToken(t, s, "billing", secret); st != http.StatusOK {
		t.Errorf("billing's secret at /token: %d", st)
	}
	if again := b.Get(s.ConsoleURL(loc)); shownSecret(again) != "" || !strings.Contains(again.Body, shownOnceWords) {
		t.Errorf("billing's page reloaded: %d, secret %q", again.Status, shownSecret(again))
	}
}
