package web

import (
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/session"
)

// The cookies Sesame sets, by their base name: on an https issuer the
// name on the wire has the __Host- prefix (Cookies.Name).
const (
	// SessionCookie references the Sesame session (S1).
	SessionCookie = session.CookieName
	// BrowserCookie is the pre-session cookie: a random value naming this
	// browser, to which form tokens and pending sign-ins are bound (W1).
	BrowserCookie = "sesame_browser"
)

// hostPrefix is the prefix a browser accepts only on a Secure cookie of
// path / with no Domain, set by the host itself: no sibling subdomain or
// plain-http page can plant or overwrite it.
const hostPrefix = "__Host-"

// formerNames are the names a cookie had in earlier releases, still read
// so that an upgrade signs nobody out: the session cookie was
// sesame_session before the __Host- prefix. A value read under it is
// marked (session.FormerCookie), and the session service accepts it only
// for a session made before the rename (store.Session.LegacyCookie), so a
// sibling subdomain cannot plant a former-name cookie for any session made
// since, and the name stops opening anything once session_max_ttl has
// passed since the upgrade.
//
// The browser cookie has no former name on purpose: it replaces
// sesame_interaction, and reading an unprefixed copy would let a sibling
// subdomain plant a browser value whose form token it knows, which is
// exactly what the prefix prevents. A sign-in pending across the upgrade
// is started again.
var formerNames = map[string][]string{
	SessionCookie: {session.CookieName},
}

// Cookies writes and reads Sesame's cookies (S1): HttpOnly, SameSite=Lax
// (a top-level GET to /auth from an app must carry the session), path /,
// and Secure with the __Host- prefix when the issuer is https. A plain-http
// issuer is only allowed on loopback, where a Secure cookie would never
// come back.
type Cookies struct {
	secure bool
}

// NewCookies returns the cookies of a Sesame serving issuer.
func NewCookies(issuer string) Cookies {
	return Cookies{secure: strings.HasPrefix(issuer, "https://")}
}

// Name is the name cookie base has on the wire.
func (c Cookies) Name(base string) string {
	if c.secure {
		return hostPrefix + base
	}
	return base
}

// Get returns the value of cookie base the request carries, or "". A
// cookie still under a former name is read too (formerNames).
func (c Cookies) Get(r *http.Request, base string) string {
	if v, err := r.Cookie(c.Name(base)); err == nil && v.Value != "" {
		return v.Value
	}
	for old := range c.former(base) {
		if v, err := r.Cookie(old); err == nil && v.Value != "" {
			if base == SessionCookie {
				return session.FormerCookie(v.Value)
			}
			return v.Value
		}
	}
	return ""
}

// Set writes cookie base with value until expires (a browser-session
// cookie when expires is zero), and removes a copy under a former name
// the request carried, so it can never be read in its place later.
func (c Cookies) Set(w http.ResponseWriter, r *http.Request, base, value string, expires time.Time) {
	ck := c.cookie(c.Name(base), value)
	ck.Expires = expires
	http.SetCookie(w, ck)
	c.dropFormer(w, r, base)
}

// Clear removes cookie base, under its former names too.
func (c Cookies) Clear(w http.ResponseWriter, r *http.Request, base string) {
	ck := c.cookie(c.Name(base), "")
	ck.MaxAge = -1
	http.SetCookie(w, ck)
	c.dropFormer(w, r, base)
}

// cookie is a cookie of Sesame with every attribute of S1.
func (c Cookies) cookie(name, value string) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   c.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// former yields the former names of base that differ from its name now,
// without building a list on every request.
func (c Cookies) former(base string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, n := range formerNames[base] {
			if n != c.Name(base) && !yield(n) {
				return
			}
		}
	}
}

func (c Cookies) dropFormer(w http.ResponseWriter, r *http.Request, base string) {
	for old := range c.former(base) {
		if _, err := r.Cookie(old); err != nil {
			continue
		}
		ck := c.cookie(old, "")
		ck.MaxAge = -1
		http.SetCookie(w, ck)
	}
}
