package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/web"
)

//go:embed templates/*.html
var files embed.FS

// Pages renders Sesame's HTML pages.
type Pages struct {
	t      *template.Template
	Logger *slog.Logger
}

// New parses the embedded templates.
func New(logger *slog.Logger) (*Pages, error) {
	t, err := template.ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	return &Pages{t: t, Logger: logger}, nil
}

// render executes one template into a buffer first, so a template error
// never leaves half a page on the wire.
func (p *Pages) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, data); err != nil {
		p.Logger.Error("render page", "page", name, "err", err)
		web.SetPageHeaders(w.Header(), web.Policy{})
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Sesame could not show this page. Please try again.\n"))
		return
	}
	web.SetPageHeaders(w.Header(), policyOf(data))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// policyOf is what a page's data allows beyond every page's headers: its
// script nonce and the redirect target its forms lead to (W2).
func policyOf(data any) web.Policy {
	if p, ok := data.(interface{ policy() web.Policy }); ok {
		return p.policy()
	}
	return web.Policy{}
}

// SignInData fills the sign-in page.
type SignInData struct {
	// Action is where the form posts.
	Action   string
	App      string
	Username string
	// Error is shown above the form after a failed attempt.
	Error string
	// Reauth is true when the person is signed in but prompt=login or
	// max_age asks for the password again.
	Reauth bool
	// CSRF is the browser's form token (W1).
	CSRF string
	// RedirectURI is where a successful post may end: the client's
	// validated redirect_uri (empty on the account page, which stays on
	// Sesame). Its origin joins the CSP's form-action (W2).
	RedirectURI string
}

func (d SignInData) policy() web.Policy { return web.Policy{FormTargets: []string{d.RedirectURI}} }

// SignIn renders the sign-in page (contract: inputs username, password).
func (p *Pages) SignIn(w http.ResponseWriter, status int, d SignInData) {
	p.render(w, status, "signin.html", d)
}

// ConsentData fills the consent page.
type ConsentData struct {
	Action   string
	App      string
	Username string
	// Scopes are described in words, one line each.
	Scopes []ScopeText
	// APIs are the API resources the app asks to call as the person,
	// each under its name with the permissions it would get (R2).
	APIs []ConsentAPI
	// New is true when the app asks for more than it had.
	New bool
	// CSRF is the browser's form token (W1).
	CSRF string
	// RedirectURI is the client's validated redirect_uri, where either
	// answer ends (W2).
	RedirectURI string
}

func (d ConsentData) policy() web.Policy { return web.Policy{FormTargets: []string{d.RedirectURI}} }

// ConsentAPI is one API resource on the consent page: its name and the
// scopes (its permissions) the app would be granted on it, each in the
// words its resource gives it, if any (R2).
type ConsentAPI struct {
	Name   string
	Scopes []ScopeText
}

// DescribeAPIScopes puts an API's scopes in the words of descriptions,
// keyed by scope, in the order given; a scope without words keeps its
// name as its text, which the page then shows alone.
func DescribeAPIScopes(scopes []string, descriptions map[string]string) []ScopeText {
	out := make([]ScopeText, 0, len(scopes))
	for _, s := range scopes {
		t := descriptions[s]
		if t == "" {
			t = s
		}
		out = append(out, ScopeText{Name: s, Text: t})
	}
	return out
}

// ScopeText is one scope and what it means to a person.
type ScopeText struct {
	Name, Text string
}

// Described is whether Text says more than the scope's name, so the page
// shows the name in small print after it rather than twice.
func (s ScopeText) Described() bool { return s.Text != s.Name }

// Describe explains scopes to a person.
func Describe(scopes []string) []ScopeText {
	words := map[string]string{
		"openid":         "Know who you are (your account id)",
		"profile":        "See your name and username",
		"email":          "See your email address",
		"offline_access": "Stay connected to your account after you sign out here (until you disconnect it)",
	}
	var out []ScopeText
	for _, s := range scopes {
		t, ok := words[s]
		if !ok {
			t = s
		}
		out = append(out, ScopeText{Name: s, Text: t})
	}
	return out
}

// Consent renders the consent page (contract: buttons decision=allow|deny).
func (p *Pages) Consent(w http.ResponseWriter, d ConsentData) {
	p.render(w, http.StatusOK, "consent.html", d)
}

// ErrorData fills the error page.
type ErrorData struct {
	Title   string
	Message string
	// Code is the OAuth error code, when there is one.
	Code string
	// NoRedirect explains that Sesame did not send the person back to the
	// app because it could not do so safely.
	NoRedirect bool
}

// Error renders an error page a person can read; it never redirects. A
// page without a title gets one in words for its status, never the bare
// status text ("Bad Request").
func (p *Pages) Error(w http.ResponseWriter, status int, d ErrorData) {
	if d.Title == "" {
		d.Title = ErrorTitle(status)
	}
	p.render(w, status, "error.html", d)
}

// ErrorTitle is the heading of an error page of the given status, in
// words a person understands.
func ErrorTitle(status int) string {
	switch {
	case status == http.StatusNotFound:
		return "Page not found"
	case status == http.StatusForbidden:
		return "Request refused"
	case status == http.StatusRequestURITooLong, status == http.StatusRequestEntityTooLarge:
		return "Request too long"
	case status == http.StatusTooManyRequests:
		return "Too many attempts"
	case status == http.StatusServiceUnavailable:
		return "Sesame is busy or unavailable"
	case status >= 500:
		return "Something went wrong at Sesame"
	default:
		return "This request cannot be completed"
	}
}

// SignOutData fills the sign-out confirm page.
type SignOutData struct {
	Action string
	// XSRF is the page's one-time token (spec S4).
	XSRF     string
	App      string
	Username string
	// Apps names every app signed in through this browser.
	Apps []string
	// Auto makes the page submit logout=true by itself (signout_confirm:
	// auto, as Logto).
	Auto bool
	// CanChooseApp offers "sign out of this app only" (signout_confirm:
	// ask).
	CanChooseApp bool
	// Unseen is true when the request could not show whether this browser
	// is signed in: a cross-site POST carries no SameSite=Lax cookie, so
	// the page asks rather than saying "not signed in".
	Unseen bool
	Nonce  string
	// CSRF is the browser's form token (W1), besides the page's own XSRF.
	CSRF string
	// RedirectURI is the registered post_logout_redirect_uri the post
	// ends at, if any (W2).
	RedirectURI string
	// Cancel is where the Cancel link goes (O3): the registered
	// post_logout_redirect_uri with state appended, or the landing page.
	// Following it signs nobody out.
	Cancel string
}

// CancelURL is Cancel as the link's href. Cancel is a return address
// registered for the client (a native app's may have its own scheme, which
// html/template would otherwise blank out), so it is passed as it is,
// except a scheme that runs code, which becomes the landing page.
func (d SignOutData) CancelURL() template.URL {
	u, err := url.Parse(d.Cancel)
	if d.Cancel == "" || err != nil {
		return "/"
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "vbscript", "data":
		return "/"
	}
	return template.URL(d.Cancel)
}

// policy allows the page's auto-submit script and its redirect target.
func (d SignOutData) policy() web.Policy {
	p := web.Policy{FormTargets: []string{d.RedirectURI}}
	if d.Auto {
		p.ScriptNonce = d.Nonce
	}
	return p
}

// SignOut renders the confirm page (contract: hidden xsrf; buttons
// logout=true and app_only=true).
func (p *Pages) SignOut(w http.ResponseWriter, d SignOutData) {
	p.render(w, http.StatusOK, "signout.html", d)
}

// SignedOutData fills the sign-out done page.
type SignedOutData struct {
	// AppOnly is true when only the requesting app was signed out.
	AppOnly bool
	// StillSignedIn is true when the person chose not to sign out.
	StillSignedIn bool
}

// SignedOut renders the page shown when no post_logout_redirect_uri was
// given (O8).
func (p *Pages) SignedOut(w http.ResponseWriter, d SignedOutData) {
	p.render(w, http.StatusOK, "signedout.html", d)
}

// AccountData fills the account page.
type AccountData struct {
	Username string
	// CSRF is the browser's form token every form posts back (W1).
	CSRF    string
	Devices []Device
	Apps    []ConnectedApp
	// Notice says what the last action did: "device" or "app".
	Notice string
}

// Device is one session of the account.
type Device struct {
	ID string
	// Name says which browser on which system, in words ("Chrome on
	// macOS", package session's DeviceName).
	Name                   string
	IP                     string
	SignedInAt, LastActive time.Time
	ThisDevice             bool
	// Apps names the apps signed in through it.
	Apps []string
}

// ConnectedApp is one grant of the account.
type ConnectedApp struct {
	GrantID string
	// App is the client's name, or its id when it has none.
	App string
	// Access says what the app may do, in words (AccessWords).
	Access               []string
	Offline              bool
	GrantedAt, ExpiresAt time.Time
}

// AccessWords says what granted scopes let an app do, one phrase each, in
// the words of the account page's "can ..." list; a scope Sesame has no
// words for is shown as it is.
func AccessWords(scopes []string) []string {
	words := map[string]string{
		"openid":         "sign you in",
		"profile":        "your name and profile",
		"email":          "your email address",
		"offline_access": "stay connected when you are away",
	}
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if w, ok := words[s]; ok {
			out = append(out, w)
		} else {
			out = append(out, s)
		}
	}
	return out
}

// Account renders the account page.
func (p *Pages) Account(w http.ResponseWriter, d AccountData) {
	p.render(w, http.StatusOK, "account.html", d)
}

// LandingData fills the landing page, answered at / and at the issuer.
type LandingData struct {
	// Issuer is the OpenID Connect issuer; Discovery its discovery
	// document.
	Issuer, Discovery string
	// Username is who is signed in in this browser, or "".
	Username string
}

// Landing renders the landing page: what this server is, where apps find
// it, and who is signed in.
func (p *Pages) Landing(w http.ResponseWriter, d LandingData) {
	p.render(w, http.StatusOK, "landing.html", d)
}
