package demo

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/backchannel"
)

// App is one sample web app.
type App struct {
	Name string
	// CookieName is the app session cookie's name: apps on one host (the
	// demo's, on two ports of 127.0.0.1) share cookies, so each needs its
	// own.
	CookieName string
	Client     *rp.Client
	// Sessions is the store the rp.Client was configured with.
	Sessions *Sessions
	Logger   *slog.Logger
	// Orders, when set, has the app read the person's orders from the
	// Orders API with a JWT access token for it (AccessTokenFor); its
	// sign-in then asks for offline_access, which that needs, and Client
	// must have been configured by Orders.Configure.
	Orders *Orders
	// issuer is Sesame's: a front-channel logout naming another iss ends
	// nothing.
	issuer string
	bc     *backchannel.Handler
	mux    *http.ServeMux
}

// NewApp builds the app's routes: GET /, /sign-in, /callback, /sign-out,
// /sign-out-here, /frontchannel-logout and POST /backchannel-logout.
// issuer is the one c was configured with (rp.Client does not say it).
func NewApp(name, cookieName, issuer string, c *rp.Client, sessions *Sessions, logger *slog.Logger) (*App, error) {
	if issuer == "" {
		return nil, fmt.Errorf("%s: front-channel logout needs Sesame's issuer", name)
	}
	bc, err := backchannel.New(backchannel.Config{Verifier: c.Verifier(), Sessions: sessions, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("%s: back-channel logout: %w", name, err)
	}
	a := &App{Name: name, issuer: issuer, CookieName: cookieName, Client: c, Sessions: sessions, Logger: logger, bc: bc}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /sign-in", a.signIn)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("GET /sign-out", a.signOut)
	mux.HandleFunc("GET /sign-out-here", a.signOutHere)
	mux.Handle("POST /backchannel-logout", a.bc)
	mux.HandleFunc("GET /frontchannel-logout", a.frontchannelLogout)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	a.mux = mux
	return a, nil
}

// ServeHTTP serves the app.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *App) signIn(w http.ResponseWriter, r *http.Request) {
	// When the sign-in started: an auth_time before it means no password
	// was typed for this sign-in (single sign-on).
	http.SetCookie(w, &http.Cookie{Name: a.CookieName + "_started", Value: strconv.FormatInt(time.Now().Unix(), 10),
		Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	a.clearNote(w) // a note about an earlier session must not outlive this sign-in
	var opts []rp.SignInOption
	if a.Orders != nil {
		opts = append(opts, rp.WithOfflineAccess())
	}
	if err := a.Client.SignIn(w, r, opts...); err != nil {
		a.logError(r, "start sign-in", err)
		a.page(w, http.StatusInternalServerError, pageData{Problem: "This app could not start the sign-in. Try again."})
	}
}

func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	s, err := a.Client.HandleCallback(w, r)
	if err != nil {
		a.logError(r, "sign-in callback", err)
		a.page(w, http.StatusBadRequest, pageData{Problem: callbackProblem(err)})
		return
	}
	how := notePasswordKey
	if c, err := r.Cookie(a.CookieName + "_started"); err == nil {
		started, _ := strconv.ParseInt(c.Value, 10, 64)
		if at := s.Claims.AuthTime; !at.IsZero() && at.Unix() < started {
			how = noteSSOKey
		}
	}
	a.setNote(w, how)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// callbackProblem says in words why a sign-in did not complete.
func callbackProblem(err error) string {
	var oe *rp.Error
	switch {
	case errors.Is(err, rp.ErrNoSession):
		return "The sign-in did not complete: this browser has no sign-in in progress with this app (it may have expired). Sign in again."
	case errors.As(err, &oe) && oe.Code == "access_denied":
		return "The sign-in did not complete: access was not granted. Sign in again if you want to use this app."
	case errors.As(err, &oe) && oe.Description != "":
		return "The sign-in did not complete: " + oe.Description + ". Sign in again."
	default:
		return "The sign-in did not complete: this app could not check Sesame's answer. Sign in again."
	}
}

// signOut ends the app session and sends the browser to Sesame. What
// Sesame then does (every app, this app only, or Cancel) the app is not
// told, so the note it leaves says only what the app itself did.
func (a *App) signOut(w http.ResponseWriter, r *http.Request) {
	a.noteSignOut(w, r, noteSignedOutKey)
	if err := a.Client.SignOutWeb(w, r); err != nil {
		a.logError(r, "sign out", err)
		a.page(w, http.StatusInternalServerError, pageData{Problem: "This app could not end your session. Try again."})
	}
}

// signOutHere ends the app session only; Sesame is not asked.
func (a *App) signOutHere(w http.ResponseWriter, r *http.Request) {
	a.noteSignOut(w, r, noteSignedOutHereKey)
	if err := a.Client.SignOutLocal(w, r); err != nil {
		a.logError(r, "sign out of this app", err)
		a.page(w, http.StatusInternalServerError, pageData{Problem: "This app could not end your session. Try again."})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// noteSignOut leaves the note for the page after a sign-out: own when the
// person was signed in here, or, when a back-channel logout had already
// ended the session (a page left open), that notice, which clearing the
// session cookie would otherwise lose. With neither, the app ended nothing
// and says nothing.
func (a *App) noteSignOut(w http.ResponseWriter, r *http.Request, own string) {
	switch told := a.notified(r); {
	case a.signedIn(r):
		a.setNote(w, own)
	case told != "":
		a.setNote(w, toldNoteKeys[told])
	default:
		a.clearNote(w)
	}
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	var d pageData
	note := a.takeNote(w, r)
	s, err := a.Client.Session(r)
	if err == nil {
		d.User = s.Claims.PreferredUsername
		if d.User == "" {
			d.User = s.Subject
		}
		switch note {
		case noteSSOKey:
			d.Notes = []string{noteSSO}
		case notePasswordKey:
			d.Notes = []string{notePassword}
		}
		if a.Orders != nil {
			v := a.readOrders(w, r)
			d.Orders = &v
		}
		a.page(w, http.StatusOK, d)
		return
	}
	// What Sesame told the app about this browser's session comes first:
	// the note may be older than that.
	switch cmp.Or(toldNoteKeys[a.notified(r)], note) {
	case noteNotifiedKey:
		d.Notes = []string{noteNotified}
	case noteNotifiedFrontKey:
		d.Notes = []string{noteNotifiedFront}
	case noteSignedOutKey:
		d.Notes = []string{signedOutOf(a.Name)}
	case noteSignedOutHereKey:
		d.Notes = []string{signedOutOf(a.Name), noteHereOnly}
	}
	a.page(w, http.StatusOK, d)
}

// signedIn reports whether the request carries a signed-in app session.
func (a *App) signedIn(r *http.Request) bool {
	_, err := a.Client.Session(r)
	return err == nil
}

// notified says by which channel Sesame ended the session whose cookie
// the request carries, or "".
func (a *App) notified(r *http.Request) Channel {
	c, err := r.Cookie(a.CookieName)
	if err != nil {
		return ""
	}
	return a.Sessions.Notified(c.Value)
}

func (a *App) logError(r *http.Request, msg string, err error) {
	if a.Logger != nil {
		a.Logger.WarnContext(r.Context(), msg, "app", a.Name, "err", err)
	}
}
