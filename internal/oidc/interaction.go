package oidc

import (
	"errors"
	"net/http"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/ui"
	"github.com/sesame-id/sesame/internal/web"
)

// What an interaction still has to show.
const (
	promptLogin   = "login"
	promptConsent = "consent"
)

// startInteraction stores the request and sends the person to its page.
// The request is bound to the browser (its browser cookie, package web), so
// its pages cannot be completed from another browser (login CSRF).
func (p *Provider) startInteraction(w http.ResponseWriter, r *http.Request, c store.Client, params store.AuthParams, ar store.AuthRequest) {
	browser := p.Forms.EnsureBrowser(w, r)
	now := p.Now()
	ar.ID = token.NewID()
	ar.BrowserHash = token.Hash(browser)
	ar.ClientID = c.ID
	ar.Params = params
	ar.CreatedAt = now
	ar.ExpiresAt = now.Add(p.AuthRequestTTL)
	err := p.Store.InTx(r.Context(), store.Routine, func(tx store.Tx) error { return tx.CreateAuthRequest(r.Context(), ar) })
	if err != nil {
		p.logError(r, "store auth request", err)
		p.redirectError(w, r, params.RedirectURI, params.State, fromDomain(err))
		return
	}
	redirectTo(w, r, p.Path("/interaction/"+ar.ID))
}

// loadInteraction reads the pending request a page belongs to and checks it
// is this browser's and still alive; otherwise it shows an error page.
func (p *Provider) loadInteraction(w http.ResponseWriter, r *http.Request) (store.AuthRequest, store.Client, bool) {
	ar, err := p.Store.AuthRequest(r.Context(), r.PathValue("id"))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.logError(r, "read auth request", err)
		p.errorPage(w, http.StatusServiceUnavailable, "Sesame cannot sign you in right now. Please try again in a moment.", CodeTemporarilyUnavailable)
		return ar, store.Client{}, false
	}
	browser := p.Forms.Browser(r)
	if err != nil || !p.Now().Before(ar.ExpiresAt) || browser == "" || string(token.Hash(browser)) != string(ar.BrowserHash) {
		p.errorPage(w, http.StatusBadRequest, "This sign-in has expired or was started in another browser. Go back to the app and sign in again.", CodeInvalidRequest)
		return ar, store.Client{}, false
	}
	c, err := p.Clients.Get(r.Context(), ar.ClientID)
	if err != nil {
		p.errorPage(w, http.StatusBadRequest, "The app that sent you here is no longer known to Sesame.", CodeInvalidRequest)
		return ar, store.Client{}, false
	}
	return ar, c, true
}

// Interaction shows the page a pending request needs: sign-in or consent.
func (p *Provider) Interaction(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := p.loadInteraction(w, r)
	if !ok {
		return
	}
	if ar.Prompt == promptConsent {
		p.showConsent(w, r, ar, c)
		return
	}
	_, err := p.Sessions.FromCookie(r.Context(), p.Cookies.Get(r, web.SessionCookie))
	page := p.signInPage(w, r, ar, c)
	page.Username, page.Reauth = ar.Params.LoginHint, err == nil
	p.Pages.SignIn(w, http.StatusOK, page)
}

// signInPage is the sign-in page of a pending request, with the browser's
// form token (W1) and the redirect target its CSP allows (W2).
func (p *Provider) signInPage(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, c store.Client) ui.SignInData {
	return ui.SignInData{
		Action: p.Path("/interaction/" + ar.ID + "/login"), App: client.Name(c),
		CSRF: p.Forms.Token(w, r), RedirectURI: ar.Params.RedirectURI,
	}
}

// showConsent renders the consent page for a signed-in person.
func (p *Provider) showConsent(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, c store.Client) {
	acct, err := p.Store.Account(r.Context(), ar.AccountID)
	if err != nil {
		p.errorPage(w, http.StatusBadRequest, "Your sign-in ended. Go back to the app and sign in again.", CodeInvalidRequest)
		return
	}
	scopes := p.grantableScopes(c, ar.Params, false) // only third-party clients ask consent
	res, err := p.grantableResources(r.Context(), acct.ID, ar.Params)
	if err != nil {
		p.logError(r, "API resources of the request", err)
		p.errorPage(w, http.StatusServiceUnavailable, "Sesame cannot sign you in right now. Please try again in a moment.", CodeTemporarilyUnavailable)
		return
	}
	_, hadGrant := session.AuthorizationFor(p.sessionOf(r, ar), c.ID)
	p.Pages.Consent(w, ui.ConsentData{
		Action: p.Path("/interaction/" + ar.ID + "/consent"), App: client.Name(c),
		Username: acct.Username, Scopes: ui.Describe(scopes), APIs: p.consentAPIs(r.Context(), ar.Params, res), New: hadGrant,
		CSRF: p.Forms.Token(w, r), RedirectURI: ar.Params.RedirectURI,
	})
}

// sessionOf returns the session the request was signed in with, or none.
func (p *Provider) sessionOf(r *http.Request, ar store.AuthRequest) store.Session {
	s, err := p.Store.Session(r.Context(), ar.SessionID)
	if err != nil {
		return store.Session{}
	}
	return s
}
