package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/oidc"
	"github.com/sesame-id/sesame/internal/ui"
)

// MetricsHandler serves the Prometheus metrics: on the main listener, or
// on metrics_listen's own address when that is set.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
}

// routes lists every path Sesame serves (docs/endpoints.md).
func (s *Server) routes(pages *ui.Pages) http.Handler {
	p := s.Provider
	iss := oidc.IssuerPath(s.Config.Issuer)
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", s.healthz)
	// Browsers ask for it on every page; an error page would show up as a
	// console error.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if s.Config.MetricsListen == "" {
		// Otherwise /metrics has its own listener (MetricsHandler), and
		// the main one answers 404 for it.
		mux.Handle("GET /metrics", s.MetricsHandler())
	}

	mux.Handle("GET "+iss+"/.well-known/openid-configuration", cors(http.HandlerFunc(p.Discovery)))
	mux.Handle("GET "+iss+"/jwks", cors(http.HandlerFunc(p.JWKS)))

	mux.HandleFunc("GET "+iss+"/auth", p.Authorize)
	mux.HandleFunc("POST "+iss+"/auth", p.Authorize)
	mux.HandleFunc("GET "+iss+"/interaction/{id}", p.Interaction)
	// Posts of Sesame's own forms carry the browser's token and are
	// refused cross-site (W1); the protocol endpoints around them stay
	// open to other sites (POST /auth, POST /session/end, token,
	// revocation, introspection, userinfo).
	form := func(h http.HandlerFunc) http.Handler { return s.Forms.Protect(h) }
	mux.Handle("POST "+iss+"/interaction/{id}/login", form(p.Login))
	mux.Handle("POST "+iss+"/interaction/{id}/consent", form(p.Consent))

	mux.Handle(iss+"/token", cors(postOnly(p.Token)))
	mux.Handle(iss+"/token/revocation", cors(postOnly(p.Revocation)))
	mux.Handle(iss+"/token/introspection", cors(postOnly(p.Introspection)))
	mux.Handle(iss+"/me", cors(http.HandlerFunc(p.UserInfo)))

	e := s.EndSession
	mux.HandleFunc("GET "+iss+"/session/end", e.EndSession)
	mux.HandleFunc("POST "+iss+"/session/end", e.EndSession)
	mux.Handle("POST "+iss+"/session/end/confirm", form(e.Confirm))

	a := s.AccountPage
	// The landing page: the addresses a newcomer opens first (the base
	// URL serve prints, and the issuer) say what they are, not 404.
	mux.HandleFunc("GET /{$}", a.Landing)
	if iss != "" {
		mux.HandleFunc("GET "+iss, a.Landing)
		mux.HandleFunc("GET "+iss+"/{$}", a.Landing)
	}
	mux.HandleFunc("GET /account", a.Show)
	mux.Handle("POST /account/sign-in", form(a.SignIn))
	mux.Handle("POST /account/sessions/{id}/end", form(a.EndSession))
	mux.Handle("POST /account/grants/{id}/revoke", form(a.RevokeGrant))
	mux.Handle("POST /account/sign-out-everywhere", form(a.SignOutEverywhere))

	for _, rt := range s.API.Routes() {
		mux.HandleFunc(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	// The console's posts come wrapped in Forms.Protect (W1) already.
	for _, rt := range s.Console.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	mux.HandleFunc("/api/", admin.NotFound)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		pages.Error(w, http.StatusNotFound, ui.ErrorData{Title: "Page not found", Message: "There is nothing at this address. Check the address for typing mistakes, or start from Sesame's home page."})
	})
	return s.middleware(limitQuery(pages, behindProxies(s.trustedProxies, mux)))
}
