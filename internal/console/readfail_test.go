package console_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/console"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// readFails are the two ways a read the tests make fail can fail: the
// database stops answering, or the record is gone, worded as the SQL
// store words it.
var readFails = []struct {
	name string
	err  func(what string) error
}{
	{"the database stops answering", func(string) error { return errDatabase }},
	{"the record is gone", func(what string) error { return fmt.Errorf("read %s: %w", what, store.ErrNotFound) }},
}

// failingClientRead is a store whose read of one app fails with err;
// every other read is the store's.
type failingClientRead struct {
	store.Store
	id  string
	err error
}

func (f failingClientRead) Client(ctx context.Context, id string) (store.Client, error) {
	if id == f.id {
		return store.Client{}, f.err
	}
	return f.Store.Client(ctx, id)
}

// failingAccountRead is a store whose read of one account by id fails
// with err; every other read is the store's.
type failingAccountRead struct {
	store.Store
	id  string
	err error
}

func (f failingAccountRead) Account(ctx context.Context, id string) (store.Account, error) {
	if id == f.id {
		return store.Account{}, f.err
	}
	return f.Store.Account(ctx, id)
}

// Whether an offline grant survives a sign-out is its app's setting
// (O4): a user's page whose app cannot be read answers the console's
// error page and logs why, never the grant described as ending at
// sign-out. An app that is gone is read as one without the setting, as
// before.
func TestAUsersPageAnswersAFailedAppRead(t *testing.T) {
	const (
		survives = "survives sign-out</span> It holds offline_access"
		ends     = "It holds offline_access, but the app has offline_survives_signout turned off"
	)
	for _, c := range readFails {
		t.Run(c.name, func(t *testing.T) {
			s := sesametest.New(t, admins(sesametest.Options{}))
			s.NewBrowser(t).SignedIn(sesametest.AppA, "bob", sesametest.Offline())
			b, _ := signedIn(t, s)
			page := s.ConsoleURL(userPath(t, s, "bob", ""))
			if p := b.Get(page); p.Status != http.StatusOK || !strings.Contains(p.Body, survives) {
				t.Fatalf("bob's page, read as it should be: %d\n%s", p.Status, p.Body)
			}

			var logged bytes.Buffer
			console.LogTo(s.Console, slog.New(slog.NewTextHandler(&logged, nil)))
			err := c.err("client " + sesametest.AppA)
			console.ReadThrough(s.Console, func(st store.Store) store.Store {
				return failingClientRead{Store: st, id: sesametest.AppA, err: err}
			})
			p := b.Get(page)
			if err == errDatabase {
				if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "Sesame is busy or unavailable") ||
					strings.Contains(p.Body, ends) || strings.Contains(p.Body, survives) {
					t.Errorf("bob's page, app-a unread: %d\n%s", p.Status, p.Body)
				}
				if !strings.Contains(logged.String(), errDatabase.Error()) || !strings.Contains(logged.String(), "level=ERROR") {
					t.Errorf("the failed read is not logged as an error: %q", logged.String())
				}
				return
			}
			if p.Status != http.StatusOK || !strings.Contains(p.Body, ends) {
				t.Errorf("bob's page, app-a gone: %d\n%s", p.Status, p.Body)
			}
			if strings.Contains(logged.String(), "level=ERROR") {
				t.Errorf("a gone app is logged as an error: %q", logged.String())
			}
		})
	}
}

// A sign-out receipt names its account by username; when the account
// cannot be read, it answers the console's error page and logs why,
// rather than name the account by its id as if it were gone. An account
// that is gone is named by its id, as before.
func TestAReceiptAnswersAFailedAccountRead(t *testing.T) {
	for _, c := range readFails {
		t.Run(c.name, func(t *testing.T) {
			s := sesametest.New(t, admins(sesametest.Options{}))
			bobID := signOutGlobally(t, s, "bob")
			recs, err := s.Store.ReceiptsByAccount(t.Context(), bobID, 10)
			if err != nil || len(recs) == 0 {
				t.Fatalf("bob's receipts: %v, %d", err, len(recs))
			}
			b, _ := signedIn(t, s)
			receipt := s.ConsoleURL("/console/receipts/" + recs[0].ID)
			user := func(name string) string {
				return `<dt>User</dt><dd><a href="/console/users/` + html.EscapeString(bobID) + `">` + html.EscapeString(name) + `</a></dd>`
			}
			if p := b.Get(receipt); p.Status != http.StatusOK || !strings.Contains(p.Body, user("bob")) {
				t.Fatalf("bob's receipt, read as it should be: %d\n%s", p.Status, p.Body)
			}

			var logged bytes.Buffer
			console.LogTo(s.Console, slog.New(slog.NewTextHandler(&logged, nil)))
			readErr := c.err("account " + bobID)
			console.ReadThrough(s.Console, func(st store.Store) store.Store {
				return failingAccountRead{Store: st, id: bobID, err: readErr}
			})
			p := b.Get(receipt)
			if readErr == errDatabase {
				if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "Sesame is busy or unavailable") ||
					strings.Contains(p.Body, user(bobID)) {
					t.Errorf("bob's receipt, his account unread: %d\n%s", p.Status, p.Body)
				}
				if !strings.Contains(logged.String(), errDatabase.Error()) || !strings.Contains(logged.String(), "level=ERROR") {
					t.Errorf("the failed read is not logged as an error: %q", logged.String())
				}
				return
			}
			if p.Status != http.StatusOK || !strings.Contains(p.Body, user(bobID)) {
				t.Errorf("bob's receipt, his account gone: %d\n%s", p.Status, p.Body)
			}
			if strings.Contains(logged.String(), "level=ERROR") {
				t.Errorf("a gone account is logged as an error: %q", logged.String())
			}
		})
	}
}
