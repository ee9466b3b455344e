package endsession_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signout"
)

// wantFrame fails unless u is id's registered page, its query (tenant=7)
// kept, with iss and the sid of id's ID tokens (F1, FCL §2-§3: both,
// always).
func wantFrame(t *testing.T, s *sesametest.Sesame, u *url.URL, id string, sid any) {
	t.Helper()
	if u == nil {
		t.Errorf("%s: no frame", id)
		return
	}
	reg, _ := url.Parse(sesametest.FrontchannelURI(id))
	q := u.Query()
	if u.Scheme != reg.Scheme || u.Host != reg.Host || u.Path != reg.Path {
		t.Errorf("%s: frame %s, want the page %s", id, u, reg)
	}
	if q.Get("tenant") != "7" || q.Get("iss") != s.Issuer || q.Get("sid") != sid || len(q) != 3 {
		t.Errorf("%s: frame query %v, want tenant kept, iss %s and sid %v", id, q, s.Issuer, sid)
	}
}

// F2, contract: a global sign-out that ends the sessions of apps with a
// front-channel logout page answers a 200 that loads one hidden iframe
// per such app, with iss and that app's sid, allows exactly their origins
// as frames, and goes on by meta refresh to the post_logout_redirect_uri
// with state; back-channel logouts still go out first (one wait, B3), and
// an app without a page gets no frame.
func TestGlobalSignOutLoadsFrontchannelPages(t *testing.T) {
	sesametest.EachBackend(t, testGlobalSignOutLoadsFrontchannelPages)
}

func testGlobalSignOutLoadsFrontchannelPages(t *testing.T, opts sesametest.Options) {
	s := sesametest.New(t, opts.WithFrontchannel(sesametest.AppA, sesametest.AppB))
	b, a, bt := signedInToBoth(t, s)
	b.SignedIn(sesametest.AppC, "alice", nil)
	page := endSession(b, s, url.Values{"id_token_hint": {a.IDToken}, "post_logout_redirect_uri": {"https://app-a.example/"}, "state": {"bye & co"}})
	done := b.Submit(page, map[string]string{"logout": "true"})
	fc := sesametest.ParseFrontchannelPage(t, done)
	if len(fc.Frames) != 2 || strings.Count(done.Body, "<iframe") != 2 {
		t.Fatalf("frames %v, want app-a's and app-b's", fc.Frames)
	}
	wantFrame(t, s, fc.Frame(sesametest.AppA), sesametest.AppA, s.IDClaims(t, a.IDToken)["sid"])
	wantFrame(t, s, fc.Frame(sesametest.AppB), sesametest.AppB, s.IDClaims(t, bt.IDToken)["sid"])

	if !fc.Refresh || fc.Target != "https://app-a.example/?state=bye+%26+co" {
		t.Errorf("meta refresh to %q (%v), want the redirect with state", fc.Target, fc.Refresh)
	}
	if fc.Delay < 1 || fc.Delay > 2 {
		t.Errorf("meta refresh after %ds, want what is left of backchannel_wait (2s), at least 1", fc.Delay)
	}
	if fc.Continue == "" || fc.Continue != fc.Target {
		t.Errorf("no link to go on without waiting: %s", done.Body)
	}
	if !slices.Equal(fc.FrameSrc, []string{"https://app-a.example", "https://app-b.example"}) {
		t.Errorf("frame-src %q, want exactly the two apps' origins", fc.FrameSrc)
	}
	csp := done.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(done.Body, `<script nonce="`) {
		t.Errorf("CSP %q: the page's script needs its nonce, and the page stays unframeable", csp)
	}
	for _, id := range []string{sesametest.AppA, sesametest.AppB, sesametest.AppC} {
		if got := s.Apps[id].Received(); len(got) != 1 {
			t.Errorf("%s: %d logout tokens before the page, want 1", id, len(got))
		}
	}
	if cb := b.SignIn(sesametest.AppA, "alice", url.Values{"prompt": {"none"}}); cb.Error != "login_required" {
		t.Errorf("still signed in after the page: %+v", cb)
	}
}

// F2, O9: the receipt records the front-channel page loaded for each app
// that has one, the kept offline grant's app included, and none for the
// others.
func TestReceiptRecordsFrontchannelPages(t *testing.T) {
	sesametest.EachBackend(t, testReceiptRecordsFrontchannelPages)
}

func testReceiptRecordsFrontchannelPages(t *testing.T, opts sesametest.Options) {
	s := sesametest.New(t, opts.WithFrontchannel(sesametest.AppB))
	b, _, _ := signedInToBoth(t, s)
	done := b.Submit(endSession(b, s, url.Values{"client_id": {sesametest.AppA}}), map[string]string{"logout": "true"})
	if fc := sesametest.ParseFrontchannelPage(t, done); len(fc.Frames) != 1 {
		t.Fatalf("last step with frames %v", fc.Frames)
	}
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	recs, err := s.Store.ReceiptsByAccount(t.Context(), acct.ID, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("receipts %+v, %v", recs, err)
	}
	for _, o := range recs[0].Outcomes {
		want := ""
		if o.ClientID == sesametest.AppB {
			want = sesametest.FrontchannelURI(sesametest.AppB)
			if o.Kept != signout.KeptOffline {
				t.Errorf("app-b's offline grant: %+v", o)
			}
		}
		if o.FrontchannelURI != want {
			t.Errorf("%s: receipt says front-channel %q, want %q", o.ClientID, o.FrontchannelURI, want)
		}
	}
}

// F2: without a post_logout_redirect_uri the page that loads the frames
// is the sign-out done page itself: no refresh, no script.
func TestFrontchannelPageWithoutRedirect(t *testing.T) {
	sesametest.EachBackend(t, testFrontchannelPageWithoutRedirect)
}

func testFrontchannelPageWithoutRedirect(t *testing.T, opts sesametest.Options) {
	s := sesametest.New(t, opts.WithFrontchannel(sesametest.AppA))
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	done := b.Submit(endSession(b, s, url.Values{"client_id": {sesametest.AppA}}), map[string]string{"logout": "true"})
	fc := sesametest.ParseFrontchannelPage(t, done)
	if len(fc.Frames) != 1 || !strings.Contains(done.Body, "You are signed out") {
		t.Fatalf("done page %d: %s", done.Status, done.Body)
	}
	if fc.Refresh || strings.Contains(done.Body, "<script") {
		t.Errorf("the done page goes somewhere: %s", done.Body)
	}
	if csp := done.Header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows a script the page does not have", csp)
	}
	if !slices.Equal(fc.FrameSrc, []string{"https://app-a.example"}) {
		t.Errorf("frame-src %q", fc.FrameSrc)
	}
}

// O5, F2: signing out of this app only loads that app's page alone, even
// when the apps that stay signed in have one too.
func TestAppOnlySignOutLoadsOnlyThatAppsPage(t *testing.T) {
	sesametest.EachBackend(t, testAppOnlySignOutLoadsOnlyThatAppsPage)
}

func testAppOnlySignOutLoadsOnlyThatAppsPage(t *testing.T, opts sesametest.Options) {
	opts.Configure = func(c *config.Config) { c.SignoutConfirm = "ask" }
	s := sesametest.New(t, opts.WithFrontchannel(sesametest.AppA, sesametest.AppB))
	b, a, _ := signedInToBoth(t, s)
	page := endSession(b, s, url.Values{"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}, "state": {"s1"}})
	done := b.Submit(page, map[string]string{"app_only": "true"})
	fc := sesametest.ParseFrontchannelPage(t, done)
	if len(fc.Frames) != 1 || fc.Frame(sesametest.AppA) == nil {
		t.Fatalf("frames %v, want app-a's alone", fc.Frames)
	}
	wantFrame(t, s, fc.Frame(sesametest.AppA), sesametest.AppA, s.IDClaims(t, a.IDToken)["sid"])
	if !slices.Equal(fc.FrameSrc, []string{"https://app-a.example"}) {
		t.Errorf("frame-src %q, want app-a's origin alone", fc.FrameSrc)
	}
	if !fc.Refresh || fc.Target != "https://app-a.example/?state=s1" {
		t.Errorf("meta refresh to %q", fc.Target)
	}
	if cb := b.SignIn(sesametest.AppB, "alice", url.Values{"prompt": {"none"}}); cb.Code == "" {
		t.Errorf("app-b lost its sign-in: %+v", cb)
	}
}

// Contract: a sign-out that ends no session of an app with a front-channel
// page stays a 303, even when another app registered one.
func TestSignOutWithoutFrontchannelAppsStaysARedirect(t *testing.T) {
	sesametest.EachBackend(t, testSignOutWithoutFrontchannelAppsStaysARedirect)
}

func testSignOutWithoutFrontchannelAppsStaysARedirect(t *testing.T, opts sesametest.Options) {
	s := sesametest.New(t, opts.WithFrontchannel(sesametest.AppB))
	b := s.NewBrowser(t)
	a := b.SignedIn(sesametest.AppA, "alice", nil)
	page := endSession(b, s, url.Values{"id_token_hint": {a.IDToken}, "post_logout_redirect_uri": {"https://app-a.example/"}, "state": {"bye"}})
	done := b.Submit(page, map[string]string{"logout": "true"})
	if done.Status != http.StatusSeeOther || done.Location != "https://app-a.example/?state=bye" {
		t.Fatalf("after confirm: %d %q", done.Status, done.Location)
	}
}

// F2: a sign-out that no browser sees (an admin ending a session, every
// device) loads no page and records none.
func TestSignOutsWithoutABrowserRecordNoFrontchannel(t *testing.T) {
	sesametest.EachBackend(t, testSignOutsWithoutABrowserRecordNoFrontchannel)
}

func testSignOutsWithoutABrowserRecordNoFrontchannel(t *testing.T, opts sesametest.Options) {
	s := sesametest.New(t, opts.WithFrontchannel(sesametest.AppA))
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	sessions, _ := s.Store.SessionsByAccount(t.Context(), acct.ID)
	d, err := s.Signout.RevokeSession(t.Context(), sessions[0].ID, signout.CauseAdmin, nil)
	if err != nil || d.Receipt.ID == "" {
		t.Fatalf("%+v %v", d, err)
	}
	if len(d.Frontchannel) != 0 {
		t.Errorf("an admin's sign-out has front-channel pages: %+v", d.Frontchannel)
	}
	rec, err := s.Store.Receipt(t.Context(), d.Receipt.ID)
	if err != nil || len(rec.Outcomes) != 1 || rec.Outcomes[0].FrontchannelURI != "" {
		t.Errorf("receipt %+v, %v", rec, err)
	}
	if got := s.Apps[sesametest.AppA].WaitReceived(1, 5*time.Second); len(got) != 1 {
		t.Errorf("app-a got %d logout tokens", len(got))
	}
}

// F2, B3: both channels share one backchannel_wait. The page's refresh
// comes after what is left of it once the back-channel deliveries were
// awaited, rounded up to whole seconds (a refresh counts in seconds, and
// the frames must not get less than the rest of the wait), and never
// before one second, even when a slow app used the whole wait.
func TestFrontchannelRefreshWaitsWhatIsLeftOfTheWait(t *testing.T) {
	const wait = 3 * time.Second
	for _, tc := range []struct {
		name string
		// hang is how long app-a's back-channel endpoint takes to answer.
		hang time.Duration
		want int
	}{
		// A hang of whole seconds leaves the refresh the whole of the
		// next second as slack for a loaded machine: 3s - (1s + up to
		// 1s of overhead) still rounds up to 2.
		{"apps answer at once", 0, 3},
		{"an app answers after 1s", time.Second, 2},
		{"an app answers after the wait", 3500 * time.Millisecond, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The cases wait on the wall clock; each case and backend
			// has a Sesame and a database of its own, so all run at once.
			sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
				t.Parallel()
				opts.Configure = func(c *config.Config) { c.BackchannelWait = wait }
				s := sesametest.New(t, opts.WithFrontchannel(sesametest.AppA))
				s.Apps[sesametest.AppA].Hang(tc.hang)
				b := s.NewBrowser(t)
				a := b.SignedIn(sesametest.AppA, "alice", nil)
				page := endSession(b, s, url.Values{"id_token_hint": {a.IDToken}, "post_logout_redirect_uri": {"https://app-a.example/"}})
				started := time.Now()
				done := b.Submit(page, map[string]string{"logout": "true"})
				took := time.Since(started)
				fc := sesametest.ParseFrontchannelPage(t, done)
				if !fc.Refresh || fc.Delay != tc.want {
					t.Errorf("meta refresh after %ds (%v), want %ds: %s of the %s wait were spent on back-channel deliveries", fc.Delay, fc.Refresh, tc.want, took, wait)
				}
				if took < min(tc.hang, wait) {
					t.Errorf("the page came after %s: the back-channel deliveries were not awaited first", took)
				}
			})
		})
	}
}
