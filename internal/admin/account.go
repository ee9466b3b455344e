package admin

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/activity"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/oidc"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signin"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/ui"
	"github.com/sesame-id/sesame/internal/web"
)

// AccountPage serves /account: the signed-in person's devices and apps;
// and the landing page, which says who is signed in.
type AccountPage struct {
	// Issuer is the OpenID Connect issuer the landing page names.
	Issuer   string
	Store    store.Store
	Accounts *account.Service
	Sessions *session.Service
	Signout  *signout.Service
	// SignIns turns an authenticated person into a session, as the OIDC
	// flow does (W1, S1, S7).
	SignIns *signin.Service
	Pages   *ui.Pages
	// Cookies reads and writes the session cookie; Forms gives the page's
	// forms their browser token (W1). Every POST route of the page is
	// wrapped by Forms.Protect, which checks the token.
	Cookies web.Cookies
	Forms   *web.Forms
	Now     func() time.Time
	Logger  *slog.Logger
	// Activity counts its sign-ins for the console's charts; nil counts
	// nothing.
	Activity *activity.Recorder
}

// current returns the browser's session, or none.
func (p *AccountPage) current(r *http.Request) (session.Current, bool) {
	cur, err := p.Sessions.FromCookie(r.Context(), p.Cookies.Get(r, web.SessionCookie))
	if err != nil {
		if !errors.Is(err, session.ErrNoSession) {
			p.Logger.ErrorContext(r.Context(), "read session", "err", err)
		}
		return session.Current{}, false
	}
	return cur, true
}

// signInPage is the page's own sign-in form. Its post stays on Sesame, so
// its CSP needs no redirect target.
func (p *AccountPage) signInPage(w http.ResponseWriter, r *http.Request) ui.SignInData {
	return ui.SignInData{Action: "/account/sign-in", App: "your account", CSRF: p.Forms.Token(w, r)}
}

// Show renders the account page, or its sign-in form without a session.
func (p *AccountPage) Show(w http.ResponseWriter, r *http.Request) {
	cur, ok := p.current(r)
	if !ok {
		p.Pages.SignIn(w, http.StatusOK, p.signInPage(w, r))
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
	names := &appNames{store: p.Store, seen: map[string]string{}}
	d := ui.AccountData{Username: cur.Account.Username, CSRF: p.Forms.Token(w, r), Notice: r.URL.Query().Get("done")}
	for _, s := range sessions {
		if !now.Before(s.ExpiresAt) || !now.Before(s.MaxExpiresAt) {
			continue
		}
		var apps []string
		for _, a := range s.Authorizations {
			apps = append(apps, names.of(r, a.ClientID))
		}
		d.Devices = append(d.Devices, ui.Device{
			ID: s.ID, Name: session.DeviceName(s.UserAgent), IP: s.IP, SignedInAt: s.AuthTime, LastActive: s.LastSeenAt,
			ThisDevice: s.ID == cur.Session.ID, Apps: apps,
		})
	}
	// This device first: it is the one a person looks for.
	slices.SortStableFunc(d.Devices, func(a, b ui.Device) int {
		switch {
		case a.ThisDevice == b.ThisDevice:
			return 0
		case a.ThisDevice:
			return -1
		}
		return 1
	})
	for _, g := range grants {
		if grant.Check(g, now) != nil {
			continue
		}
		d.Apps = append(d.Apps, ui.ConnectedApp{
			GrantID: g.ID, App: names.of(r, g.ClientID), Access: ui.AccessWords(g.Scopes), Offline: grant.HasOffline(g),
			GrantedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt,
		})
	}
	p.Pages.Account(w, d)
}

// appNames names apps as the account page shows them: the client's name,
// or its id when it has none or cannot be read. Each client is read once
// per page.
type appNames struct {
	store store.Store
	seen  map[string]string
}

func (n *appNames) of(r *http.Request, clientID string) string {
	if name, ok := n.seen[clientID]; ok {
		return name
	}
	name := clientID
	if c, err := n.store.Client(r.Context(), clientID); err == nil && c.Name != "" {
		name = c.Name
	}
	n.seen[clientID] = name
	return name
}

// Landing serves the landing page at / and at the issuer: what this
// server is, its issuer and discovery document, and who is signed in in
// this browser, with the way to the account page. A session that cannot
// be read counts as none: the page is only a signpost.
func (p *AccountPage) Landing(w http.ResponseWriter, r *http.Request) {
	d := ui.LandingData{Issuer: p.Issuer, Discovery: p.Issuer + "/.well-known/openid-configuration"}
	if cur, ok := p.current(r); ok {
		d.Username = cur.Account.Username
	}
	p.Pages.Landing(w, d)
}

// SignIn handles the account page's own sign-in form: the same sign-in
// as the OIDC flow's (package signin), with no app involved. When it
// signed another account out of this browser (S7), that account's apps'
// front-channel pages load on the way to the page (toAccount).
func (p *AccountPage) SignIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.Pages.Error(w, http.StatusBadRequest, ui.ErrorData{Message: "Sesame could not read the form you sent. Go back, reload the page and try again."})
		return
	}
	username := r.PostForm.Get("username")
	page := p.signInPage(w, r)
	page.Username = username
	acct, err := p.Accounts.Authenticate(r.Context(), username, r.PostForm.Get("password"), web.ClientIP(r))
	if err != nil {
		oidc.RefuseSignIn(w, p.Pages, page, err)
		return
	}
	si, err := p.SignIns.Begin(r.Context(), signin.Request{
		Account: acct, PreviousCookie: p.Cookies.Get(r, web.SessionCookie), AMR: []string{"pwd"},
		Device: session.Device{UserAgent: r.UserAgent(), IP: web.ClientIP(r)},
	})
	if err == nil {
		err = si.Commit(r.Context(), nil)
	}
	if err != nil {
		p.Logger.ErrorContext(r.Context(), "account page sign-in", "err", err)
		oidc.RefuseSignIn(w, p.Pages, page, err)
		return
	}
	p.Cookies.Set(w, r, web.SessionCookie, si.Cookie, si.Session.MaxExpiresAt)
	p.Activity.Count(activity.SignInPassword)
	started := time.Now()
	si.Deliver(r.Context())
	p.toAccount(w, r, ui.FrontchannelSignOut{Pages: si.Frontchannel(), Switched: true, Left: p.Signout.Left(started)})
}

// act returns the session of a posted form, whose browser token
// Forms.Protect has checked; without a session it sends the person back
// to the page and returns false.
func (p *AccountPage) act(w http.ResponseWriter, r *http.Request) (session.Current, bool) {
	cur, ok := p.current(r)
	if !ok {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return cur, false
	}
	return cur, true
}

// EndSession signs one of the person's devices out (O4 for that session).
// This device's own sign-out happens in this browser, so it loads its
// apps' front-channel pages on the way back (toAccount, F2); another
// device's apps are told by back-channel alone.
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
	// Measured from before the sign-out's transaction, which is short
	// next to the deliveries it waits for after.
	started := time.Now()
	d, err := p.Signout.RevokeSession(r.Context(), target.ID, signout.CauseAccount,
		p.auditing(r, cur, audit.SessionRevoke, audit.OnSession(target.ID), receiptDetail), signout.InBrowser(cur.Session.ID))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if target.ID == cur.Session.ID {
		p.Cookies.Clear(w, r, web.SessionCookie)
		p.toAccount(w, r, ui.FrontchannelSignOut{Pages: d.Frontchannel, Left: p.Signout.Left(started)})
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
	if _, err := p.Signout.RevokeGrant(r.Context(), g.ID, signout.CauseAccount,
		p.auditing(r, cur, audit.GrantRevoke, audit.OnGrant(g.ID), grantDetail)); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?done=app", http.StatusSeeOther)
}

// SignOutEverywhere ends every session of the account (O6). This
// browser's session is among them: its apps' front-channel pages load on
// the way back (toAccount, F2), the other devices' apps are told by
// back-channel alone.
func (p *AccountPage) SignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	cur, ok := p.act(w, r)
	if !ok {
		return
	}
	started := time.Now() // as EndSession's
	all, err := p.Signout.AllDevices(r.Context(), cur.Account.ID, signout.CauseAccount,
		p.auditing(r, cur, audit.AccountSignOutEverywhere, audit.OnAccount(cur.Account.ID), func(done []signout.Done) string { return audit.SessionsEnded(len(done)) }),
		signout.InBrowser(cur.Session.ID))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.Cookies.Clear(w, r, web.SessionCookie)
	// Only this browser's sign-out has pages (InBrowser).
	var pages []signout.Frontchannel
	for _, d := range all {
		pages = append(pages, d.Frontchannel...)
	}
	p.toAccount(w, r, ui.FrontchannelSignOut{Pages: pages, Left: p.Signout.Left(started)})
}

// toAccount ends a sign-out of this browser's own session, or a sign-in
// that signed another account out of it (S7), on the way back to the
// account page: by a 303, or, when it ended apps with a front-channel
// logout page, by the page that loads them first (F2). fc holds the
// sign-out's pages, its share of the wait and the page's wording; the
// rest is the account page's own.
func (p *AccountPage) toAccount(w http.ResponseWriter, r *http.Request, fc ui.FrontchannelSignOut) {
	if len(fc.Pages) == 0 {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	fc.Issuer, fc.Client, fc.Target = p.Issuer, p.Store.Client, "/account"
	p.Pages.Frontchannel(w, fc.Data(r.Context()))
}

// auditing is the signout.Record of a change the signed-in person makes
// to their own account: the audit log says who (the account), from where
// and what, in the change's own transaction.
func (p *AccountPage) auditing(r *http.Request, cur session.Current, action audit.Action, target audit.Target, detail func([]signout.Done) string) signout.Record {
	e := audit.Entry{Actor: audit.ByAccount(cur.Account.ID), Action: action, Target: target, Account: cur.Account.ID, Address: web.ClientIP(r)}
	return auditing(r.Context(), audit.Recorder{Store: p.Store, Now: p.Now}, e, detail)
}

// notFound answers for another person's session or grant as for one that
// does not exist: a page never tells whether someone else's id is real.
func (p *AccountPage) notFound(w http.ResponseWriter) {
	p.Pages.Error(w, http.StatusNotFound, ui.ErrorData{Title: "Not found", Message: "There is no such device or app on your account: it may already be signed out or disconnected. Go back to your account page to see what is there now."})
}

func (p *AccountPage) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.Logger.ErrorContext(r.Context(), "account page", "err", err)
	p.Pages.Error(w, http.StatusServiceUnavailable, ui.ErrorData{Message: "Sesame cannot do this right now. Nothing was changed; please try again in a moment."})
}
