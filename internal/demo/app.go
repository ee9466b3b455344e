package demo

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
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
	bc       *backchannel.Handler
	mux      *http.ServeMux
}

// Sessions is an rp.MemoryStore that remembers which sessions a
// back-channel logout ended, so the page can say so.
type Sessions struct {
	*rp.MemoryStore
	mu    sync.Mutex
	who   map[string]rp.Session // id → its sid and sub
	ended map[string]bool
}

// NewSessions returns an empty store.
func NewSessions() *Sessions {
	return &Sessions{MemoryStore: rp.NewMemoryStore(), who: map[string]rp.Session{}, ended: map[string]bool{}}
}

// Put stores s and notes whose it is.
func (s *Sessions) Put(ctx context.Context, x *rp.Session) error {
	s.mu.Lock()
	s.who[x.ID] = rp.Session{SID: x.SID, Subject: x.Subject}
	s.mu.Unlock()
	return s.MemoryStore.Put(ctx, x)
}

// EndBySID ends the sessions of a sid and remembers them.
func (s *Sessions) EndBySID(ctx context.Context, sid string) (int, error) {
	s.remember(func(x rp.Session) bool { return sid != "" && x.SID == sid })
	return s.MemoryStore.EndBySID(ctx, sid)
}

// EndBySubject ends the sessions of a sub and remembers them.
func (s *Sessions) EndBySubject(ctx context.Context, sub string) (int, error) {
	s.remember(func(x rp.Session) bool { return sub != "" && x.Subject == sub })
	return s.MemoryStore.EndBySubject(ctx, sub)
}

func (s *Sessions) remember(match func(rp.Session) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, x := range s.who {
		if match(x) {
			s.ended[id] = true
			delete(s.who, id)
		}
	}
}

// endedByBackchannel reports whether a back-channel logout ended id.
func (s *Sessions) endedByBackchannel(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended[id]
}

// NewApp builds the app's routes: GET /, /sign-in, /callback, /sign-out,
// /sign-out-here and POST /backchannel-logout (contract.md).
func NewApp(name, cookieName string, c *rp.Client, sessions *Sessions, logger *slog.Logger) *App {
	a := &App{Name: name, CookieName: cookieName, Client: c, Sessions: sessions, Logger: logger,
		bc: &backchannel.Handler{Verifier: c.Verifier(), Sessions: sessions, Logger: logger}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /sign-in", a.signIn)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("GET /sign-out", a.signOut)
	mux.HandleFunc("GET /sign-out-here", a.signOutHere)
	mux.Handle("POST /backchannel-logout", a.bc)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	a.mux = mux
	return a
}

// ServeHTTP serves the app.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *App) signIn(w http.ResponseWriter, r *http.Request) {
	// When the sign-in started: an auth_time before it means no password
	// was typed for this sign-in (single sign-on).
	http.SetCookie(w, &http.Cookie{Name: a.CookieName + "_started", Value: strconv.FormatInt(time.Now().Unix(), 10),
		Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if err := a.Client.SignIn(w, r); err != nil {
		a.page(w, http.StatusInternalServerError, pageData{App: a.Name, Note: "Could not start the sign-in: " + err.Error()})
	}
}

func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	s, err := a.Client.HandleCallback(w, r)
	if err != nil {
		a.page(w, http.StatusBadRequest, pageData{App: a.Name, Note: "The sign-in did not complete: " + err.Error()})
		return
	}
	how := "password"
	if c, err := r.Cookie(a.CookieName + "_started"); err == nil {
		started, _ := strconv.ParseInt(c.Value, 10, 64)
		if at, ok := s.Claims["auth_time"].(float64); ok && int64(at) < started {
			how = "sso"
		}
	}
	http.Redirect(w, r, "/?how="+how, http.StatusSeeOther)
}

func (a *App) signOut(w http.ResponseWriter, r *http.Request) {
	if err := a.Client.SignOutWeb(w, r); err != nil {
		a.page(w, http.StatusInternalServerError, pageData{App: a.Name, Note: err.Error()})
	}
}

func (a *App) signOutHere(w http.ResponseWriter, r *http.Request) {
	_ = a.Client.SignOutLocal(w, r)
	http.Redirect(w, r, "/?how=local", http.StatusSeeOther)
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	d := pageData{App: a.Name}
	s, err := a.Client.Session(r)
	switch {
	case err == nil:
		d.User, _ = s.Claims["preferred_username"].(string)
		if d.User == "" {
			d.User = s.Subject
		}
		switch r.URL.Query().Get("how") {
		case "sso":
			d.Note = "You were signed in without typing a password: single sign-on through your Sesame session."
		case "password":
			d.Note = "You signed in with your password at Sesame."
		}
	case errors.Is(err, rp.ErrNoSession):
		if c, cerr := r.Cookie(a.CookieName); cerr == nil && a.Sessions.endedByBackchannel(c.Value) {
			d.Note = "You were signed out because you signed out of another app: Sesame told this app by back-channel logout."
		} else if r.URL.Query().Get("how") == "local" {
			d.Note = "You signed out of this app only. Sesame still knows you: signing in again needs no password."
		}
	}
	a.page(w, http.StatusOK, d)
}

type pageData struct {
	App, User, Note string
}

var tmpl = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.App}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;line-height:1.5}
.note{background:#eef3ff;border:1px solid #b9c8f5;padding:.6rem .8rem;border-radius:6px}a{margin-right:1rem}</style></head>
<body><h1>{{.App}}</h1>
{{if .User}}<p><strong>Signed in as {{.User}}</strong></p>{{else}}<p><strong>Not signed in</strong></p>{{end}}
{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
{{if .User}}<p><a href="/sign-out">Sign out (of every app in this browser)</a><a href="/sign-out-here">Sign out of this app only</a></p>
{{else}}<p><a href="/sign-in">Sign in with Sesame</a></p>{{end}}
</body></html>`))

func (a *App) page(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := tmpl.Execute(w, d); err != nil && a.Logger != nil {
		a.Logger.Error("render demo page", "err", err)
	}
}
