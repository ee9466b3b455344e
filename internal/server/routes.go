package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/oidc"
	"github.com/sesame-id/sesame/internal/ui"
)

// routes lists every path Sesame serves (contract.md "OIDC endpoints").
func (s *Server) routes(pages *ui.Pages) http.Handler {
	p := s.Provider
	iss := oidc.IssuerPath(s.Config.Issuer)
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", s.healthz)
	// Browsers ask for it on every page; an error page would show up as a
	// console error.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))

	mux.Handle("GET "+iss+"/.well-known/openid-configuration", cors(http.HandlerFunc(p.Discovery)))
	mux.Handle("GET "+iss+"/jwks", cors(http.HandlerFunc(p.JWKS)))

	mux.HandleFunc("GET "+iss+"/auth", p.Authorize)
	mux.HandleFunc("POST "+iss+"/auth", p.Authorize)
	mux.HandleFunc("GET "+iss+"/interaction/{id}", p.Interaction)
	mux.HandleFunc("POST "+iss+"/interaction/{id}/login", p.Login)
	mux.HandleFunc("POST "+iss+"/interaction/{id}/consent", p.Consent)

	mux.Handle(iss+"/token", cors(postOnly(p.Token)))
	mux.Handle(iss+"/token/revocation", cors(postOnly(p.Revocation)))
	mux.Handle(iss+"/token/introspection", cors(postOnly(p.Introspection)))
	mux.Handle(iss+"/me", cors(http.HandlerFunc(p.UserInfo)))

	e := s.EndSession
	mux.HandleFunc("GET "+iss+"/session/end", e.EndSession)
	mux.HandleFunc("POST "+iss+"/session/end", e.EndSession)
	mux.HandleFunc("POST "+iss+"/session/end/confirm", e.Confirm)

	a := s.AccountPage
	mux.HandleFunc("GET /account", a.Show)
	mux.HandleFunc("POST /account/sign-in", a.SignIn)
	mux.HandleFunc("POST /account/sessions/{id}/end", a.EndSession)
	mux.HandleFunc("POST /account/grants/{id}/revoke", a.RevokeGrant)
	mux.HandleFunc("POST /account/sign-out-everywhere", a.SignOutEverywhere)

	for _, rt := range s.API.Routes() {
		mux.HandleFunc(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	mux.HandleFunc("/api/", admin.NotFound)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		pages.Error(w, http.StatusNotFound, ui.ErrorData{Title: "Not found", Message: "There is nothing at this address."})
	})
	return s.middleware(behindProxies(s.trustedProxies, mux))
}
