package sesametest

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sesame-id/sesame/internal/config"
)

// FrontchannelURI is the front-channel logout page WithFrontchannel
// registers for test app id: on its redirect URI's origin (F1), with a
// query of its own, tenant=7, that Sesame must keep (FCL §2).
func FrontchannelURI(id string) string {
	return frontchannelOrigin(id) + "/frontchannel-logout?tenant=7"
}

// frontchannelOrigin is the origin of test app id's pages.
func frontchannelOrigin(id string) string { return "https://" + id + ".example" }

// WithFrontchannel returns o with a front-channel logout page,
// FrontchannelURI, registered for each of ids, after whatever o's
// Configure does. AppA's registration asks for iss and sid
// (frontchannel_logout_session_required) and the others' do not: Sesame
// sends both to every page either way (F1), so a test that frames AppA
// and another app holds that rule for both kinds of registration.
func (o Options) WithFrontchannel(ids ...string) Options {
	configure := o.Configure
	o.Configure = func(c *config.Config) {
		if configure != nil {
			configure(c)
		}
		for i := range c.Clients {
			if id := c.Clients[i].ID; slices.Contains(ids, id) {
				c.Clients[i].FrontchannelLogoutURI = FrontchannelURI(id)
				c.Clients[i].FrontchannelLogoutSessionRequired = id == AppA
			}
		}
	}
	return o
}

// FrontchannelFrames is what a front-channel page must load to end the
// sessions sids names (sid by test app id): the address of each app's
// FrontchannelURI with iss and its sid appended (FCL §2-§3), and the
// origins its CSP frame-src must allow (F2), each sorted as
// FrontchannelPage's FrameURLs and FrameSrc are.
func (s *Sesame) FrontchannelFrames(sids map[string]string) (urls, origins []string) {
	for id, sid := range sids {
		urls = append(urls, FrontchannelURI(id)+"&"+url.Values{"iss": {s.Issuer}, "sid": {sid}}.Encode())
		origins = append(origins, frontchannelOrigin(id))
	}
	slices.Sort(urls)
	slices.Sort(origins)
	return urls, origins
}

// FrontchannelPage is a sign-out's last page that loads the apps'
// front-channel logout pages in hidden iframes (F2), as
// ParseFrontchannelPage reads it.
type FrontchannelPage struct {
	// Frames are the addresses the page's iframes load, by origin
	// ("https://app-a.example").
	Frames map[string]*url.URL
	// Refresh reports whether the page goes on by itself: by a meta
	// refresh to Target after Delay seconds.
	Refresh bool
	Delay   int
	Target  string
	// Continue is where the page's Continue link goes, "" without one.
	Continue string
	// FrameSrc are the sources of the page's CSP frame-src, sorted; nil
	// without one.
	FrameSrc []string
}

var (
	fcIframeRe   = regexp.MustCompile(`<iframe src="([^"]*)"[^>]*\bhidden\b[^>]*></iframe>`)
	fcRefreshRe  = regexp.MustCompile(`<meta http-equiv="refresh" content="([^"]*)">`)
	fcContentRe  = regexp.MustCompile(`^(\d+);url=(.*)$`)
	fcContinueRe = regexp.MustCompile(`<a id="continue" href="([^"]*)">`)
)

// ParseFrontchannelPage reads p as a front-channel page. It fails t
// unless p is a 200 page whose iframes are all hidden, each on an origin
// of its own, with addresses and a meta refresh it can read: Frames is
// keyed by origin, so a second frame there would be lost, and an iframe
// it does not read would go unseen by the test.
func ParseFrontchannelPage(t TB, p Page) FrontchannelPage {
	t.Helper()
	if p.Status != http.StatusOK || p.Location != "" {
		t.Fatalf("%s: %d %q, want a 200 front-channel page", p.URL, p.Status, p.Location)
	}
	fp := FrontchannelPage{Frames: map[string]*url.URL{}}
	iframes := fcIframeRe.FindAllStringSubmatch(p.Body, -1)
	if n := strings.Count(p.Body, "<iframe"); n != len(iframes) {
		t.Fatalf("%d iframes, %d of them hidden: %s", n, len(iframes), p.Body)
	}
	for _, m := range iframes {
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatalf("iframe src %q: %v", m[1], err)
		}
		origin := u.Scheme + "://" + u.Host
		if _, dup := fp.Frames[origin]; dup {
			t.Fatalf("two frames for %s: %s", origin, p.Body)
		}
		fp.Frames[origin] = u
	}
	if m := fcRefreshRe.FindStringSubmatch(p.Body); m != nil {
		c := fcContentRe.FindStringSubmatch(html.UnescapeString(m[1]))
		if c == nil {
			t.Fatalf("meta refresh content %q", m[1])
		}
		delay, err := strconv.Atoi(c[1])
		if err != nil {
			t.Fatalf("meta refresh content %q: %v", m[1], err)
		}
		fp.Refresh, fp.Delay, fp.Target = true, delay, c[2]
	}
	if m := fcContinueRe.FindStringSubmatch(p.Body); m != nil {
		fp.Continue = html.UnescapeString(m[1])
	}
	for _, d := range strings.Split(p.Header.Get("Content-Security-Policy"), "; ") {
		if rest, ok := strings.CutPrefix(d, "frame-src "); ok {
			fp.FrameSrc = slices.Sorted(slices.Values(strings.Fields(rest)))
			break
		}
	}
	return fp
}

// Frame is the address the page loads for test app id, or nil.
func (fp FrontchannelPage) Frame(id string) *url.URL {
	return fp.Frames[frontchannelOrigin(id)]
}

// FrameURLs are the addresses the page's iframes load, sorted.
func (fp FrontchannelPage) FrameURLs() []string {
	var urls []string
	for _, u := range fp.Frames {
		urls = append(urls, u.String())
	}
	slices.Sort(urls)
	return urls
}
