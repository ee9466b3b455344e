package oidc

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/sesame-id/sesame/internal/activity"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/web"
)

// Authorize serves the authorization endpoint, GET and POST (Core §3.1.2,
// spec A1-A19).
//
// Until the client and its redirect URI are trusted, every error is an
// error page and never a redirect (spec A3); after that, errors go back to
// the client (spec A5). With a valid session and nothing to ask, the code is
// issued at once (S4: SSO); otherwise the request is kept and the person is
// sent to the sign-in or consent page.
func (p *Provider) Authorize(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			p.errorPage(w, http.StatusBadRequest, "Sesame could not read the sign-in request the app sent.", CodeInvalidRequest)
			return
		}
		v = r.PostForm
	}
	if l, ok := web.Oversized(v, unechoable); ok { // W2: nothing to redirect to, or to echo
		p.errorPage(w, http.StatusBadRequest, "The app's sign-in request has a "+l.Name+" that is too long for Sesame to accept.", CodeInvalidRequest)
		return
	}
	c, redirectURI, omitted, ok := p.trustedTarget(w, r, v)
	if !ok {
		return
	}
	params, perr := parseAuthParams(v, c, client.RequiresPKCE(c, p.RequirePKCE))
	params.RedirectURI, params.RedirectURIOmitted = redirectURI, omitted
	if perr != nil {
		p.redirectError(w, r, redirectURI, params.State, perr)
		return
	}
	if perr, err := p.checkResources(r.Context(), params.Resources); perr != nil {
		if err != nil {
			p.logError(r, "read API resources", err)
		}
		p.redirectError(w, r, redirectURI, params.State, perr)
		return
	}

	cur, err := p.Sessions.FromCookie(r.Context(), p.Cookies.Get(r, web.SessionCookie))
	hasSession := err == nil
	if err != nil && !errors.Is(err, session.ErrNoSession) {
		p.logError(r, "read session", err)
		p.redirectError(w, r, redirectURI, params.State, fromDomain(err))
		return
	}
	if !hasSession || p.Sessions.NeedsLogin(cur.Session, hasPrompt(params, "login"), params.MaxAge) {
		if hasPrompt(params, "none") { // S5, spec A9
			p.redirectError(w, r, redirectURI, params.State, &Error{Code: CodeLoginRequired, Description: "the person must sign in", Status: 400})
			return
		}
		p.startInteraction(w, r, c, params, store.AuthRequest{Prompt: promptLogin})
		return
	}
	res, err := p.grantableResources(r.Context(), cur.Account.ID, params)
	if err != nil {
		p.logError(r, "API resources of the request", err)
		p.redirectError(w, r, redirectURI, params.State, fromDomain(err))
		return
	}
	// Consent and SSO both ask for the grant: it is read once.
	g, hasGrant := p.sessionGrant(r, cur.Session, c)
	if p.needsConsent(c, params, res, g, hasGrant) {
		if hasPrompt(params, "none") {
			p.redirectError(w, r, redirectURI, params.State, &Error{Code: CodeConsentRequired, Description: "the person must consent", Status: 400})
			return
		}
		p.startInteraction(w, r, c, params, store.AuthRequest{Prompt: promptConsent, AccountID: cur.Account.ID, SessionID: cur.Session.ID})
		return
	}
	ip := issueParams{client: c, session: cur.Session, params: params, resources: res}
	ip.admin, err = p.adminGrantable(r.Context(), c, cur.Account.ID, params)
	if err != nil {
		p.logError(r, "roles of the account", err)
		p.redirectError(w, r, redirectURI, params.State, fromDomain(err))
		return
	}
	// From here a code is issued from the session without the sign-in
	// page: a single sign-on (S4), counted for the charts once it is.
	value, ok, err := p.codeWithoutWrite(ip, g, hasGrant)
	if err == nil && ok {
		p.Activity.Count(activity.SignInSSO)
		p.redirectCode(w, r, params, value)
		return
	}
	var out issued
	if err == nil {
		err = p.Store.InTx(r.Context(), issueDurability(c), func(tx store.Tx) error {
			var err error
			out, err = p.issueCode(r.Context(), tx, ip)
			return err
		})
	}
	if err != nil {
		p.logError(r, "issue code", err)
		p.redirectError(w, r, redirectURI, params.State, fromDomain(err))
		return
	}
	p.Activity.Count(activity.SignInSSO)
	p.deliver(r, out.evicted)
	p.redirectCode(w, r, params, out.code)
}

// trustedTarget finds the client and the redirect URI errors may be sent
// to. When either cannot be trusted it writes the error page and returns
// ok=false (spec A2-A4). omitted reports that the request named no
// redirect_uri and the client's only one is used.
func (p *Provider) trustedTarget(w http.ResponseWriter, r *http.Request, v url.Values) (c store.Client, redirectURI string, omitted, ok bool) {
	clientID, perr := single(v, "client_id")
	if perr != nil || clientID == "" {
		p.errorPage(w, http.StatusBadRequest, "The app did not say who it is (client_id is missing or repeated).", CodeInvalidRequest)
		return c, "", false, false
	}
	c, err := p.Clients.Get(r.Context(), clientID)
	if errors.Is(err, store.ErrNotFound) {
		p.errorPage(w, http.StatusBadRequest, "The app that sent you here is not known to Sesame: it may have been removed, or the link you followed may be wrong.", CodeInvalidRequest)
		return c, "", false, false
	}
	if err != nil {
		p.logError(r, "read client", err)
		p.errorPage(w, http.StatusServiceUnavailable, "Sesame cannot sign you in right now. Please try again in a moment.", CodeTemporarilyUnavailable)
		return c, "", false, false
	}
	redirectURI, perr = single(v, "redirect_uri")
	switch {
	case perr != nil:
		p.errorPage(w, http.StatusBadRequest, "The app's sign-in request names its return address (redirect_uri) more than once.", CodeInvalidRequest)
		return c, "", false, false
	case redirectURI == "" && len(c.RedirectURIs) == 1:
		return c, c.RedirectURIs[0], true, true
	case redirectURI == "":
		p.errorPage(w, http.StatusBadRequest, "The app did not say where to send you back (redirect_uri is missing).", CodeInvalidRequest)
		return c, "", false, false
	case !client.MatchRedirectURI(c, redirectURI):
		p.errorPage(w, http.StatusBadRequest, "The app asked to send you back to an address it has not registered.", CodeInvalidRequest)
		return c, "", false, false
	}
	return c, redirectURI, false, true
}

// needsConsent reports whether the consent page must be shown: never for a
// first-party client; for a third-party one when the session has no valid
// grant for it (g, from sessionGrant) covering the scopes asked and the
// API resources res that may be granted (grantableResources), or
// prompt=consent (C1a).
func (p *Provider) needsConsent(c store.Client, params store.AuthParams, res map[string][]string, g store.Grant, hasGrant bool) bool {
	if c.FirstParty {
		return false
	}
	if hasPrompt(params, "consent") {
		return true
	}
	// A third-party client is never granted sesame:admin (adminGrantable).
	return !hasGrant || !grant.Covers(g, p.grantableScopes(c, params, false)) || !grant.CoversResources(g.Resources, res)
}

// redirectCode sends the person back to the client with the code (Core
// §3.1.2.5), state and iss (RFC 9207).
func (p *Provider) redirectCode(w http.ResponseWriter, r *http.Request, params store.AuthParams, code string) {
	redirectTo(w, r, p.codeURL(params, code))
}

// errorPage shows a person an error without redirecting anywhere.
func (p *Provider) errorPage(w http.ResponseWriter, status int, msg, code string) {
	p.Pages.Error(w, status, uiError(msg, code))
}
