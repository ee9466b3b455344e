package endsession

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sesame-id/sesame/internal/store"
)

// idTokenHint is what a verified id_token_hint says: the client it was
// issued to and the sid of that client's authorization in the session
// that signed in. The zero value is "no hint".
type idTokenHint struct {
	clientID string
	sid      string
}

// readHint verifies an id_token_hint and reports whether it is an ID token
// Sesame issued (O2, O3, spec L2, L3): Sesame's signature with a published
// key (an expired token is fine: RP-Initiated Logout §2 lets an OP accept
// the hints of past sessions), iss this issuer, sub and a single aud. Only
// ID tokens are accepted: a logout token (typ logout+jwt, an events
// claim) or any other JWT (another typ, no sub) is refused like a forged
// one, so a token an app received for another purpose cannot stand in for
// the one that proves who is signing out.
func (h *Handler) readHint(raw string) (idTokenHint, bool) {
	verified, err := h.Keys.Verify(raw)
	if err != nil {
		return idTokenHint{}, false
	}
	if verified.Type != "" && !strings.EqualFold(verified.Type, "JWT") { // Sesame signs ID tokens with typ JWT
		return idTokenHint{}, false
	}
	var claims struct {
		Issuer   string          `json:"iss"`
		Subject  string          `json:"sub"`
		Audience json.RawMessage `json:"aud"`
		SID      string          `json:"sid"`
		Events   json.RawMessage `json:"events"`
	}
	if json.Unmarshal(verified.Payload, &claims) != nil || claims.Issuer != h.Issuer ||
		claims.Subject == "" || len(claims.Events) != 0 {
		return idTokenHint{}, false
	}
	aud := audience(claims.Audience)
	if aud == "" {
		return idTokenHint{}, false
	}
	return idTokenHint{clientID: aud, sid: claims.SID}, true
}

// origin is what an end-session request says about where it came from.
type origin struct {
	// client is the client the request names (by hint or client_id).
	client store.Client
	hint   idTokenHint
	// clientIDSent is true when client_id was a parameter.
	clientIDSent bool
	// redirect is the post_logout_redirect_uri sent, already checked to be
	// registered for client; empty when none was sent.
	redirect string
}

// proven reports whether a request to end the session proves where it came
// from, so that with signout_confirm: auto the confirm page may submit
// itself (O3, spec L8). Otherwise the page waits for the person, as
// RP-Initiated Logout §2 requires, so a link on any page cannot sign a
// browser out of every app (logout CSRF). The proofs:
//
//   - an id_token_hint Sesame issued whose sid is the sid of its client's
//     authorization in this browser's session sess: only an app this
//     session signed in to holds it. A hint of another session (or of
//     nobody's) proves nothing and decides alone: the page waits, whatever
//     else the request says (spec L8: hint ≠ current session);
//   - with no hint, a client_id and a post_logout_redirect_uri registered
//     for it, sent from a page of one of that client's registered redirect
//     or post-logout origins (the Referer a browser sends when the app's own
//     page links here; Logto's SDKs send client_id only). A page elsewhere
//     cannot forge the Referer of a browser's navigation.
func proven(r *http.Request, o origin, sess store.Session) bool {
	if o.hint != (idTokenHint{}) {
		return o.hint.sid != "" && slices.ContainsFunc(sess.Authorizations, func(a store.Authorization) bool {
			return a.ClientID == o.hint.clientID && a.SID == o.hint.sid
		})
	}
	if o.client.ID == "" || !o.clientIDSent || o.redirect == "" {
		return false
	}
	from := originOf(r.Header.Get("Referer"))
	if from == "" {
		return false
	}
	registered := slices.Concat(o.client.RedirectURIs, o.client.PostLogoutRedirectURIs)
	return slices.ContainsFunc(registered, func(u string) bool { return originOf(u) == from })
}

// originOf returns the origin (RFC 6454) of an http or https URL: scheme,
// host and port, lower case, the default port left out; "" for anything
// else (an absent Referer, a native app's private-use scheme).
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	switch {
	case scheme != "http" && scheme != "https":
		return ""
	case scheme == "http" && port == "80", scheme == "https" && port == "443":
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}
