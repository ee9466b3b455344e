package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/activity"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signin"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/ui"
	"github.com/sesame-id/sesame/internal/web"
)

// Login handles the sign-in form (contract: username, password); the
// route is wrapped by web.Forms.Protect (W1). Success is one sign-in
// (package signin: a new session, the previous one's apps carried or its
// account signed out, S1, S7) whose transaction also shows consent or
// issues the code. The person goes on there by a 303, or, when another
// account's apps with a front-channel logout page were signed out, by
// the page that loads those pages first (F2).
func (p *Provider) Login(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := p.loadInteraction(w, r)
	if !ok {
		return
	}
	if ar.Prompt != promptLogin {
		redirectTo(w, r, p.Path("/interaction/"+ar.ID))
		return
	}
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, http.StatusBadRequest, "Sesame could not read the form you sent. Go back to the app and sign in again.", CodeInvalidRequest)
		return
	}
	username := r.PostForm.Get("username")
	page := p.signInPage(w, r, ar, c)
	page.Username = username
	acct, err := p.Accounts.Authenticate(r.Context(), username, r.PostForm.Get("password"), web.ClientIP(r))
	if err != nil {
		// Refusals are answers, not faults: a flood of them must not be a
		// flood of error lines.
		if !errors.Is(err, account.ErrInvalidCredentials) && !errors.Is(err, account.ErrThrottled) && !errors.Is(err, account.ErrDisabled) &&
			!errors.Is(err, secret.ErrBusy) && !errors.Is(err, context.Canceled) {
			p.logError(r, "authenticate", err)
		}
		RefuseSignIn(w, p.Pages, page, err)
		return
	}

	res, err := p.grantableResources(r.Context(), acct.ID, ar.Params)
	if err != nil {
		p.logError(r, "API resources of the request", err)
		RefuseSignIn(w, p.Pages, page, err)
		return
	}
	admin, err := p.adminGrantable(r.Context(), c, acct.ID, ar.Params)
	if err != nil {
		p.logError(r, "roles of the account", err)
		RefuseSignIn(w, p.Pages, page, err)
		return
	}
	si, err := p.SignIns.Begin(r.Context(), signin.Request{
		Account: acct, ClientID: c.ID, PreviousCookie: p.Cookies.Get(r, web.SessionCookie), AMR: []string{"pwd"},
		Device:       session.Device{UserAgent: r.UserAgent(), IP: web.ClientIP(r)},
		MayEndGrants: issueDurability(c) == store.Durable,
	})
	var out issued
	var consent bool
	if err == nil {
		g, hasGrant := p.sessionGrant(r, si.Session, c)
		consent = p.needsConsent(c, ar.Params, res, g, hasGrant)
		err = si.Commit(r.Context(), func(tx store.Tx) error {
			if consent {
				ar.Prompt, ar.AccountID, ar.SessionID = promptConsent, acct.ID, si.Session.ID
				return tx.UpdateAuthRequest(r.Context(), ar)
			}
			var err error
			if out, err = p.issueCode(r.Context(), tx, issueParams{client: c, session: si.Session, params: ar.Params, resources: res, admin: admin}); err != nil {
				return err
			}
			return tx.DeleteAuthRequest(r.Context(), ar.ID)
		})
	}
	if err != nil {
		p.logError(r, "complete sign-in", err)
		RefuseSignIn(w, p.Pages, page, err)
		return
	}
	p.Cookies.Set(w, r, web.SessionCookie, si.Cookie, si.Session.MaxExpiresAt)
	started := time.Now()
	si.Deliver(r.Context())
	p.deliver(r, out.evicted)
	p.Logger.InfoContext(r.Context(), "signed in", "event", "sign_in", "account_id", acct.ID, "client_id", c.ID, "session_id", si.Session.ID)
	p.Activity.Count(activity.SignInPassword)
	target := p.Path("/interaction/" + ar.ID)
	if !consent {
		target = p.codeURL(ar.Params, out.code)
	}
	// S7, F2: a sign-in that signed another account out of this browser
	// loads the front-channel pages of that account's apps on the way.
	if pages := si.Frontchannel(); len(pages) > 0 {
		p.Pages.Frontchannel(w, ui.FrontchannelSignOut{Pages: pages, Issuer: p.Issuer, Client: p.Clients.Get,
			Left: p.Signout.Left(started), Target: target, Switched: true}.Data(r.Context()))
		return
	}
	redirectTo(w, r, target)
}

// codeURL is where a person goes back to the client with the code (Core
// §3.1.2.5, RFC 9207 iss).
func (p *Provider) codeURL(params store.AuthParams, code string) string {
	q := url.Values{"code": {code}, "iss": {p.Issuer}}
	if params.State != "" {
		q.Set("state", params.State)
	}
	return appendQuery(params.RedirectURI, q)
}

// RefuseSignIn re-renders a sign-in page after Authenticate failed: 401 for
// wrong credentials (docs/endpoints.md), 429 with Retry-After when throttled (A3),
// 503 with Retry-After when the password pool is full (A4), 503 when the
// database failed.
func RefuseSignIn(w http.ResponseWriter, pages *ui.Pages, page ui.SignInData, err error) {
	var throttled *account.ThrottledError
	var busy *secret.BusyError
	switch {
	case errors.As(err, &throttled):
		page.Error = fmt.Sprintf("Too many failed attempts. Try again in %s.", throttled.RetryAfter.Round(time.Second))
		w.Header().Set("Retry-After", retryAfter(throttled.RetryAfter))
		pages.SignIn(w, http.StatusTooManyRequests, page)
	case errors.As(err, &busy): // A4: the password pool is full; nothing was checked
		page.Error = "Sesame is busy right now. Please try again in a moment."
		w.Header().Set("Retry-After", retryAfter(busy.RetryAfter))
		pages.SignIn(w, http.StatusServiceUnavailable, page)
	case errors.Is(err, account.ErrInvalidCredentials), errors.Is(err, account.ErrDisabled):
		page.Error = "Wrong username or password."
		pages.SignIn(w, http.StatusUnauthorized, page)
	default:
		page.Error = "Sesame cannot sign you in right now. Please try again in a moment."
		pages.SignIn(w, http.StatusServiceUnavailable, page)
	}
}

// Consent handles the consent form (contract: decision=allow|deny); the
// route is wrapped by web.Forms.Protect (W1).
func (p *Provider) Consent(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := p.loadInteraction(w, r)
	if !ok {
		return
	}
	if ar.Prompt != promptConsent {
		redirectTo(w, r, p.Path("/interaction/"+ar.ID))
		return
	}
	cur, err := p.Sessions.FromCookie(r.Context(), p.Cookies.Get(r, web.SessionCookie))
	if err != nil || cur.Session.ID != ar.SessionID {
		p.errorPage(w, http.StatusBadRequest, "Your sign-in ended before you answered. Go back to the app and sign in again.", CodeInvalidRequest)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, http.StatusBadRequest, "Sesame could not read the form you sent. Go back to the app and sign in again.", CodeInvalidRequest)
		return
	}
	var out issued
	switch r.PostForm.Get("decision") {
	case "deny":
		err = p.Store.InTx(r.Context(), store.Routine, func(tx store.Tx) error { return tx.DeleteAuthRequest(r.Context(), ar.ID) })
		if err != nil {
			p.logError(r, "delete auth request", err)
		}
		p.redirectError(w, r, ar.Params.RedirectURI, ar.Params.State, &Error{Code: CodeAccessDenied, Description: "the person denied access", Status: 400})
		return
	case "allow":
		var res map[string][]string
		if res, err = p.grantableResources(r.Context(), cur.Session.AccountID, ar.Params); err != nil {
			break
		}
		err = p.Store.InTx(r.Context(), issueDurability(c), func(tx store.Tx) error {
			var err error
			if out, err = p.issueCode(r.Context(), tx, issueParams{client: c, session: cur.Session, params: ar.Params, resources: res}); err != nil {
				return err
			}
			return tx.DeleteAuthRequest(r.Context(), ar.ID)
		})
	default:
		p.errorPage(w, http.StatusBadRequest, "The consent form came back without an answer. Go back to the previous page and choose Allow or Deny.", CodeInvalidRequest)
		return
	}
	if err != nil {
		p.logError(r, "issue code after consent", err)
		p.errorPage(w, http.StatusServiceUnavailable, "Sesame cannot complete your sign-in right now. Please try again in a moment.", CodeTemporarilyUnavailable)
		return
	}
	p.deliver(r, out.evicted)
	p.redirectCode(w, r, ar.Params, out.code)
}
