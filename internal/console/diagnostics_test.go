package console_test

import (
	"bytes"
	"context"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/console"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// signOutOf signs bob in to each app in one browser, then out of all of
// them (a global sign-out, O4), and waits until each app's delivery has
// had its first attempt; it returns the deliveries by app.
func signOutOf(t *testing.T, s *sesametest.Sesame, apps ...string) map[string]store.Delivery {
	t.Helper()
	b := s.NewBrowser(t)
	for _, id := range apps {
		b.SignedIn(id, "bob", nil)
	}
	confirm := b.Get(s.Issuer + "/session/end?client_id=" + apps[0])
	if done := b.Submit(confirm, map[string]string{"logout": "true"}); done.Status != http.StatusOK {
		t.Fatalf("sign-out: %d\n%s", done.Status, done.Body)
	}
	out := map[string]store.Delivery{}
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range apps {
		for {
			list, err := s.Store.DeliveriesByClient(t.Context(), id, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) > 0 && list[0].Attempts > 0 {
				out[id] = list[0]
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no attempt at the delivery to %s: %+v", id, list)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return out
}

// contains fails the test for each piece the page lacks.
func contains(t *testing.T, what string, p sesametest.Page, wants ...string) {
	t.Helper()
	body := html.UnescapeString(p.Body)
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("%s lacks %q (%d)\n%s", what, want, p.Status, p.Body)
		}
	}
}

// closedPort is an address on loopback where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// B3: an app that refuses logout tokens shows its failed delivery, the
// app's answer and the cause in words, with a retry that goes through
// the admin API's operation (audited); an app that accepts them shows
// its delivery delivered and no warning. The list filters by state, and
// the app's page links to it.
func TestDeliveriesShowFailuresAndTheirCause(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		s.Apps[sesametest.AppC].Answer(http.StatusBadRequest)
		dels := signOutOf(t, s, sesametest.AppA, sesametest.AppC)
		failed := dels[sesametest.AppC]
		if failed.State != store.DeliveryFailed || dels[sesametest.AppA].State != store.DeliveryDelivered {
			t.Fatalf("deliveries: %+v", dels)
		}
		b, _ := signedIn(t, s)
		if p := b.Get(s.ConsoleURL("/console/apps/app-c")); !strings.Contains(p.Body, `href="/console/apps/app-c/deliveries"`) {
			t.Errorf("the app's page does not link to its deliveries:\n%s", p.Body)
		}

		p := b.Get(s.ConsoleURL("/console/apps/app-c/deliveries"))
		if p.Status != http.StatusOK {
			t.Fatalf("deliveries page: %d\n%s", p.Status, p.Body)
		}
		contains(t, "the failing app's deliveries", p,
			"Why deliveries failed", "The app refused the token", "Sesame does not retry a refusal", "HTTP 400",
			"the app rejected the logout token: 400 Bad Request", ">failed</span>", "<strong>bob</strong>",
			`action="/console/apps/app-c/deliveries/retry"`, `name="delivery" value="`+failed.ID+`"`,
			`href="/console/receipts/`+failed.ReceiptID+`"`, s.Apps[sesametest.AppC].BackchannelURI())
		if strings.Contains(p.Body, "delivered at") || strings.Contains(p.Body, "next attempt at") {
			t.Errorf("a failed delivery shows times it does not have:\n%s", p.Body)
		}
		if got := b.Get(s.ConsoleURL("/console/apps/app-c/deliveries?state=delivered")); !strings.Contains(got.Body, "No deliveries in this state yet.") ||
			strings.Contains(got.Body, failed.ID) {
			t.Errorf("filtered to delivered, the failed delivery shows:\n%s", got.Body)
		}

		ok := b.Get(s.ConsoleURL("/console/apps/app-a/deliveries"))
		contains(t, "the working app's deliveries", ok, ">delivered</span>", "delivered at ", "Send a test logout token")
		if strings.Contains(ok.Body, "Why deliveries failed") || strings.Contains(ok.Body, "Retry now") {
			t.Errorf("a working app shows a failure:\n%s", ok.Body)
		}

		// The app answers 200 again: the retry delivers, and says so.
		p = b.ConsolePost(p, "/console/apps/app-c/deliveries/retry", url.Values{"delivery": {failed.ID}})
		contains(t, "the page after the retry", p, "was tried again: the app accepted the logout token.")
		after, _ := s.Store.Delivery(t.Context(), failed.ID)
		if after.State != store.DeliveryDelivered || after.Attempts != 2 {
			t.Errorf("after the retry: %+v", after)
		}
		entries, err := s.Store.AuditEntries(t.Context(), store.AuditFilter{Action: string(audit.DeliveryRetry), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].TargetID != failed.ID || entries[0].ActorKind != string(audit.ActorAdminAccount) ||
			entries[0].ActorID != accountID(t, s, "alice") || entries[0].AccountID != failed.Subject {
			t.Errorf("retry audit entries: %+v", entries)
		}
		// One app's page cannot retry another's delivery.
		dA := dels[sesametest.AppA]
		if got := b.ConsolePost(p, "/console/apps/app-c/deliveries/retry", url.Values{"delivery": {dA.ID}}); got.Status != http.StatusNotFound {
			t.Errorf("retrying app-a's delivery from app-c's page: %d", got.Status)
		}
		if again, _ := s.Store.Delivery(t.Context(), dA.ID); again.Attempts != dA.Attempts {
			t.Errorf("app-a's delivery was retried: %+v", again)
		}
	})
}

// B3: under each delivery the page lists its attempts, oldest first, each
// with its start, how long the exchange took, the app's status code and,
// for a failed one, its cause in words: an app that answers 500 and then
// 200 shows both attempts, as the store recorded them.
func TestDeliveriesListEachAttempt(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		s.Apps[sesametest.AppB].Answer(http.StatusInternalServerError, http.StatusOK)
		del := signOutOf(t, s, sesametest.AppB)[sesametest.AppB]
		// The first attempt failed; the queue retries within 2 s (B2).
		deadline := time.Now().Add(10 * time.Second)
		for del.State != store.DeliveryDelivered {
			if time.Now().After(deadline) {
				t.Fatalf("the delivery was not retried: %+v", del)
			}
			time.Sleep(20 * time.Millisecond)
			var err error
			if del, err = s.Store.Delivery(t.Context(), del.ID); err != nil {
				t.Fatal(err)
			}
		}
		if del.Attempts != 2 {
			t.Fatalf("the delivery after a 500 then a 200: %+v", del)
		}
		history, err := s.Store.DeliveryAttempts(t.Context(), []string{del.ID}, 0)
		if err != nil {
			t.Fatal(err)
		}
		stored := history[del.ID]
		if len(stored) != 2 || stored[0].N != 1 || stored[0].Status != http.StatusInternalServerError ||
			stored[1].N != 2 || stored[1].Status != http.StatusOK || stored[0].Took <= 0 || stored[1].Took <= 0 ||
			stored[0].Error != "500 Internal Server Error" || stored[1].Error != "" {
			t.Fatalf("the stored attempts: %+v", stored)
		}

		b, _ := signedIn(t, s)
		p := b.Get(s.ConsoleURL("/console/apps/app-b/deliveries"))
		if p.Status != http.StatusOK {
			t.Fatalf("deliveries page: %d\n%s", p.Status, p.Body)
		}
		body := html.UnescapeString(p.Body)
		_, list, ok := strings.Cut(body, `<ol class="attempts" start="1">`)
		list, _, ok2 := strings.Cut(list, "</ol>")
		if !ok || !ok2 {
			t.Fatalf("no list of attempts:\n%s", p.Body)
		}
		items := regexp.MustCompile(`(?s)<li>(.*?)</li>`).FindAllStringSubmatch(list, -1)
		if len(items) != 2 {
			t.Fatalf("%d attempts listed, want 2:\n%s", len(items), list)
		}
		took := regexp.MustCompile(` · took (less than 1 ms|\d+ ms|\d+\.\d s) · `)
		for i, want := range []string{"HTTP 500", "HTTP 200"} {
			item := items[i][1]
			if !strings.Contains(item, want) || !took.MatchString(item) ||
				!strings.HasPrefix(item, stored[i].StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")) {
				t.Errorf("attempt %d reads %q, want its start, its duration and %s", i+1, item, want)
			}
		}
		if first := items[0][1]; !strings.Contains(first, "<code>500 Internal Server Error</code>") ||
			!strings.Contains(first, "The app failed on the request") {
			t.Errorf("the failed attempt lacks its error or cause in words: %q", first)
		}
		if second := items[1][1]; strings.Contains(second, "<code>") || strings.Contains(second, "meta") {
			t.Errorf("the accepted attempt shows an error: %q", second)
		}
	})
}

// The test logout token reaches the app, which verifies it as any logout
// token (go-oidc, Sesame's keys) and answers 200: it names a sub and sid
// no account or session can have. Nothing is recorded as a delivery, and
// the audit log records the test with alice as its actor. An app that
// refuses it is shown refusing, in words.
func TestTestLogoutTokenReachesTheApp(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	b, _ := signedIn(t, s)
	p := b.Get(s.ConsoleURL("/console/apps/app-a/deliveries"))
	p = b.ConsolePost(p, "/console/apps/app-a/test-logout", nil)
	contains(t, "the test's result", p, "<h1>Test logout token to app-a</h1>", "The app answered 200: it accepts Sesame's logout tokens.", "200 OK",
		s.Apps[sesametest.AppA].BackchannelURI(), backchannel.TestSubjectPrefix)
	got := s.Apps[sesametest.AppA].Received()
	if len(got) != 1 || !backchannel.IsTestSubject(got[0].Subject) || !backchannel.IsTestSubject(got[0].SID) || got[0].Typ != "logout+jwt" {
		t.Fatalf("the app received %+v", got)
	}
	contains(t, "the test's result", p, got[0].Subject, got[0].SID, got[0].JTI)
	if list, _ := s.Store.DeliveriesByClient(t.Context(), sesametest.AppA, "", 10); len(list) != 0 {
		t.Errorf("the test was recorded as a delivery: %+v", list)
	}
	entries, err := s.Store.AuditEntries(t.Context(), store.AuditFilter{TargetKind: string(audit.TargetClient), TargetID: sesametest.AppA, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != string(audit.ClientTestLogout) || entries[0].ActorID != accountID(t, s, "alice") ||
		!strings.HasPrefix(entries[0].Detail, "delivered, status 200") {
		t.Errorf("audit entries: %+v", entries)
	}

	s.Apps[sesametest.AppB].Answer(http.StatusUnauthorized)
	p = b.ConsolePost(p, "/console/apps/app-b/test-logout", nil)
	contains(t, "a refused test", p, "The app refused the token: the app answered 401.", "Sesame does not retry a refusal", "401 Unauthorized")
	if strings.Contains(p.Body, "it accepts Sesame") {
		t.Errorf("a refused test reads as a success:\n%s", p.Body)
	}
	if got := b.ConsolePost(p, "/console/apps/nobody/test-logout", nil); got.Status != http.StatusNotFound {
		t.Errorf("an unknown app: %d", got.Status)
	}
}

// An app whose back-channel URI cannot be reached from Sesame's server
// shows why, in words, on its deliveries and in a test: a port where
// nothing listens, a name that does not resolve, and, with the outbound
// filter on (B5), a private address.
func TestUnreachableBackchannelURIsShowTheirCause(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	for _, a := range []struct{ id, uri string }{
		{"dead-port", "http://" + closedPort(t) + "/backchannel"},
		{"no-such-name", "https://sesame-test.invalid/backchannel"},
	} {
		if _, err := s.Clients.Upsert(t.Context(), client.Spec{ID: a.id, Name: a.id, Type: client.TypeWeb, Secret: sesametest.Secret,
			FirstParty: true, RedirectURIs: []string{sesametest.RedirectURI(a.id)}, BackchannelLogoutURI: a.uri}); err != nil {
			t.Fatal(err)
		}
	}
	dels := signOutOf(t, s, "dead-port", "no-such-name")
	for id, d := range dels {
		if d.State != store.DeliveryPending || d.LastError == "" {
			t.Errorf("%s: %+v, want pending with an error", id, d)
		}
	}
	b, p := signedIn(t, s)
	for _, c := range []struct{ id, title, words string }{
		{"dead-port", "Connection refused", "Nothing accepts connections at that address and port"},
		{"no-such-name", "The host name does not resolve", "does not resolve from Sesame's server"},
	} {
		page := b.Get(s.ConsoleURL("/console/apps/" + c.id + "/deliveries"))
		contains(t, c.id+"'s deliveries", page, "Why deliveries failed", c.title, c.words, ">pending</span>", "next attempt at ")
		if strings.Contains(page.Body, "Retry now") {
			t.Errorf("%s: a pending delivery offers a retry", c.id)
		}
		test := b.ConsolePost(p, "/console/apps/"+c.id+"/test-logout", nil)
		contains(t, c.id+"'s test", test, c.title+".", c.words)
	}

	// With private addresses refused, the apps on loopback are refused
	// before any connection, and the page says how to allow them.
	filtered := sesametest.New(t, admins(sesametest.Options{DeliveryHTTP: backchannel.NewHTTPClient(false)}))
	fb, fp := signedIn(t, filtered)
	test := fb.ConsolePost(fp, "/console/apps/app-a/test-logout", nil)
	contains(t, "a test to a private address", test, "Private address refused.", "allow_private_network_delivery")
	if n := filtered.Apps[sesametest.AppA].Calls(); n != 0 {
		t.Errorf("the filtered app was reached %d times", n)
	}
	signOutOf(t, filtered, sesametest.AppA)
	contains(t, "deliveries to a private address", fb.Get(filtered.ConsoleURL("/console/apps/app-a/deliveries")),
		"Private address refused", "allow_private_network_delivery", "Retry now")
}

// Pages without an app answer 404 in words; a delivery of no app cannot
// be retried.
func TestDiagnosticsOfAnUnknownApp(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	b, p := signedIn(t, s)
	if got := b.Get(s.ConsoleURL("/console/apps/nobody/deliveries")); got.Status != http.StatusNotFound || !strings.Contains(got.Body, "There is no app nobody.") {
		t.Errorf("deliveries of an unknown app: %d\n%s", got.Status, got.Body)
	}
	if got := b.ConsolePost(p, "/console/apps/app-a/deliveries/retry", url.Values{"delivery": {"no-such-delivery"}}); got.Status != http.StatusNotFound {
		t.Errorf("retrying an unknown delivery: %d", got.Status)
	}
	if entries, _ := s.Store.AuditEntries(t.Context(), store.AuditFilter{Limit: 50}); slices.ContainsFunc(entries, func(e store.AuditEntry) bool {
		return e.Action == string(audit.DeliveryRetry)
	}) {
		t.Error("a refused retry was audited")
	}
}

// failingDelivery is a store whose read of one delivery fails, as a
// database that stops answering would; every other read is the store's.
type failingDelivery struct {
	store.Store
	id string
}

func (f failingDelivery) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	if id == f.id {
		return store.Delivery{}, errDatabase
	}
	return f.Store.Delivery(ctx, id)
}

// The deliveries page after a retry says how the retry went; when the
// retried delivery cannot be read, it answers the error page and logs
// why, rather than a page silent about the retry. A delivery of another
// app is not spoken of.
func TestTheRetriedDeliveryAnswersAFailedRead(t *testing.T) {
	s := sesametest.New(t, admins(sesametest.Options{}))
	d := signOutOf(t, s, sesametest.AppA)[sesametest.AppA]
	b, _ := signedIn(t, s)
	retried := s.ConsoleURL("/console/apps/app-a/deliveries?retried=" + url.QueryEscape(d.ID))
	tried := "The delivery <code>" + d.ID + "</code> was tried again"
	if p := b.Get(retried); p.Status != http.StatusOK || !strings.Contains(html.UnescapeString(p.Body), tried) {
		t.Fatalf("the deliveries page after a retry, read as it should be: %d\n%s", p.Status, p.Body)
	}
	if p := b.Get(s.ConsoleURL("/console/apps/app-b/deliveries?retried=" + url.QueryEscape(d.ID))); p.Status != http.StatusOK || strings.Contains(p.Body, "was tried again") {
		t.Errorf("another app's deliveries page naming app-a's delivery: %d", p.Status)
	}

	var logged bytes.Buffer
	console.LogTo(s.Console, slog.New(slog.NewTextHandler(&logged, nil)))
	console.ReadThrough(s.Console, func(st store.Store) store.Store { return failingDelivery{Store: st, id: d.ID} })
	p := b.Get(retried)
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "Sesame is busy or unavailable") || strings.Contains(p.Body, tried) {
		t.Errorf("the deliveries page after a retry whose delivery cannot be read: %d\n%s", p.Status, p.Body)
	}
	if !strings.Contains(logged.String(), errDatabase.Error()) || !strings.Contains(logged.String(), "level=ERROR") {
		t.Errorf("the failed read is not logged as an error: %q", logged.String())
	}
}
