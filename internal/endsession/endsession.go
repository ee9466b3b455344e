package endsession

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/ui"
	"github.com/sesame-id/sesame/internal/web"
)

// Confirm modes (signout_confirm).
const (
	ConfirmAuto = "auto"
	ConfirmAsk  = "ask"
)

// Handler serves end-session and its confirm page.
type Handler struct {
	Issuer string
	Store  store.Store
	Keys   interface {
		Verify(string) (keys.Verified, error)
	}
	Clients  *client.Registry
	Sessions *session.Service
	Service  *signout.Service
	Pages    *ui.Pages
	// ConfirmMode is auto (the page signs out of every app by itself, as Logto)
	// or ask (the person chooses).
	ConfirmMode string
	// RequestTTL is how long a confirm page can be answered.
	RequestTTL time.Duration
	// Cookies reads and writes the session cookie; Forms gives the
	// confirm page the browser's form token (W1), which the confirm route
	// checks (Forms.Protect).
	Cookies web.Cookies
	Forms   *web.Forms
	Now     func() time.Time
	Logger  *slog.Logger
}

// endSessionParams are the parameters of RP-Initiated Logout §2, each with
// the longest value accepted (W2, spec S9). Nothing longer is read or
// stored.
var endSessionParams = []web.Limit{
	{Name: "id_token_hint", Max: web.MaxTokenLen},
	{Name: "client_id", Max: web.MaxValueLen},
	{Name: "post_logout_redirect_uri", Max: client.MaxURILen},
	{Name: "state", Max: web.MaxStateLen},
	{Name: "ui_locales", Max: web.MaxLocalesLen},
	{Name: "logout_hint", Max: web.MaxValueLen},
}

// EndSession serves GET and POST {issuer}/session/end (O2, O3, spec
// L1-L9, L13): it checks who asks and where to return, then renders the
// confirm page, for a POST as for a GET. Anything that cannot be trusted
// gets a 400 page and no redirect.
func (h *Handler) EndSession(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			h.fail(w, "Sesame could not read the sign-out request the app sent.")
			return
		}
		v = r.PostForm
	}
	for _, p := range endSessionParams {
		if len(v[p.Name]) > 1 {
			h.fail(w, "The app's sign-out request names "+p.Name+" more than once, so Sesame cannot tell which one to use.")
			return
		}
	}
	if l, ok := web.Oversized(v, endSessionParams); ok {
		h.fail(w, "The app's sign-out request has a "+l.Name+" that is too long for Sesame to accept.")
		return
	}
	c, hint, ok := h.requestingClient(w, r, v)
	if !ok {
		return
	}
	redirect := v.Get("post_logout_redirect_uri")
	if redirect != "" && c.ID != "" && !client.MatchPostLogoutRedirectURI(c, redirect) { // spec L5
		h.fail(w, "The app asked to send you to an address it has not registered for after sign-out.")
		return
	}
	if c.ID == "" {
		redirect = "" // O2: with no client identified it is ignored (spec L6)
	}
	cur, err := h.Sessions.FromCookie(r.Context(), h.Cookies.Get(r, web.SessionCookie))
	if err != nil && !errors.Is(err, session.ErrNoSession) {
		h.Logger.ErrorContext(r.Context(), "read session", "err", err)
		h.Pages.Error(w, http.StatusServiceUnavailable, ui.ErrorData{Message: "Sesame cannot sign you out right now. Please try again in a moment."})
		return
	}
	xsrf, hash := token.NewValue()
	now := h.Now()
	lr := store.LogoutRequest{
		XSRFHash: hash, ClientID: c.ID, PostLogoutRedirectURI: redirect, State: v.Get("state"),
		CreatedAt: now, ExpiresAt: now.Add(h.RequestTTL), // ui_locales is not kept: no page reads it yet
	}
	if err == nil {
		lr.SessionID = cur.Session.ID
	}
	if err := h.Store.InTx(r.Context(), store.Routine, func(tx store.Tx) error { return tx.CreateLogoutRequest(r.Context(), lr) }); err != nil {
		h.Logger.ErrorContext(r.Context(), "store logout request", "err", err)
		h.Pages.Error(w, http.StatusServiceUnavailable, ui.ErrorData{Message: "Sesame cannot sign you out right now. Please try again in a moment."})
		return
	}
	// O3: the page submits itself only when the request proves its origin.
	from := origin{client: c, hint: hint, clientIDSent: v.Get("client_id") != "", redirect: redirect}
	page := ui.SignOutData{
		Action: h.Issuer + "/session/end/confirm", XSRF: xsrf, App: client.Name(c),
		Auto:         h.ConfirmMode == ConfirmAuto && proven(r, from, cur.Session),
		CanChooseApp: h.ConfirmMode == ConfirmAsk && c.ID != "" && err == nil,
		CSRF:         h.Forms.Token(w, r), RedirectURI: redirect, Cancel: cancelTarget(redirect, v.Get("state")),
	}
	if err == nil {
		page.Username = cur.Account.Username
		page.Apps = h.appNames(r, cur.Session)
	} else {
		page.Unseen = r.Method == http.MethodPost
	}
	nonce, _ := token.NewValue()
	page.Nonce = nonce
	h.Pages.SignOut(w, page)
}

// requestingClient finds the client named by id_token_hint and client_id
// (O2, spec L2-L4), and returns what the hint says. A hint that is not an
// ID token Sesame signed (forged, alg:none, foreign, a logout token), or
// one naming another client than client_id, is a 400 page. An expired
// hint is accepted. It returns the zero Client when neither names one.
func (h *Handler) requestingClient(w http.ResponseWriter, r *http.Request, v url.Values) (store.Client, idTokenHint, bool) {
	clientID := v.Get("client_id")
	var hint idTokenHint
	if raw := v.Get("id_token_hint"); raw != "" {
		var ok bool
		if hint, ok = h.readHint(raw); !ok {
			h.fail(w, "The sign-out request carries an ID token Sesame did not issue.")
			return store.Client{}, hint, false
		}
		if clientID != "" && clientID != hint.clientID {
			h.fail(w, "The sign-out request names two different apps.")
			return store.Client{}, hint, false
		}
		clientID = hint.clientID
	}
	if clientID == "" {
		return store.Client{}, hint, true
	}
	c, err := h.Clients.Get(r.Context(), clientID)
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, "The app that sent you here is not known to Sesame.")
		return c, hint, false
	}
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "read client", "err", err)
		h.Pages.Error(w, http.StatusServiceUnavailable, ui.ErrorData{Message: "Sesame cannot sign you out right now. Please try again in a moment."})
		return c, hint, false
	}
	return c, hint, true
}

// audience reads an aud claim that is a string, or an array of one.
func audience(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) == 1 {
		return list[0]
	}
	return ""
}

// appNames names the apps signed in through a session, for the page.
func (h *Handler) appNames(r *http.Request, sess store.Session) []string {
	var names []string
	for _, a := range sess.Authorizations {
		names = append(names, h.appNameOf(r, a.ClientID))
	}
	return names
}

// appNameOf names the app of clientID for the confirm page's list. A
// client that cannot be read is named by its id: the page still says
// which app it means, and a sign-out must not fail over a name.
func (h *Handler) appNameOf(r *http.Request, clientID string) string {
	c, err := h.Clients.Get(r.Context(), clientID)
	if err != nil {
		return clientID
	}
	return client.Name(c)
}

// fail shows a 400 error page and redirects nowhere (spec L3, L5, L13).
// It says what went wrong and that nobody was signed out, and how to sign
// out anyway.
func (h *Handler) fail(w http.ResponseWriter, msg string) {
	h.Pages.Error(w, http.StatusBadRequest, ui.ErrorData{
		Title:   "You were not signed out",
		Message: msg + " Nothing was signed out. To sign out of Sesame anyway, use your account page.",
		Code:    "invalid_request", NoRedirect: true,
	})
}

// cancelTarget is where the confirm page's Cancel link goes (O3): the
// post_logout_redirect_uri with state appended, as a completed sign-out
// would return (O8), when the request sent one registered for its client
// (redirect is empty otherwise); the landing page when it did not.
func cancelTarget(redirect, state string) string {
	switch {
	case redirect == "":
		return "/"
	case state != "":
		return appendState(redirect, state)
	}
	return redirect
}
