package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Policy is what one page may do beyond what every page may.
type Policy struct {
	// ScriptNonce, when set, allows the page's one inline script (the
	// confirm page's auto-submit).
	ScriptNonce string
	// FormTargets are the URLs a post of the page's forms may be
	// redirected to: the client's validated redirect_uri on the sign-in
	// and consent pages, the post_logout_redirect_uri on the confirm page.
	FormTargets []string
	// FrameSources are the pages the page loads in iframes: the apps'
	// front-channel logout pages on a sign-out's last page (F2). The
	// CSP's frame-src allows exactly their origins; with none, frames
	// stay refused by default-src 'none'.
	FrameSources []string
}

// SetPageHeaders sends the headers every page carries: no framing (spec
// A18), no referrer leaking codes or state (spec S5), no caching of a page
// that holds a token, nosniff, and a Content-Security-Policy that allows
// nothing foreign but p (W2).
func SetPageHeaders(h http.Header, p Policy) {
	h.Set("Content-Security-Policy", CSP(p))
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// CSP is a page's Content-Security-Policy. Its form-action is 'self' plus
// the origin of each of p.FormTargets: Chromium applies form-action to
// the redirect that follows a form post, so a sign-in that ends at the
// app's redirect_uri needs that origin, and nothing else is allowed. A
// page with p.FrameSources gets a frame-src of exactly their origins.
func CSP(p Policy) string {
	var b strings.Builder
	b.WriteString("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	seen := map[string]bool{}
	for _, t := range p.FormTargets {
		if src, ok := SourceOf(t); ok && !seen[src] {
			seen[src] = true
			b.WriteString(" " + src)
		}
	}
	if p.ScriptNonce != "" {
		b.WriteString("; script-src 'nonce-" + p.ScriptNonce + "'")
	}
	frames := false
	clear(seen)
	for _, f := range p.FrameSources {
		// Only a web page can be a frame: a private-use scheme's source
		// (scheme:) would allow every page of that scheme.
		src, ok := SourceOf(f)
		if !ok || seen[src] || !(strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://")) {
			continue
		}
		seen[src] = true
		if !frames {
			b.WriteString("; frame-src")
			frames = true
		}
		b.WriteString(" " + src)
	}
	return b.String()
}

var (
	schemeRe = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)
	// hostRe admits host names, IPv4 and bracketed IPv6 with a port: no
	// character that could end a CSP source (space, ';', ',') gets through.
	hostRe = regexp.MustCompile(`^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?$`)
)

// SourceOf is the CSP source expression that allows uri's origin:
// scheme://host[:port] for http and https, the scheme alone (scheme:) for
// an app's private-use scheme (RFC 8252 §7.1). ok is false for anything
// that is not a clean absolute URI, which is then left out of the policy.
func SourceOf(uri string) (src string, ok bool) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if !schemeRe.MatchString(scheme) {
		return "", false
	}
	if scheme != "http" && scheme != "https" {
		return scheme + ":", true
	}
	host := strings.ToLower(u.Host)
	if !hostRe.MatchString(host) {
		return "", false
	}
	return scheme + "://" + host, true
}
