package ui

import (
	"context"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/web"
)

// FrontchannelData fills the last page of a sign-out that ended the
// sessions of apps with a front-channel logout page (F2, OpenID Connect
// Front-Channel Logout 1.0 §3): it loads each page in a hidden iframe,
// then goes on to Target.
type FrontchannelData struct {
	// Frames are the apps' pages, with iss and sid already on their URLs.
	Frames []Frame
	// Target is where the page goes once the frames have loaded: the
	// registered post_logout_redirect_uri with state (O8). Empty when the
	// request gave none: the page is then the sign-out done page itself.
	Target string
	// Delay is how many seconds the page waits before it goes to Target
	// whatever the frames did (the meta refresh, which works without
	// JavaScript). At least 1: a refresh of 0 would leave before the
	// frames start.
	Delay int
	// AppOnly is true when only the requesting app was signed out (O5).
	AppOnly bool
	// Switched is true when the sign-out is an account switch (S7): the
	// person signed in with another account, and the page signs the
	// previous one out of its apps on the way to Target.
	Switched bool
	// Nonce allows the page's one script, which goes to Target as soon as
	// every frame has loaded instead of waiting for Delay.
	Nonce string
}

// FrontchannelSignOut is a sign-out answered in the browser whose
// session it ended, as its last page is built from it when it returned
// front-channel logout pages (F2). End-session's confirm, the account
// page and a sign-in that switched accounts all build the page with
// Data, so that its frames, its share of the wait and its script's nonce
// are made in one place.
type FrontchannelSignOut struct {
	// Pages are the apps' pages the sign-out returned
	// (signout.Done.Frontchannel).
	Pages []signout.Frontchannel
	// Issuer is sent to each page as iss.
	Issuer string
	// Client reads an app's registration, for the name its frame's title
	// gives it.
	Client func(ctx context.Context, id string) (store.Client, error)
	// Left is what is left of backchannel_wait once the back-channel
	// attempts have had their turn (signout.Service.Left).
	Left time.Duration
	// Target, AppOnly and Switched are FrontchannelData's.
	Target   string
	AppOnly  bool
	Switched bool
}

// Data is the page that loads s's pages, each with iss and its sid, and
// then goes on to s.Target. Both channels share one wait: the refresh
// comes after what is left of it, rounded up to whole seconds (a refresh
// counts in seconds, and the frames must not get less than the rest of
// the wait), and at least one second later, so the frames get their
// chance even when a slow app used it up. An app whose registration
// cannot be read is named by its id: the sign-out is done, and must not
// fail over a frame's title.
func (s FrontchannelSignOut) Data(ctx context.Context) FrontchannelData {
	d := FrontchannelData{Target: s.Target, AppOnly: s.AppOnly, Switched: s.Switched,
		Delay: max(1, int(math.Ceil(s.Left.Seconds())))}
	for _, f := range s.Pages {
		name := f.ClientID
		if c, err := s.Client(ctx, f.ClientID); err == nil {
			name = client.Name(c)
		}
		d.Frames = append(d.Frames, Frame{App: name, URL: f.URL(s.Issuer)})
	}
	if s.Target != "" {
		d.Nonce, _ = token.NewValue()
	}
	return d
}

// Frame is one app's front-channel logout page.
type Frame struct {
	// App names the app, for the frame's title.
	App string
	// URL is the page to load.
	URL string
}

// FrameURL is the frame's src. It was checked when the client registered
// it (an http or https page on one of its redirect URIs' origins), so it
// is passed as it is; anything else becomes about:blank.
func (f Frame) FrameURL() template.URL {
	u, err := url.Parse(f.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "about:blank"
	}
	return template.URL(f.URL)
}

// TargetURL is Target as the refresh and the link use it. Target is a
// return address registered for the client, which for a native app may
// have its own scheme (html/template would blank it out), so it is passed
// as it is, except a scheme that runs code, which becomes the landing
// page.
func (d FrontchannelData) TargetURL() template.URL {
	u, err := url.Parse(d.Target)
	if d.Target == "" || err != nil {
		return "/"
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "vbscript", "data":
		return "/"
	}
	return template.URL(d.Target)
}

// policy allows the frames' origins, the page's one script when it goes
// on to a Target, and nothing else: the page has no form.
func (d FrontchannelData) policy() web.Policy {
	var p web.Policy
	if d.Target != "" {
		p.ScriptNonce = d.Nonce
	}
	for _, f := range d.Frames {
		p.FrameSources = append(p.FrameSources, f.URL)
	}
	return p
}

// Frontchannel renders the sign-out's last page when it must load apps'
// front-channel logout pages (contract: a 200 that loads their iframes,
// then follows a meta refresh to the redirect).
func (p *Pages) Frontchannel(w http.ResponseWriter, d FrontchannelData) {
	d.Delay = max(d.Delay, 1)
	p.render(w, http.StatusOK, "frontchannel.html", d)
}
