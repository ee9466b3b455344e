package signout

import (
	"net/url"
	"strings"
)

// Frontchannel is one app's front-channel logout page that a sign-out's
// last page loads in a hidden iframe (F2, OpenID Connect Front-Channel
// Logout 1.0 §3): the page ends the app's session in this browser.
type Frontchannel struct {
	ClientID string
	// URI is the client's frontchannel_logout_uri as registered.
	URI string
	// SID is the sid of the ended authorization (S3): the one the app's
	// ID tokens carry, by which it finds the session to end.
	SID string
}

// URL is the page's address as the iframe loads it: the registered URI,
// its query kept, with iss and sid appended (FCL §2, §3). The spec makes
// them optional, but both or neither; Sesame always sends both, whatever
// frontchannel_logout_session_required says, so that an app can tell its
// own sessions and issuer apart from anything else that loads the page.
func (f Frontchannel) URL(issuer string) string {
	params := url.Values{"iss": {issuer}, "sid": {f.SID}}.Encode()
	// Appended to the registered text rather than re-encoded through
	// url.URL, which could rewrite the app's own query. Validation
	// refused a fragment, so the query is the end of the URI.
	switch {
	case !strings.Contains(f.URI, "?"):
		return f.URI + "?" + params
	case strings.HasSuffix(f.URI, "?"), strings.HasSuffix(f.URI, "&"):
		return f.URI + params
	}
	return f.URI + "&" + params
}
