package console

import (
	"net/http"
	"time"
)

// A secret the console makes (an app created, a secret rotated) is shown
// on a GET, never on the answer to the POST that made it
// (post/redirect/get): a reload of a POST's answer would post again and
// make another app or another secret. The POST seals the secret into a
// short-lived cookie and answers 303 to the app's page, which shows it
// once and clears the cookie. A reload of that page (or the back button:
// pages are never cached) finds no cookie and says the secret was shown
// once; only a POST ever makes one.

const (
	// secretCookie carries a secret just made to the page that shows it.
	// Package web writes it as every cookie of Sesame (HttpOnly,
	// SameSite=Lax, path /, __Host- on https); what it holds opens only
	// on the page of its app, for the operator who made it.
	secretCookie = "sesame_console_secret"
	// secretTTL bounds how long the secret waits for its page: the
	// browser follows the redirect at once.
	secretTTL = 2 * time.Minute
)

// madeSecret is a secret just made, sealed in secretCookie.
type madeSecret struct {
	// App is the app it belongs to; Account the operator who made it, so
	// that another person signed in to this browser later never sees it.
	App     string `json:"c"`
	Account string `json:"a"`
	Secret  string `json:"s"`
	Expires int64  `json:"e"` // Unix seconds
}

// showSecretOnce answers the POST that made secret for app id: a 303 to
// the app's page with notice (created, rotated), which shows it once. If
// the secret cannot be sealed, the app's page answers the POST itself
// with the secret, as a last resort: it is made already, and losing it
// would leave the operator to rotate again.
func (c *Console) showSecretOnce(w http.ResponseWriter, r *http.Request, op operator, p appPage) {
	m := madeSecret{App: p.App.ID, Account: op.AccountID, Secret: p.Secret, Expires: c.now().Add(secretTTL).Unix()}
	sealed, err := seal(c.secrets, m)
	if err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "console: seal the secret for its page; shown on the post's answer", "client_id", p.App.ID, "err", err)
		c.showAppPage(w, r, op, http.StatusOK, p)
		return
	}
	c.cfg.Cookies.Set(w, r, secretCookie, sealed, time.Unix(m.Expires, 0))
	http.Redirect(w, r, appURL(p.App.ID)+"?done="+p.Notice, http.StatusSeeOther)
}

// takeSecret returns the secret made for app id by op that the request
// carries, clearing it so that it shows only once. Without one, shown
// says whether the page is to say that the secret was shown once: it was
// (no cookie), or the cookie for this app expired, was another
// operator's, or does not open (a cookie nobody's page can use is
// cleared too). A cookie sealed for another app is that app's page's to
// show: it is left as it is, and this page says nothing of a secret.
func (c *Console) takeSecret(w http.ResponseWriter, r *http.Request, op operator, id string) (secret string, shown bool) {
	raw := c.cfg.Cookies.Get(r, secretCookie)
	if raw == "" {
		return "", true
	}
	var m madeSecret
	if !open(c.secrets, raw, &m) {
		c.cfg.Cookies.Clear(w, r, secretCookie)
		return "", true
	}
	if m.App != id {
		return "", false
	}
	c.cfg.Cookies.Clear(w, r, secretCookie)
	if c.now().Unix() >= m.Expires || m.Account != op.AccountID {
		return "", true
	}
	return m.Secret, false
}
