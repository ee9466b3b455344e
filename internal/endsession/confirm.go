package endsession

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/ui"
	"github.com/sesame-id/sesame/internal/web"
)

// Confirm serves POST {issuer}/session/end/confirm (O3-O5, O8), wrapped by
// web.Forms.Protect (the browser's form token, W1): the xsrf
// token must be the latest page's of this browser's session (spec S4); a
// non-empty logout signs out of every app, app_only of the requesting app
// alone. With no session left the flow still completes (spec L11).
func (h *Handler) Confirm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.fail(w, "Sesame could not read the sign-out form. Go back to the app and sign out again.")
		return
	}
	xsrf := r.PostForm.Get("xsrf")
	lr, err := h.Store.LogoutRequest(r.Context(), token.Hash(xsrf))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.unavailable(w, r, err)
		return
	}
	if xsrf == "" || err != nil || !h.Now().Before(lr.ExpiresAt) {
		h.fail(w, "This sign-out page has expired or was replaced by a newer one. Go back to the app and sign out again.")
		return
	}
	cur, err := h.Sessions.FromCookie(r.Context(), h.Cookies.Get(r, web.SessionCookie))
	hasSession := err == nil
	if err != nil && !errors.Is(err, session.ErrNoSession) {
		h.unavailable(w, r, err)
		return
	}
	// A page rendered without seeing a session (a cross-site POST to
	// /session/end carries no SameSite=Lax cookie) confirms for the session
	// this same-origin post carries: the one-time xsrf and the browser's
	// form token already tie the post to this browser's own page.
	if hasSession && lr.SessionID != "" && cur.Session.ID != lr.SessionID {
		h.fail(w, "This sign-out page belongs to an earlier sign-in. Go back to the app and sign out again.")
		return
	}
	appOnly := r.PostForm.Get("app_only") != "" && lr.ClientID != ""
	global := r.PostForm.Get("logout") != "" && !appOnly

	var done signout.Done
	var rekeyed store.Session
	var cookie string
	err = h.Store.InTx(r.Context(), store.Durable, func(tx store.Tx) error {
		answered, err := tx.DeleteLogoutRequest(r.Context(), lr.XSRFHash)
		if err != nil || !answered || !hasSession {
			return err // a page answered twice (a double click) signs out once
		}
		req := signout.Request{Session: cur.Session, ClientID: lr.ClientID, Cause: signout.CauseEndSession, Frontchannel: true}
		switch {
		case global:
			done, err = h.Service.Global(r.Context(), tx, req)
		case appOnly:
			done, rekeyed, cookie, err = h.Service.App(r.Context(), tx, req)
		}
		return err
	})
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	switch {
	case hasSession && global:
		h.Cookies.Clear(w, r, web.SessionCookie)
	case hasSession && appOnly:
		h.Cookies.Set(w, r, web.SessionCookie, cookie, rekeyed.MaxExpiresAt)
	}
	// The wall clock, not h.Now: what is measured is how long this
	// request really waited, which the front-channel page then shortens.
	started := time.Now()
	if done.Receipt.ID != "" {
		h.Service.Deliver(r.Context(), done)
	}
	target := lr.PostLogoutRedirectURI
	if target != "" && lr.State != "" { // O8, spec L7
		target = appendState(target, lr.State)
	}
	if len(done.Frontchannel) > 0 { // F2: the apps' pages, then the target
		h.Pages.Frontchannel(w, ui.FrontchannelSignOut{Pages: done.Frontchannel, Issuer: h.Issuer, Client: h.Clients.Get,
			Left: h.Service.Left(started), Target: target, AppOnly: appOnly}.Data(r.Context()))
		return
	}
	if target != "" {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	h.Pages.SignedOut(w, ui.SignedOutData{AppOnly: appOnly, StillSignedIn: hasSession && !global && !appOnly})
}

// appendState adds state to a registered URI, keeping its query as it is
// (spec L7: no other parameters).
func appendState(uri, state string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	q := url.Values{"state": {state}}.Encode()
	if u.RawQuery == "" {
		u.RawQuery = q
	} else {
		u.RawQuery += "&" + q
	}
	return u.String()
}

func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.Logger.ErrorContext(r.Context(), "sign-out", "err", err)
	h.Pages.Error(w, http.StatusServiceUnavailable, ui.ErrorData{Message: "Sesame cannot sign you out right now. Nothing was changed; please try again."})
}
