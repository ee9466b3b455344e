package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// signInsSection is the "Recent sign-ins" list of a user's page.
func signInsSection(t *testing.T, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `<h2 id="sign-ins">`)
	section, _, ok2 := strings.Cut(rest, `<h2 id="sign-outs">`)
	if !ok || !ok2 {
		t.Fatalf("the page has no sign-ins section:\n%s", body)
	}
	return section
}

// A user's page lists that user's latest sign-ins and failed attempts,
// newest first and ten at most, however many events of other accounts
// the log holds since; a user who never signed in has none kept.
func TestUserSignInsAreFoundInABusyLog(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, _ := signedIn(t, s)
		bob := accountID(t, s, "bob")
		p := b.Get(s.ConsoleURL(userPath(t, s, "bob", "")))
		if section := signInsSection(t, p.Body); p.Status != http.StatusOK || !strings.Contains(section, "<li>None kept.</li>") {
			t.Fatalf("bob's page before he signed in: %d\n%s", p.Status, section)
		}

		// Twelve sign-ins of bob, the latest a failed attempt, then
		// more events of others than the page once read through.
		start := time.Now().Add(-time.Hour)
		err := s.Store.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
			for i := range 12 {
				e := store.Event{At: start.Add(time.Duration(i) * time.Minute), Kind: store.EventSignIn, AccountID: bob,
					ClientID: sesametest.AppA, Detail: "bob"}
				if i == 11 {
					e.Kind, e.ClientID, e.Detail = store.EventSignInFailed, "", "wrong password"
				}
				if err := tx.AddEvent(t.Context(), e); err != nil {
					return err
				}
			}
			for i := range 2500 {
				e := store.Event{At: start.Add(20*time.Minute + time.Duration(i)*time.Millisecond), Kind: store.EventSignIn,
					AccountID: "someone-else", ClientID: sesametest.AppB}
				if err := tx.AddEvent(t.Context(), e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		p = b.Get(s.ConsoleURL(userPath(t, s, "bob", "")))
		section := signInsSection(t, p.Body)
		if p.Status != http.StatusOK || strings.Count(section, "<li>") != 10 || strings.Count(section, "signed in to app-a") != 9 ||
			!strings.Contains(section, "a failed attempt (wrong password)") || strings.Contains(section, "app-b") {
			t.Errorf("bob's sign-ins: %d\n%s", p.Status, section)
		}
		if first, _, _ := strings.Cut(section, "</li>"); !strings.Contains(first, "a failed attempt") {
			t.Errorf("the latest sign-in is not first:\n%s", section)
		}
	})
}
