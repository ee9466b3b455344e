package ui

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

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
	// Nonce allows the page's one script, which goes to Target as soon as
	// every frame has loaded instead of waiting for Delay.
	Nonce string
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
