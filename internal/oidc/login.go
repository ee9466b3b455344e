package oidc

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/ui"
)

// Login handles the sign-in form (contract: username, password). Success
// makes a new session (S1), carrying the apps of the browser's previous
// session when it is the same account and signing the previous account out
// first when it is not (S7); then it shows consent or returns to the app,
// all in one write transaction.
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
		p.errorPage(w, http.StatusBadRequest, "The form could not be read.", CodeInvalidRequest)
		return
	}
	username := r.PostForm.Get("username")
	page := ui.SignInData{Action: p.Path("/interaction/" + ar.ID + "/login"), App: appName(c), Username: username}
	acct, err := p.Accounts.Authenticate(r.Context(), username, r.PostForm.Get("password"), ClientIP(r))
	if err != nil {
		if !errors.Is(err, account.ErrInvalidCredentials) && !errors.Is(err, account.ErrThrottled) && !errors.Is(err, account.ErrDisabled) {
			p.logError(r, "authenticate", err)
		}
		RefuseSignIn(w, p.Pages, page, err)
		return
	}

	prev, perr := p.Sessions.FromCookie(r.Context(), cookieValue(r, session.CookieName))
	hasPrev := perr == nil
	sess, cookie := p.Sessions.New(acct.ID, []string{"pwd"}, session.Device{UserAgent: r.UserAgent(), IP: ClientIP(r)})
	if hasPrev && prev.Account.ID == acct.ID {
		for _, a := range prev.Session.Authorizations {
			a.SessionID = sess.ID
			sess.Authorizations = append(sess.Authorizations, a)
		}
	}
	consent := p.needsConsent(r, c, sess, ar.Params)

	var out issued
	var switched signout.Done
	err = p.Store.InTx(r.Context(), func(tx store.Tx) error {
		if hasPrev {
			var err error
			if switched, err = p.replaceSession(r, tx, prev, acct.ID); err != nil {
				return err
			}
		}
		if err := account.SignedIn(r.Context(), tx, acct, c.ID, p.Now()); err != nil {
			return err
		}
		if err := tx.CreateSession(r.Context(), sess); err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		for _, a := range sess.Authorizations {
			if err := tx.PutAuthorization(r.Context(), a); err != nil {
				return fmt.Errorf("carry authorization of %s: %w", a.ClientID, err)
			}
		}
		if consent {
			ar.Prompt, ar.AccountID, ar.SessionID = promptConsent, acct.ID, sess.ID
			return tx.UpdateAuthRequest(r.Context(), ar)
		}
		var err error
		if out, err = p.issueCode(r.Context(), tx, issueParams{client: c, session: sess, params: ar.Params}); err != nil {
			return err
		}
		return tx.DeleteAuthRequest(r.Context(), ar.ID)
	})
	if err != nil {
		p.logError(r, "complete sign-in", err)
		page.Error = "Sesame cannot sign you in right now. Please try again in a moment."
		p.Pages.SignIn(w, http.StatusServiceUnavailable, page)
		return
	}
	p.setCookie(w, session.CookieName, cookie, sess.MaxExpiresAt)
	if switched.Receipt.ID != "" {
		p.Signout.Deliver(r.Context(), switched)
	}
	p.deliver(r, out.evicted)
	p.Logger.InfoContext(r.Context(), "signed in", "event", "sign_in", "account_id", acct.ID, "client_id", c.ID, "session_id", sess.ID)
	if consent {
		redirectTo(w, r, p.Path("/interaction/"+ar.ID))
		return
	}
	p.redirectCode(w, r, ar.Params, out.code)
}

// RefuseSignIn re-renders a sign-in page after Authenticate failed: 401 for
// wrong credentials (contract.md), 429 with Retry-After when throttled (A3),
// 503 when the database failed.
func RefuseSignIn(w http.ResponseWriter, pages *ui.Pages, page ui.SignInData, err error) {
	var throttled *account.ThrottledError
	switch {
	case errors.As(err, &throttled):
		page.Error = fmt.Sprintf("Too many failed attempts. Try again in %s.", throttled.RetryAfter.Round(time.Second))
		w.Header().Set("Retry-After", fmt.Sprint(int(throttled.RetryAfter.Seconds())+1))
		pages.SignIn(w, http.StatusTooManyRequests, page)
	case errors.Is(err, account.ErrInvalidCredentials), errors.Is(err, account.ErrDisabled):
		page.Error = "Wrong username or password."
		pages.SignIn(w, http.StatusUnauthorized, page)
	default:
		page.Error = "Sesame cannot sign you in right now. Please try again in a moment."
		pages.SignIn(w, http.StatusServiceUnavailable, page)
	}
}

// replaceSession ends the browser's previous session inside tx: the same
// account's is superseded by the new one, which carries its apps; another
// account's is signed out globally first (S7).
func (p *Provider) replaceSession(r *http.Request, tx store.Tx, prev session.Current, accountID string) (signout.Done, error) {
	if prev.Account.ID == accountID {
		if _, err := tx.DeleteSession(r.Context(), prev.Session.ID); err != nil {
			return signout.Done{}, fmt.Errorf("supersede session %s: %w", prev.Session.ID, err)
		}
		return signout.Done{}, nil
	}
	done, err := p.Signout.Global(r.Context(), tx, signout.Request{Session: prev.Session, Cause: signout.CauseAccountSwitch})
	if err != nil {
		return done, fmt.Errorf("sign out previous account: %w", err)
	}
	return done, nil
}

// Consent handles the consent form (contract: decision=allow|deny).
func (p *Provider) Consent(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := p.loadInteraction(w, r)
	if !ok {
		return
	}
	if ar.Prompt != promptConsent {
		redirectTo(w, r, p.Path("/interaction/"+ar.ID))
		return
	}
	cur, err := p.Sessions.FromCookie(r.Context(), cookieValue(r, session.CookieName))
	if err != nil || cur.Session.ID != ar.SessionID {
		p.errorPage(w, http.StatusBadRequest, "Your sign-in ended before you answered. Go back to the app and sign in again.", CodeInvalidRequest)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, http.StatusBadRequest, "The form could not be read.", CodeInvalidRequest)
		return
	}
	var out issued
	switch r.PostForm.Get("decision") {
	case "deny":
		err = p.Store.InTx(r.Context(), func(tx store.Tx) error { return tx.DeleteAuthRequest(r.Context(), ar.ID) })
		if err != nil {
			p.logError(r, "delete auth request", err)
		}
		p.redirectError(w, r, ar.Params.RedirectURI, ar.Params.State, &Error{Code: CodeAccessDenied, Description: "the person denied access", Status: 400})
		return
	case "allow":
		err = p.Store.InTx(r.Context(), func(tx store.Tx) error {
			var err error
			if out, err = p.issueCode(r.Context(), tx, issueParams{client: c, session: cur.Session, params: ar.Params}); err != nil {
				return err
			}
			return tx.DeleteAuthRequest(r.Context(), ar.ID)
		})
	default:
		p.errorPage(w, http.StatusBadRequest, "Choose Allow or Deny.", CodeInvalidRequest)
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
