package oidc

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/activity"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signin"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/ui"
	"github.com/sesame-id/sesame/internal/web"
)

// KeySet is what the provider needs of the signing keys.
type KeySet interface {
	JWKS() []byte
	Algs() []string
}

// Provider serves the protocol endpoints. Every field is a dependency built
// in the composition root (package server).
type Provider struct {
	// Issuer is the full issuer URL, e.g. http://127.0.0.1:4000/oidc.
	Issuer   string
	Store    store.Store
	Clients  *client.Registry
	Accounts *account.Service
	Sessions *session.Service
	Tokens   *token.Service
	Signout  *signout.Service
	// ClientThrottle throttles failed client authentication per client
	// and source address (C3); nil throttles nothing.
	ClientThrottle *account.ClientThrottle
	// SignIns turns an authenticated person into a session (S1, S7).
	SignIns *signin.Service
	Keys    KeySet
	Pages   *ui.Pages
	// Cookies reads and writes Sesame's cookies; Forms binds the sign-in
	// and consent forms to the browser (W1).
	Cookies web.Cookies
	Forms   *web.Forms
	// AdminClients may be given the sesame:admin scope (deprecated: the
	// admin role, read through Resources, is the way, C5).
	AdminClients []string
	// Resources are the API resources and roles: which APIs a resource
	// parameter may name, and which of their scopes an account may be
	// granted (R2); and who holds the admin role (C5).
	Resources *resource.Registry
	// GrantTTL is how long a new grant lives (G1).
	GrantTTL time.Duration
	// AuthRequestTTL is how long a person has for the sign-in and consent
	// pages.
	AuthRequestTTL time.Duration
	// RequirePKCE is the top-level require_pkce (C2): whether a
	// confidential client that sets none must send PKCE.
	RequirePKCE bool
	Now         func() time.Time
	Logger      *slog.Logger

	// Activity counts sign-ins for the console's charts; nil counts
	// nothing.
	Activity *activity.Recorder
}

// Path returns the path of an endpoint under the issuer, e.g. Path("/token")
// is "/oidc/token" for an issuer http://host/oidc.
func (p *Provider) Path(suffix string) string {
	return IssuerPath(p.Issuer) + suffix
}

// URL returns the absolute URL of an endpoint under the issuer.
func (p *Provider) URL(suffix string) string {
	return p.Issuer + suffix
}

// IssuerPath is the path part of an issuer URL, without a trailing slash.
func IssuerPath(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// logError logs an unexpected error with the request's context.
func (p *Provider) logError(r *http.Request, msg string, err error) {
	p.Logger.ErrorContext(r.Context(), msg, "err", err, "path", r.URL.Path)
}
