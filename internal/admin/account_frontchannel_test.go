package admin_test

import (
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// appName is the name a test app is registered with, which its frame's
// title gives.
func appName(id string) string { return "The " + id + " app" }

// named is opts with every app registered under its appName, after
// whatever opts's Configure does.
func named(opts sesametest.Options) sesametest.Options {
	configure := opts.Configure
	opts.Configure = func(c *config.Config) {
		if configure != nil {
			configure(c)
		}
		for i := range c.Clients {
			c.Clients[i].Name = appName(c.Clients[i].ID)
		}
	}
	return opts
}

// signedInTo signs username in to each app in b and returns the sid of
// each app's ID token.
func signedInTo(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser, username string, apps ...string) map[string]string {
	t.Helper()
	sids := map[string]string{}
	for _, id := range apps {
		sids[id], _ = s.IDClaims(t, b.SignedIn(id, username, nil).IDToken)["sid"].(string)
	}
	return sids
}

// wantLastStep fails unless p, the last step of a sign-out in this
// browser, is the front-channel page (F2): a 200 that loads, in hidden
// iframes, exactly the registered pages of the apps in sids, each with
// iss and that app's sid; whose CSP allows exactly their origins as frames
// and the page's script; and that goes on to target by a meta refresh.
// With no such apps it must stay a 303 to target.
func wantLastStep(t *testing.T, s *sesametest.Sesame, p sesametest.Page, target string, sids map[string]string) {
	t.Helper()
	if len(sids) == 0 {
		if p.Status != http.StatusSeeOther || p.Location != target {
			t.Errorf("last step: %d %q, want a 303 to %s", p.Status, p.Location, target)
		}
		return
	}
	fc := sesametest.ParseFrontchannelPage(t, p)
	want, origins := s.FrontchannelFrames(sids)
	if got := fc.FrameURLs(); !slices.Equal(got, want) {
		t.Errorf("frames\n %q\nwant\n %q", got, want)
	}
	if csp := p.Header.Get("Content-Security-Policy"); !slices.Equal(fc.FrameSrc, origins) || !strings.Contains(csp, "script-src 'nonce-") {
		t.Errorf("CSP %q: want a frame-src of exactly %q and the script's nonce", csp, origins)
	}
	for id := range sids {
		if !strings.Contains(p.Body, `title="Signing out of `+appName(id)+`"`) {
			t.Errorf("no frame titled with %s's name", id)
		}
	}
	if !fc.Refresh || fc.Target != target {
		t.Errorf("meta refresh to %q (%v), want one to %s", fc.Target, fc.Refresh, target)
	}
}

// wantReceiptPages fails unless rec records the front-channel page of each
// app in ids, and none for its other apps (O9, F2).
func wantReceiptPages(t *testing.T, rec store.Receipt, ids ...string) {
	t.Helper()
	for _, o := range rec.Outcomes {
		want := ""
		if slices.Contains(ids, o.ClientID) {
			want = sesametest.FrontchannelURI(o.ClientID)
		}
		if o.FrontchannelURI != want {
			t.Errorf("receipt %s (%s): %s's front-channel page %q, want %q", rec.ID, rec.Cause, o.ClientID, o.FrontchannelURI, want)
		}
	}
}

// receipts are the account's receipts, by the session each ended.
func receipts(t *testing.T, s *sesametest.Sesame, username string) map[string]store.Receipt {
	t.Helper()
	acct, err := s.Store.AccountByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Store.ReceiptsByAccount(t.Context(), acct.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Receipt{}
	for _, r := range recs {
		out[r.SessionID] = r
	}
	return out
}

// only is sids without the apps not in ids.
func only(sids map[string]string, ids []string) map[string]string {
	out := map[string]string{}
	for id, sid := range sids {
		if slices.Contains(ids, id) {
			out[id] = sid
		}
	}
	return out
}

// postOnce posts form to u in b, with b's cookies, and returns Sesame's
// first answer instead of following its redirect.
func postOnce(t *testing.T, b *sesametest.Browser, u string, form url.Values) sesametest.Page {
	t.Helper()
	resp, err := b.HTTP.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sesametest.Page{URL: u, Status: resp.StatusCode, Header: resp.Header, Body: string(body), Location: resp.Header.Get("Location")}
}

// act submits one of the account page's forms, as post does, with postOnce.
func act(t *testing.T, b *sesametest.Browser, s *sesametest.Sesame, p sesametest.Page, action string) sesametest.Page {
	t.Helper()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(p.Body)[1]
	return postOnce(t, b, s.URL+action, url.Values{"csrf": {csrf}})
}

// withAndWithoutPages runs test on both databases, once with front-channel
// logout pages registered for app-a and app-b and once with none.
func withAndWithoutPages(t *testing.T, test func(t *testing.T, s *sesametest.Sesame, frontchannel []string)) {
	for _, frontchannel := range [][]string{{sesametest.AppA, sesametest.AppB}, nil} {
		name := "apps with a page"
		if frontchannel == nil {
			name = "no app with a page"
		}
		t.Run(name, func(t *testing.T) {
			sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
				test(t, sesametest.New(t, named(opts).WithFrontchannel(frontchannel...)), frontchannel)
			})
		})
	}
}

// F2, O4, O9: signing this device out from the account page ends this
// browser's session, so its last step is the front-channel page of the
// session's apps that have one (an app without gets no frame), which then
// goes back to the account page; the receipt records the pages. Without
// such apps it stays a 303 there; signing another device out loads no
// page, and records none.
func TestAccountPageSignOutOfThisDeviceLoadsFrontchannelPages(t *testing.T) {
	withAndWithoutPages(t, func(t *testing.T, s *sesametest.Sesame, frontchannel []string) {
		phone := s.NewBrowser(t)
		signedInTo(t, s, phone, "alice", sesametest.AppA)
		laptop := s.NewBrowser(t)
		sids := signedInTo(t, s, laptop, "alice", sesametest.AppA, sesametest.AppB, sesametest.AppC)

		phoneSession, laptopSession := sessionID(t, s, phone), sessionID(t, s, laptop)

		p := accountPage(t, s, laptop, "alice")
		other := act(t, laptop, s, p, "/account/sessions/"+phoneSession+"/end")
		if other.Status != http.StatusSeeOther || other.Location != "/account?done=device" {
			t.Errorf("another device signed out: %d %q, want a 303 as before", other.Status, other.Location)
		}
		p = accountPage(t, s, laptop, "alice")
		done := act(t, laptop, s, p, "/account/sessions/"+laptopSession+"/end")
		wantLastStep(t, s, done, "/account", only(sids, frontchannel))
		if frontchannel != nil && !strings.Contains(done.Body, "Signing you out of your apps") {
			t.Errorf("the page does not say what it does: %s", done.Body)
		}
		// Back-channel first (one wait, B3): every app of the
		// session was told before the page came.
		for _, id := range []string{sesametest.AppB, sesametest.AppC} {
			if got := s.Apps[id].Received(); len(got) != 1 {
				t.Errorf("%s: %d logout tokens before the last step, want 1", id, len(got))
			}
		}
		recs := receipts(t, s, "alice")
		if len(recs) != 2 {
			t.Fatalf("receipts %+v", recs)
		}
		wantReceiptPages(t, recs[laptopSession], frontchannel...)
		wantReceiptPages(t, recs[phoneSession])
		if after := laptop.Get(s.URL + "/account"); !sesametest.IsSignInPage(after) {
			t.Errorf("still signed in: %d", after.Status)
		}
	})
}

// F2, O6, O9: signing out everywhere from the account page ends this
// browser's session among the others: the front-channel page loads the
// pages of this session's apps alone, with this session's sids (the other
// devices' apps are told by back-channel: their pages, framed here, would
// end nothing), and goes back to the account page. Only this session's
// receipt records pages. When only another device's apps have a page, the
// sign-out stays a 303.
func TestAccountPageSignOutEverywhereLoadsThisBrowsersFrontchannelPages(t *testing.T) {
	for _, tc := range []struct {
		name string
		// laptop is the browser that signs out, phone another device.
		laptop, phone []string
		frontchannel  []string
	}{
		{"both devices' apps have pages", []string{sesametest.AppA, sesametest.AppB, sesametest.AppC}, []string{sesametest.AppA, sesametest.AppB},
			[]string{sesametest.AppA, sesametest.AppB}},
		{"only another device's apps have pages", []string{sesametest.AppC}, []string{sesametest.AppA}, []string{sesametest.AppA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
				s := sesametest.New(t, named(opts).WithFrontchannel(tc.frontchannel...))
				phone := s.NewBrowser(t)
				signedInTo(t, s, phone, "alice", tc.phone...)
				phoneSession := sessionID(t, s, phone)
				laptop := s.NewBrowser(t)
				sids := signedInTo(t, s, laptop, "alice", tc.laptop...)
				laptopSession := sessionID(t, s, laptop)

				done := act(t, laptop, s, accountPage(t, s, laptop, "alice"), "/account/sign-out-everywhere")
				framed := only(sids, tc.frontchannel)
				wantLastStep(t, s, done, "/account", framed)
				recs := receipts(t, s, "alice")
				if len(recs) != 2 {
					t.Fatalf("receipts %+v", recs)
				}
				wantReceiptPages(t, recs[laptopSession], slices.Collect(maps.Keys(framed))...)
				wantReceiptPages(t, recs[phoneSession])
				for _, id := range tc.phone {
					if got := s.Apps[id].WaitReceived(1, 5*time.Second); len(got) == 0 {
						t.Errorf("%s: the other device's app was not told", id)
					}
				}
			})
		})
	}
}

// S7, F2, O9: signing in on the account page as another account than the
// browser's signs that account out of the browser first; when its apps
// have front-channel pages, the sign-in's last step loads them, with the
// previous account's sids, and then goes on to the account page, and the
// previous account's receipt records them. Without such apps it stays a
// 303 to the page.
func TestAccountPageSignInAsAnotherAccountLoadsFrontchannelPages(t *testing.T) {
	withAndWithoutPages(t, func(t *testing.T, s *sesametest.Sesame, frontchannel []string) {
		b := s.NewBrowser(t)
		// The account page's sign-in form, left open in one tab
		// while bob signs in to apps in another.
		action, form := b.Form(b.Get(s.URL+"/account"), map[string]string{"username": "alice", "password": sesametest.Password})
		sids := signedInTo(t, s, b, "bob", sesametest.AppA, sesametest.AppB, sesametest.AppC)
		bobs := sessionID(t, s, b)
		done := postOnce(t, b, action, form)
		wantLastStep(t, s, done, "/account", only(sids, frontchannel))
		if frontchannel != nil && !strings.Contains(done.Body, "Signing the previous account out") {
			t.Errorf("the page does not say what it does: %s", done.Body)
		}
		recs := receipts(t, s, "bob")
		if len(recs) != 1 || recs[bobs].Cause != signout.CauseAccountSwitch {
			t.Fatalf("bob's receipts %+v", recs)
		}
		wantReceiptPages(t, recs[bobs], frontchannel...)
		if p := b.Get(s.URL + "/account"); !strings.Contains(p.Body, "alice") || strings.Contains(p.Body, "bob") {
			t.Errorf("after the sign-in the page shows: %s", p.Body)
		}
	})
}

// F2, B3: the page's refresh is what is left of backchannel_wait once
// the back-channel attempts had their turn, at least a second.
func TestAccountPageFrontchannelPageWaitsWhatIsLeft(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		opts.Configure = func(c *config.Config) { c.BackchannelWait = 3 * time.Second }
		s := sesametest.New(t, opts.WithFrontchannel(sesametest.AppA))
		// A whole second leaves the refresh the rest of the next one as
		// slack for a loaded machine: 3s - (1s + under 1s) rounds up to 2.
		s.Apps[sesametest.AppA].Hang(time.Second)
		b := s.NewBrowser(t)
		signedInTo(t, s, b, "alice", sesametest.AppA)
		done := act(t, b, s, accountPage(t, s, b, "alice"), "/account/sign-out-everywhere")
		fc := sesametest.ParseFrontchannelPage(t, done)
		if !fc.Refresh {
			t.Fatalf("no refresh: %d %s", done.Status, done.Body)
		}
		if fc.Delay != 2 {
			t.Errorf("refresh after %ds, want 2: 1s of the 3s wait went to the back-channel attempt", fc.Delay)
		}
	})
}
