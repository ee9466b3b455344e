package console_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/console"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// signOutGlobally signs username in to app-a in a browser of their own and
// then out of Sesame on the end-session confirm page (O4): one password
// sign-in and one sign-out of the browser layer. It returns the account's
// id.
func signOutGlobally(t *testing.T, s *sesametest.Sesame, username string) string {
	t.Helper()
	person := s.NewBrowser(t)
	if cb := person.SignIn(sesametest.AppA, username, nil); cb.Code == "" {
		t.Fatalf("%s signing in to app-a: %q", username, cb.Error)
	}
	confirm := person.Get(s.Issuer + "/session/end")
	if !strings.Contains(confirm.Body, `name="xsrf"`) {
		t.Fatalf("no confirm page: %d\n%s", confirm.Status, confirm.Body)
	}
	if done := person.Submit(confirm, map[string]string{"logout": "true"}); done.Status != http.StatusOK {
		t.Fatalf("global sign-out: %d\n%s", done.Status, done.Body)
	}
	return accountID(t, s, username)
}

var (
	// styleAttr and handlerAttr find what a strict CSP would refuse or an
	// inline script would need: a style attribute, an event handler.
	styleAttr   = regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)
	handlerAttr = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	svgRe       = regexp.MustCompile(`(?s)<svg .*?</svg>`)
	entryRe     = regexp.MustCompile(`<li class="entry">`)
)

// checkStrict fails unless page p is served under a CSP that allows no
// script and carries nothing that one would be needed for.
func checkStrict(t *testing.T, what string, p sesametest.Page) {
	t.Helper()
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: CSP %q", what, csp)
	}
	if strings.Contains(strings.ToLower(p.Body), "<script") || styleAttr.MatchString(p.Body) || handlerAttr.MatchString(p.Body) {
		t.Errorf("%s: a script, a style attribute or an event handler in the page", what)
	}
	if !strings.Contains(p.Body, `name="viewport"`) {
		t.Errorf("%s: no viewport", what)
	}
}

// An admin sees the charts of each span after a sign-in and a sign-out
// were counted: each drawn inline as SVG (no script, no style attribute:
// the page's strict CSP applies to it), titled and described, with its
// figures in a table under it; the span links say which is shown.
func TestAnAdminSeesTheCharts(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, _ := signedIn(t, s) // alice's password sign-in
		signOutGlobally(t, s, "bob")
		if err := s.Activity.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ span, phrase, name string }{
			{"", "last 24 hours", "Last 24 hours"},
			{"24h", "last 24 hours", "Last 24 hours"},
			{"7d", "last 7 days", "Last 7 days"},
			{"30d", "last 30 days", "Last 30 days"},
		} {
			path := "/console/activity"
			if c.span != "" {
				path += "?span=" + c.span
			}
			p := b.Get(s.ConsoleURL(path))
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "<h1>Activity</h1>") {
				t.Fatalf("%s: %d\n%s", path, p.Status, p.Body)
			}
			checkStrict(t, path, p)
			if !strings.Contains(p.Body, `<a href="/console/activity" aria-current="page">Activity</a>`) {
				t.Errorf("%s: the nav does not mark Activity", path)
			}
			if !strings.Contains(p.Body, `<strong aria-current="page">`+c.name+`</strong>`) {
				t.Errorf("%s: the span %q is not marked as shown", path, c.name)
			}
			for _, other := range []string{"24h", "7d", "30d"} {
				if (c.span == other || c.span == "" && other == "24h") == strings.Contains(p.Body, `href="/console/activity?span=`+other+`"`) {
					t.Errorf("%s: the link to %s is wrong", path, other)
				}
			}
			svgs := svgRe.FindAllString(p.Body, -1)
			if len(svgs) != 6 {
				t.Fatalf("%s: %d drawings, want 6", path, len(svgs))
			}
			for _, svg := range svgs {
				if !strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg"`) || !strings.Contains(svg, `role="img"`) ||
					!strings.Contains(svg, `class="activity-chart"`) || !strings.Contains(svg, "<title>") || !strings.Contains(svg, "<desc id=") {
					t.Errorf("%s: a drawing without its name or description: %.200s", path, svg)
				}
			}
			suffix := c.span
			if suffix == "" {
				suffix = "24h"
			}
			for _, want := range []string{
				// The counts, in the drawings' descriptions and on the page.
				"Sign-outs per ", c.phrase, "One browser 1, Every device 0",
				"2 in all: Password 2, Single sign-on 0.",
				// Each drawing with its table, for screen readers.
				`<details><summary>The figures as a table</summary>`,
				`<table class="activity-table" id="activity-sign-ins-` + suffix + `-table">`,
				`<table class="activity-table" id="activity-delivery-latency-` + suffix + `-table">`,
				`id="activity-sessions-` + suffix + `"`, `id="activity-delivery-success-` + suffix + `"`,
				// The record, a link away.
				`href="/console/activity/audit"`, `href="/console/activity/sign-outs"`,
			} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("%s: the page lacks %q", path, want)
				}
			}
			// The sign-out was counted as a bar of its layer.
			if !regexp.MustCompile(`<rect class="activity-bar"[^>]*><title>[^<]*: One browser 1</title>`).MatchString(p.Body) {
				t.Errorf("%s: no bar for the sign-out", path)
			}
		}
		p := b.Get(s.ConsoleURL("/console/activity?span=1y"))
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "these are the last 24 hours") ||
			!strings.Contains(p.Body, `<strong aria-current="page">Last 24 hours</strong>`) {
			t.Errorf("an unknown span: %d\n%s", p.Status, p.Body)
		}
	})
}

// The audit log lists, newest first, a change made through the console in
// words (who, what, on what, when, from where) with links to the admin
// and the app; the filter by actor kind, action and target (a user by
// username, in any case or width: A1) narrows it; a filter that is not one the form offers is
// refused in words; pages follow one another by the "next page" cursor.
func TestTheAuditLogInWords(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, p := signedIn(t, s)
		alice := accountID(t, s, "alice")
		p = b.ConsolePost(p, "/console/apps", url.Values{"id": {"shop"}, "name": {"Shop"}, "type": {"web"},
			"redirect_uris": {sesametest.RedirectURI("shop")}})
		if p.Status != http.StatusOK {
			t.Fatalf("create an app: %d\n%s", p.Status, p.Body)
		}
		p = b.ConsolePost(p, "/console/apps/shop/secret", nil)
		if p.Status != http.StatusOK {
			t.Fatalf("rotate its secret: %d\n%s", p.Status, p.Body)
		}
		p = b.ConsolePost(p, "/console/users", url.Values{"username": {"carol"}, "password": {"a long enough password"}})
		if p.Status != http.StatusOK {
			t.Fatalf("create a user: %d\n%s", p.Status, p.Body)
		}
		carol := accountID(t, s, "carol")

		who := `<a href="/console/users/` + alice + `"><strong>alice (admin)</strong></a>`
		created := who + ` created the app <a href="/console/apps/shop">Shop</a>.`
		rotated := who + ` rotated the secret of the app <a href="/console/apps/shop">Shop</a>.`
		user := who + ` created the user <a href="/console/users/` + carol + `">carol</a>.`
		p = b.Get(s.ConsoleURL("/console/activity/audit"))
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "<h1>Audit log</h1>") {
			t.Fatalf("the audit log: %d\n%s", p.Status, p.Body)
		}
		checkStrict(t, "the audit log", p)
		for _, want := range []string{created, rotated, user, "from 127.0.0.1", "<code>client.create</code>", " UTC · from "} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the audit log lacks %q", want)
			}
		}
		if i, j := strings.Index(p.Body, user), strings.Index(p.Body, created); i < 0 || j < 0 || i > j {
			t.Errorf("the log is not newest first")
		}

		for _, c := range []struct {
			query      string
			show, hide []string
		}{
			{"action=client.create", []string{created}, []string{rotated, user}},
			{"actor_kind=admin_account&target_kind=client&target=shop", []string{created, rotated}, []string{user}},
			{"target_kind=account&target=carol", []string{user}, []string{created, rotated}},
			// A username in another case or width is the same account (A1).
			{"target_kind=account&target=Carol", []string{user}, []string{created, rotated}},
			{"target_kind=account&target=" + url.QueryEscape("ＣＡＲＯＬ"), []string{user}, []string{created, rotated}},
			{"target_kind=account&target=" + carol, []string{user}, []string{created}},
			{"actor_kind=cli", []string{"No change matches these choices."}, []string{created, rotated, user}},
		} {
			got := b.Get(s.ConsoleURL("/console/activity/audit?" + c.query))
			if got.Status != http.StatusOK || !strings.Contains(got.Body, `href="/console/activity/audit">Show every change</a>`) {
				t.Errorf("%s: %d", c.query, got.Status)
			}
			for _, want := range c.show {
				if !strings.Contains(got.Body, want) {
					t.Errorf("%s: the page lacks %q", c.query, want)
				}
			}
			for _, unwanted := range c.hide {
				if strings.Contains(got.Body, unwanted) {
					t.Errorf("%s: the page shows %q", c.query, unwanted)
				}
			}
		}
		// The form shows the filter it applied.
		got := b.Get(s.ConsoleURL("/console/activity/audit?action=client.create&target_kind=client&target=shop"))
		for _, want := range []string{`<option value="client.create" selected>`, `<option value="client" selected>`, `name="target" value="shop"`} {
			if !strings.Contains(got.Body, want) {
				t.Errorf("the filtered form lacks %q", want)
			}
		}
		for query, words := range map[string]string{
			"action=client.explode":  "Choose the change from the list.",
			"actor_kind=robot":       "Choose who made the change from the list.",
			"target_kind=planet":     "Choose the kind of what was changed from the list.",
			"cursor=not-one-we-gave": "That page of the log is not one the console gave",
		} {
			if got := b.Get(s.ConsoleURL("/console/activity/audit?" + query)); got.Status != http.StatusBadRequest || !strings.Contains(got.Body, words) {
				t.Errorf("%s: %d\n%s", query, got.Status, got.Body)
			}
		}

		// Sixty entries of the command line: a page of fifty, then ten.
		err := s.Store.InTx(context.Background(), store.Durable, func(tx store.Tx) error {
			for i := range 60 {
				if err := tx.AddAuditEntry(context.Background(), store.AuditEntry{At: s.Clock.Now(), ActorKind: "cli", ActorID: "root@host",
					Action: "key.rotate", Detail: fmt.Sprintf("entry %02d", i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		first := b.Get(s.ConsoleURL("/console/activity/audit?actor_kind=cli"))
		next := regexp.MustCompile(`<a href="([^"]+)">Next page \(older\)</a>`).FindStringSubmatch(first.Body)
		if n := len(entryRe.FindAllString(first.Body, -1)); n != 50 || next == nil || !strings.Contains(first.Body, "entry 59") ||
			!strings.Contains(first.Body, "entry 10") || strings.Contains(first.Body, "entry 09") {
			t.Fatalf("the first page: %d entries, next %v", n, next)
		}
		if !strings.Contains(first.Body, "<strong>the command line (root@host)</strong> rotated the signing keys.") ||
			!strings.Contains(first.Body, "not over the network") {
			t.Errorf("an entry of the command line is not in words")
		}
		second := b.Get(s.ConsoleURL(html.UnescapeString(next[1])))
		if n := len(entryRe.FindAllString(second.Body, -1)); second.Status != http.StatusOK || n != 10 || !strings.Contains(second.Body, "entry 09") ||
			!strings.Contains(second.Body, "entry 00") || strings.Contains(second.Body, "entry 10") || strings.Contains(second.Body, "Next page") ||
			!strings.Contains(second.Body, `<a href="/console/activity/audit?actor_kind=cli">Back to the newest</a>`) || strings.Contains(second.Body, created) {
			t.Errorf("the second page: %d, %d entries\n%s", second.Status, n, second.Body)
		}
	})
}

// The sign-outs page lists a global sign-out (whose, how far, why, the
// apps told and their delivery), linked to its receipt, newest first, and
// pages on by the "next page" cursor.
func TestTheSignOutsList(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, _ := signedIn(t, s)
		empty := b.Get(s.ConsoleURL("/console/activity/sign-outs"))
		if empty.Status != http.StatusOK || !strings.Contains(empty.Body, "No sign-outs recorded yet.") {
			t.Fatalf("before any sign-out: %d\n%s", empty.Status, empty.Body)
		}
		bob := signOutGlobally(t, s, "bob")
		recs, err := s.Store.ReceiptsByAccount(t.Context(), bob, 10)
		if err != nil || len(recs) != 1 {
			t.Fatalf("bob's receipts: %v %v", recs, err)
		}
		link := `href="/console/receipts/` + recs[0].ID + `"`
		body := eventually(b, s.ConsoleURL("/console/activity/sign-outs"), "Told by back-channel: 1 delivered.")
		if body == "" {
			t.Fatalf("the sign-out never shows its delivery delivered:\n%s", b.Get(s.ConsoleURL("/console/activity/sign-outs")).Body)
		}
		for _, want := range []string{link, `<a href="/console/users/` + bob + `">bob</a>`, "One device, every app on it",
			"started by the user signed out", "1 app, 1 signed out."} {
			if !strings.Contains(body, want) {
				t.Errorf("the sign-outs page lacks %q", want)
			}
		}
		p := b.Get(s.ConsoleURL("/console/activity/sign-outs"))
		checkStrict(t, "the sign-outs page", p)
		if rec := b.Get(s.ConsoleURL("/console/receipts/" + recs[0].ID)); rec.Status != http.StatusOK || !strings.Contains(rec.Body, "<h1>Sign-out receipt</h1>") {
			t.Errorf("the receipt it links: %d", rec.Status)
		}

		// Thirty older sign-outs: a page of 25 (bob's and old-29 to
		// old-06), then the other 6. Old-29 told four apps by
		// back-channel, their deliveries in every state (the pending one
		// due later than the test lasts), and one by front-channel.
		err = s.Store.InTx(context.Background(), store.Durable, func(tx store.Tx) error {
			for i := range 30 {
				r := store.Receipt{ID: fmt.Sprintf("old-%02d", i), Scope: "all_devices", Cause: "admin", AccountID: bob,
					CreatedAt: recs[0].CreatedAt.Add(-time.Duration(30-i) * time.Minute)}
				if i == 29 {
					r.Outcomes = []store.ReceiptOutcome{{ClientID: "app-1", Revoked: true}, {ClientID: "app-2", Revoked: true},
						{ClientID: "app-3", Revoked: true}, {ClientID: "app-4", Kept: "offline_access"},
						{ClientID: "app-5", Revoked: true, FrontchannelURI: "https://app-5.example/fc"}}
				}
				if err := tx.CreateReceipt(context.Background(), r); err != nil {
					return err
				}
			}
			var told []store.Delivery
			for i, state := range []store.DeliveryState{store.DeliveryDelivered, store.DeliveryFailed, store.DeliveryDelivered, store.DeliveryPending} {
				d := store.Delivery{ID: fmt.Sprintf("old-29-d%d", i), ReceiptID: "old-29", ClientID: fmt.Sprintf("app-%d", i+1),
					URI: "https://example.com/bc", State: state, CreatedAt: recs[0].CreatedAt, UpdatedAt: recs[0].CreatedAt}
				if state == store.DeliveryPending {
					d.DueAt = time.Now().Add(24 * time.Hour)
				}
				told = append(told, d)
			}
			return tx.EnqueueDeliveries(context.Background(), told...)
		})
		if err != nil {
			t.Fatal(err)
		}
		first := b.Get(s.ConsoleURL("/console/activity/sign-outs"))
		next := regexp.MustCompile(`<a href="([^"]+)">Next page \(older\)</a>`).FindStringSubmatch(first.Body)
		if n := len(entryRe.FindAllString(first.Body, -1)); n != 25 || next == nil || !strings.Contains(first.Body, link) ||
			!strings.Contains(first.Body, "/console/receipts/old-06") || strings.Contains(first.Body, "/console/receipts/old-05") {
			t.Fatalf("the first page: %d sign-outs, next %v", n, next)
		}
		if !strings.Contains(first.Body, "Every device · started by an admin") || !strings.Contains(first.Body, "No app was signed in on it.") {
			t.Errorf("an admin's sign-out is not in words")
		}
		if told := "5 apps, 4 signed out. Told by back-channel (2 delivered, 1 pending, 1 failed) and by front-channel (1 page)."; !strings.Contains(first.Body, told) {
			t.Errorf("the sign-out that told five apps does not say %q", told)
		}
		second := b.Get(s.ConsoleURL(html.UnescapeString(next[1])))
		if n := len(entryRe.FindAllString(second.Body, -1)); second.Status != http.StatusOK || n != 6 ||
			!strings.Contains(second.Body, "/console/receipts/old-05") || !strings.Contains(second.Body, "/console/receipts/old-00") ||
			strings.Contains(second.Body, "/console/receipts/old-06") || strings.Contains(second.Body, "Next page") ||
			!strings.Contains(second.Body, `<a href="/console/activity/sign-outs">Back to the latest</a>`) {
			t.Errorf("the second page: %d, %d sign-outs\n%s", second.Status, n, second.Body)
		}
		if got := b.Get(s.ConsoleURL("/console/activity/sign-outs?cursor=nonsense")); got.Status != http.StatusBadRequest ||
			!strings.Contains(got.Body, "not one the console gave") {
			t.Errorf("a cursor the console did not give: %d", got.Status)
		}
	})
}

// Every action, actor kind and target kind of the log has its words, in
// the entries and in the filter: none falls back to its code alone.
func TestEveryChangeIsInWords(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	b, _ := signedIn(t, s)
	err := s.Store.InTx(context.Background(), store.Durable, func(tx store.Tx) error {
		for _, a := range audit.Actions {
			e := store.AuditEntry{At: s.Clock.Now(), ActorKind: string(audit.ActorCLI), ActorID: "root@host", Action: string(a),
				TargetKind: string(audit.TargetSession), TargetID: "s-1", AccountID: accountID(t, s, "bob")}
			if err := tx.AddAuditEntry(context.Background(), e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p := b.Get(s.ConsoleURL("/console/activity/audit"))
	if n := len(entryRe.FindAllString(p.Body, -1)); p.Status != http.StatusOK || n < len(audit.Actions) {
		t.Fatalf("the audit log: %d, %d entries", p.Status, n)
	}
	if strings.Contains(p.Body, "made the change") {
		t.Errorf("an action without words:\n%s", p.Body)
	}
	if !strings.Contains(p.Body, `ended the session <code>s-1</code> of the user <a href="/console/users/`+accountID(t, s, "bob")+`">bob</a>.`) {
		t.Errorf("a session's entry does not name its user")
	}
	for _, v := range audit.Actions {
		if !regexp.MustCompile(`<option value="` + string(v) + `">[^<(]+ \(` + regexp.QuoteMeta(string(v)) + `\)</option>`).MatchString(p.Body) {
			t.Errorf("the filter has no words for %s", v)
		}
	}
	for _, v := range audit.ActorKinds {
		if !regexp.MustCompile(`<option value="` + string(v) + `">[^<]+</option>`).MatchString(p.Body) {
			t.Errorf("the filter has no words for the actor %s", v)
		}
	}
	for _, v := range audit.TargetKinds {
		if !regexp.MustCompile(`<option value="` + string(v) + `">[^<]+</option>`).MatchString(p.Body) {
			t.Errorf("the filter has no words for the target %s", v)
		}
	}
}

// errDatabase is the error of a read failingReads makes fail.
var errDatabase = errors.New("the database stopped answering")

// failingReads is a store whose read of one account, by id or by
// username, fails as a database that stops answering would; every other
// read is the store's.
type failingReads struct {
	store.Store
	id, username string
}

func (f failingReads) Account(ctx context.Context, id string) (store.Account, error) {
	if f.id != "" && id == f.id {
		return store.Account{}, errDatabase
	}
	return f.Store.Account(ctx, id)
}

func (f failingReads) AccountByUsername(ctx context.Context, username string) (store.Account, error) {
	if f.username != "" && username == f.username {
		return store.Account{}, errDatabase
	}
	return f.Store.AccountByUsername(ctx, username)
}

// The audit log filtered by a user whose account cannot be read, by id
// or by username, answers the console's error page and logs why: never
// the list filtered by the name as typed, which would be empty, and
// look true. A name that finds no account still lists nothing.
func TestTheAuditFilterAnswersAFailedRead(t *testing.T) {
	for _, c := range []struct {
		name  string
		reads failingReads
	}{
		{"by id", failingReads{id: "carol"}},
		{"by username", failingReads{username: "carol"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := sesametest.New(t, admins(sesametest.Options{}))
			b, p := signedIn(t, s)
			p = b.ConsolePost(p, "/console/users", url.Values{"username": {"carol"}, "password": {"a long enough password"}})
			if p.Status != http.StatusOK {
				t.Fatalf("create a user: %d\n%s", p.Status, p.Body)
			}
			created := `created the user <a href="/console/users/` + accountID(t, s, "carol") + `">carol</a>.`
			filtered := s.ConsoleURL("/console/activity/audit?target_kind=account&target=carol")
			if got := b.Get(filtered); got.Status != http.StatusOK || !strings.Contains(got.Body, created) {
				t.Fatalf("the log filtered by carol, read as it should be: %d\n%s", got.Status, got.Body)
			}

			var logged bytes.Buffer
			console.LogTo(s.Console, slog.New(slog.NewTextHandler(&logged, nil)))
			console.ReadThrough(s.Console, func(st store.Store) store.Store { r := c.reads; r.Store = st; return r })
			got := b.Get(filtered)
			if got.Status != http.StatusServiceUnavailable || !strings.Contains(got.Body, "Sesame is busy or unavailable") ||
				strings.Contains(got.Body, created) || strings.Contains(got.Body, "No change matches") {
				t.Errorf("the log filtered by carol, whose account cannot be read: %d\n%s", got.Status, got.Body)
			}
			if !strings.Contains(logged.String(), errDatabase.Error()) || !strings.Contains(logged.String(), "level=ERROR") {
				t.Errorf("the failed read is not logged as an error: %q", logged.String())
			}

			nobody := b.Get(s.ConsoleURL("/console/activity/audit?target_kind=account&target=nobody"))
			if nobody.Status != http.StatusOK || !strings.Contains(nobody.Body, "No change matches these choices.") {
				t.Errorf("the log filtered by a name that is no account: %d\n%s", nobody.Status, nobody.Body)
			}
		})
	}
}
