package web

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"
)

// FormField is the hidden input that carries a form's browser token.
const FormField = "csrf"

// Refusal messages, in words a person reads on the error page.
const (
	msgCrossSite = "This form was sent from another site. Sesame only accepts its own forms: go back to the app and start again."
	msgBadToken  = "This form is out of date or did not come from Sesame's own page. Reload the page and try again."
	msgUnread    = "The form could not be read."
)

// Forms binds the posts of Sesame's own forms to the browser that loaded
// them (W1, spec S7). A page that shows a form sets the browser cookie (a
// random value) and puts Token, an HMAC of that value under Key, in the
// form; a post is accepted only with the token of the cookie it carries.
// A third-party page can make a browser post, but it cannot read the
// cookie or compute the HMAC, so it cannot sign a victim's browser in to
// the attacker's account (login CSRF) or act for a signed-in person.
type Forms struct {
	Cookies Cookies
	// Key keys the token's HMAC; every instance must hold the same one
	// (FormKey).
	Key []byte
	// TTL is how long the browser cookie lives after the last page that
	// showed a form; a page left open that long still posts.
	TTL time.Duration
	Now func() time.Time
	// Refuse answers a refused post with an HTML page in words.
	Refuse func(w http.ResponseWriter, r *http.Request, status int, message string)
}

// FormKey derives the token key from the operator's secret (HKDF-SHA256,
// its own label, so it is independent of the key that seals signing keys).
// A nil secret makes a random key: it suits tests and a lone instance,
// where a restart only makes a page left open ask for a reload.
func FormKey(secret []byte) ([]byte, error) {
	if len(secret) == 0 {
		key := make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand never fails on supported platforms
		return key, nil
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "sesame browser-bound form tokens", 32)
	if err != nil {
		return nil, fmt.Errorf("derive form token key: %w", err)
	}
	return key, nil
}

// Browser returns the browser's identifier (the browser cookie), or ""
// when the request carries none that Sesame could have made.
func (f *Forms) Browser(r *http.Request) string {
	v := f.Cookies.Get(r, BrowserCookie)
	if !wellFormed(v) {
		return ""
	}
	return v
}

// EnsureBrowser returns the browser's identifier, making one when the
// request carries none, and sets the cookie so it lives TTL from now.
func (f *Forms) EnsureBrowser(w http.ResponseWriter, r *http.Request) string {
	v := f.Browser(r)
	if v == "" {
		var b [32]byte
		_, _ = rand.Read(b[:])
		v = base64.RawURLEncoding.EncodeToString(b[:])
	}
	f.Cookies.Set(w, r, BrowserCookie, v, f.Now().Add(f.TTL))
	return v
}

// Token returns the token a page's forms carry in the hidden input
// FormField, setting the browser cookie as EnsureBrowser does. Call it
// once per response.
func (f *Forms) Token(w http.ResponseWriter, r *http.Request) string {
	return f.token(f.EnsureBrowser(w, r))
}

// Valid reports whether the posted form carries the token of the browser
// cookie the request carries. r.ParseForm must have run.
func (f *Forms) Valid(r *http.Request) bool {
	browser := f.Browser(r)
	got := r.PostForm.Get(FormField)
	return browser != "" && got != "" && hmac.Equal([]byte(got), []byte(f.token(browser)))
}

// Protect wraps the handler of a form post (W1): a post whose
// Sec-Fetch-Site is cross-site is refused with 403, one without the
// browser's token with 400 (the same as a stale page), and only then
// does next run. A missing Sec-Fetch-Site (an older browser, a test
// client) is accepted: the token still protects.
func (f *Forms) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if CrossSite(r) {
			f.Refuse(w, r, http.StatusForbidden, msgCrossSite)
			return
		}
		if err := r.ParseForm(); err != nil {
			f.Refuse(w, r, http.StatusBadRequest, msgUnread)
			return
		}
		if !f.Valid(r) {
			f.Refuse(w, r, http.StatusBadRequest, msgBadToken)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CrossSite reports whether the browser says the request was made by a
// page of another site (Fetch Metadata). Another port of the same host
// is the same site, so same-site is not refused: the token guards it.
func CrossSite(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "cross-site"
}

// token is the HMAC of a browser identifier under the key.
func (f *Forms) token(browser string) string {
	m := hmac.New(sha256.New, f.Key)
	m.Write([]byte("sesame form\x00"))
	m.Write([]byte(browser))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// wellFormed reports whether v looks like an identifier EnsureBrowser
// made: 256 bits in unpadded base64url.
func wellFormed(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}
