package admin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/oidc"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/ui"
)

// AccountPage serves /account: the signed-in person's devices and apps.
type AccountPage struct {
	Store    store.Store
	Accounts *account.Service
	Sessions *session.Service
	Signout  *signout.Service
	Pages    *ui.Pages
	// SecureCookies is true when the issuer is https (S1).
	SecureCookies bool
	Now           func() time.Time
	Logger        *slog.Logger
}

// csrf is the token the page's forms carry: an HMAC of the session cookie,
// so only a page read with that cookie can post (spec S4).
func csrf(cookie string) string {
	m := hmac.New(sha256.New, []byte(cookie))
	m.Write([]byte("sesame account page"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// current returns the browser's session, or none.
func (p *AccountPage) current(r *http.Request) (session.Current, string, bool) {
	c, err := r.Cookie(session.CookieName)
	if err != nil {
		return session.Current{}, "", false
	}
	cur, err := p.Sessions.FromCookie(r.Context(), c.Value)
	if err != nil {
		if !errors.Is(err, session.ErrNoSession) {
			p.Logger.ErrorContext(r.Context(), "read session", "err", err)
		}
		return session.Current{}, "", false
	}
	return cur, c.Value, true
}

// Show renders the account page, or its sign-in form without a session.
func (p *AccountPage) Show(w http.ResponseWriter, r *http.Request) {
	cur, cookie, ok := p.current(r)
	if !ok {
		p.Pages.SignIn(w, http.StatusOK, ui.SignInData{Action: "/account/sign-in", App: "your account"})
		return
	}
	sessions, err := p.Store.SessionsByAccount(r.Context(), cur.Account.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	grants, err := p.Store.GrantsByAccount(r.Context(), cur.Account.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	now := p.Now()
	d := ui.AccountData{Username: cur.Account.Username, CSRF: csrf(cookie), Notice: r.URL.Query().Get("done")}
	for _, s := range sessions {
		if !now.Before(s.ExpiresAt) || !now.Before(s.MaxExpiresAt) {
			continue
		}
		var apps []string
		for _, a := range s.Authorizations {
			apps = append(apps, a.ClientID)
		}
		d.Devices = append(d.Devices, ui.Device{
			ID: s.ID, Browser: s.UserAgent, IP: s.IP, SignedInAt: s.AuthTime, LastActive: s.LastSeenAt,
			ThisDevice: s.ID == cur.Session.ID, Apps: strings.Join(apps, ", "),
		})
	}
	for _, g := range grants {
		if grant.Check(g, now) != nil {
			continue
		}
		name := g.ClientID
		if c, err := p.Store.Client(r.Context(), g.ClientID); err == nil && c.Name != "" {
			name = c.Name
		}
		d.Apps = append(d.Apps, ui.ConnectedApp{
			GrantID: g.ID, App: name, Scopes: strings.Join(g.Scopes, " "), Offline: grant.HasOffline(g),
			GrantedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt,
		})
	}
	p.Pages.Account(w, d)
}

// SignIn handles the account page's own sign-in form: a new session (S1),
// no app involved.
func (p *AccountPage) SignIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.Pages.Error(w, http.StatusBadRequest, ui.ErrorData{Message: "The form could not be read."})
		return
	}
	username := r.PostForm.Get("username")
	page := ui.SignInData{Action: "/account/sign-in", App: "your account", Username: username}
	acct, err := p.Accounts.Authenticate(r.Context(), username, r.PostForm.Get("password"), oidc.ClientIP(r))
	if err != nil {
		oidc.RefuseSignIn(w, p.Pages, page, err)
		return
	}
	prev, _, hasPrev := p.current(r)
	sess, cookie := p.Sessions.New(acct.ID, []string{"pwd"}, session.Device{UserAgent: r.UserAgent(), IP: oidc.ClientIP(r)})
	var switched signout.Done
	err = p.Store.InTx(r.Context(), func(tx store.Tx) error {
		if hasPrev && prev.Account.ID != acct.ID { // S7
			var err error
			if switched, err = p.Signout.Global(r.Context(), tx, signout.Request{Session: prev.Session, Cause: signout.CauseAccountSwitch}); err != nil {
				return err
			}
		}
		if err := account.SignedIn(r.Context(), tx, acct, "", p.Now()); err != nil {
			return err
		}
		return tx.CreateSession(r.Context(), sess)
	})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if switched.Receipt.ID != "" {
		p.Signout.Deliver(r.Context(), switched)
	}
	http.SetCookie(w, &http.Cookie{Name: session.CookieName, Value: cookie, Path: "/", Expires: sess.MaxExpiresAt,
		HttpOnly: true, Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// act checks a posted form's session and CSRF token and returns the
// session; otherwise it answers and returns false.
func (p *AccountPage) act(w http.ResponseWriter, r *http.Request) (session.Current, bool) {
	cur, cookie, ok := p.current(r)
	if !ok {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return cur, false
	}
	if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(csrf(cookie))) {
		p.Pages.Error(w, http.StatusBadRequest, ui.ErrorData{Title: "Request refused", Message: "This form is out of date. Reload your account page and try again."})
		return cur, false
	}
	return cur, true
}

// EndSession signs one of the person's devices out (O4 for that session).
func (p *AccountPage) EndSession(w http.ResponseWriter, r *http.Request) {
	cur, ok := p.act(w, r)
	if !ok {
		return
	}
	target, err := p.Store.Session(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && target.AccountID != cur.Account.ID) {
		p.notFound(w)
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if _, err := p.Signout.RevokeSession(r.Context(), target.ID, signout.CauseAccount); err != nil {
		p.fail(w, r, err)
		return
	}
	if target.ID == cur.Session.ID {
		p.clearCookie(w)
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account?done=device", http.StatusSeeOther)
}

// RevokeGrant disconnects one app (O7 for that grant).
func (p *AccountPage) RevokeGrant(w http.ResponseWriter, r *http.Request) {
	cur, ok := p.act(w, r)
	if !ok {
		return
	}
	g, err := p.Store.Grant(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.AccountID != cur.Account.ID) {
		p.notFound(w)
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if _, err := p.Signout.RevokeGrant(r.Context(), g.ID, signout.CauseAccount); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?done=app", http.StatusSeeOther)
}

// SignOutEverywhere ends every session of the account (O6).
func (p *AccountPage) SignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	cur, ok := p.act(w, r)
	if !ok {
		return
	}
	if _, err := p.Signout.AllDevices(r.Context(), cur.Account.ID, signout.CauseAccount); err != nil {
		p.fail(w, r, err)
		return
	}
	p.clearCookie(w)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

func (p *AccountPage) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: session.CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// notFound answers for another person's session or grant as for one that
// does not exist: a page never tells whether someone else's id is real.
func (p *AccountPage) notFound(w http.ResponseWriter) {
	p.Pages.Error(w, http.StatusNotFound, ui.ErrorData{Title: "Not found", Message: "There is no such device or app on your account."})
}

func (p *AccountPage) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.Logger.ErrorContext(r.Context(), "account page", "err", err)
	p.Pages.Error(w, http.StatusServiceUnavailable, ui.ErrorData{Message: "Sesame cannot do this right now. Nothing was changed; please try again."})
}
