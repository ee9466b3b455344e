package client

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sesame-id/sesame/internal/outbound"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/store"
)

// Client types (C1).
const (
	TypeWeb    = "web"
	TypeSPA    = "spa"
	TypeNative = "native"
	TypeM2M    = "m2m"
)

// Name is how a page names c to a person: its name, or its id when it
// has none.
func Name(c store.Client) string { return cmp.Or(c.Name, c.ID) }

// IsPublic reports whether c has no secret: spa and native apps (C1).
func IsPublic(c store.Client) bool { return c.Type == TypeSPA || c.Type == TypeNative }

// RequiresPKCE reports whether c must send an S256 PKCE challenge with a
// code-flow request (C2, spec A8): always for a public client; for a
// confidential one, its own require_pkce when it set one, otherwise
// requiredByDefault, the top-level require_pkce (true unless the operator
// turned it off).
func RequiresPKCE(c store.Client, requiredByDefault bool) bool {
	switch {
	case IsPublic(c):
		return true
	case c.RequirePKCE != nil:
		return *c.RequirePKCE
	}
	return requiredByDefault
}

// AllowsGrantType reports whether c may use grant type gt.
func AllowsGrantType(c store.Client, gt string) bool { return slices.Contains(c.GrantTypes, gt) }

// DefaultGrantTypes are the grant types of a type when none are listed
// (docs/endpoints.md).
func DefaultGrantTypes(typ string) []string {
	if typ == TypeM2M {
		return []string{"client_credentials"}
	}
	return []string{"authorization_code", "refresh_token"}
}

// Spec is a client registration, as configuration and the admin API give
// it.
type Spec struct {
	ID                               string   `yaml:"id"`
	Secret                           string   `yaml:"secret"`
	Name                             string   `yaml:"name"`
	Type                             string   `yaml:"type"`
	RedirectURIs                     []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs           []string `yaml:"post_logout_redirect_uris"`
	BackchannelLogoutURI             string   `yaml:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired bool     `yaml:"backchannel_logout_session_required"`
	// FrontchannelLogoutURI is the app's page a sign-out loads in a
	// hidden iframe (F1, OpenID Connect Front-Channel Logout 1.0): an
	// absolute http(s) URI without a fragment, on the scheme, host and
	// port of one of RedirectURIs (ValidateFrontchannelURI).
	FrontchannelLogoutURI string `yaml:"frontchannel_logout_uri"`
	// FrontchannelLogoutSessionRequired asks for iss and sid on that
	// page's URL. Sesame sends both to every front-channel page anyway
	// (F2), so it is stored and shown, never a condition.
	FrontchannelLogoutSessionRequired bool `yaml:"frontchannel_logout_session_required"`
	FirstParty                        bool `yaml:"first_party"`
	// OfflineSurvivesSignout defaults to true (C1).
	OfflineSurvivesSignout   *bool    `yaml:"offline_survives_signout"`
	GrantTypes               []string `yaml:"grant_types"`
	IDTokenSignedResponseAlg string   `yaml:"id_token_signed_response_alg"`
	// MaxGrants limits live grants per account (devices); 0 is no limit.
	MaxGrants int `yaml:"max_grants"`
	// Admin lets an m2m client get the sesame:admin scope.
	Admin bool `yaml:"admin"`
	// RequirePKCE overrides the top-level require_pkce for this client
	// (C2); nil follows it. Only a confidential client may set false.
	RequirePKCE *bool `yaml:"require_pkce"`
	// Roles are the roles an m2m client holds (R1): the scopes they
	// permit on an API resource are what client_credentials with
	// resource grants, and the built-in admin role gives admin tokens
	// (C5). Nil leaves the roles the client holds as they are; an empty
	// list takes them all away. Package resource applies them
	// (resource.Registry.Seed), not Registry.Upsert.
	Roles []string `yaml:"roles"`
}

// ConsoleID is the id of the console's own client: Sesame registers it
// for itself at every start (Registry.UpsertReserved), so neither the
// configuration file nor the admin API may declare, create, change or
// delete a client of that id.
const ConsoleID = "sesame-console"

// IsReserved reports whether id is one Sesame keeps for its own clients.
func IsReserved(id string) bool { return id == ConsoleID }

// ReservedError refuses a registration or a change of a client whose id
// Sesame keeps for itself (IsReserved).
type ReservedError struct{ ID string }

// Error says why, in words an operator reads in a config error or an API
// answer.
func (e *ReservedError) Error() string {
	return fmt.Sprintf("id %q is reserved: Sesame registers that client for its own console at every start; choose another id", e.ID)
}

// CheckNotReserved returns a *ReservedError for an id Sesame keeps for
// itself, nil for any other.
func CheckNotReserved(id string) error {
	if IsReserved(id) {
		return &ReservedError{ID: id}
	}
	return nil
}

// Validate reports every problem of a registration at once, one line each.
// A reserved id is one of them (CheckNotReserved): the configuration file
// and the admin API cannot register Sesame's own clients.
func (s Spec) Validate() error {
	return s.validate(false)
}

// validate is Validate; reservedOK lets Sesame register its own clients
// (UpsertReserved).
func (s Spec) validate(reservedOK bool) error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if s.ID == "" {
		add("id is required")
	}
	if err := CheckNotReserved(s.ID); err != nil && !reservedOK {
		errs = append(errs, err)
	}
	switch s.Type {
	case TypeWeb, TypeM2M:
		if s.Secret == "" {
			add("secret is required for a %s client", s.Type)
		}
	case TypeSPA, TypeNative:
		if s.Secret != "" {
			add("a %s client is public and has no secret (it uses PKCE)", s.Type)
		}
		if s.RequirePKCE != nil && !*s.RequirePKCE {
			add("require_pkce: a %s client is public and must use PKCE (C2)", s.Type)
		}
	default:
		add("type %q must be web, spa, native or m2m", s.Type)
	}
	if s.Type != TypeM2M && len(s.RedirectURIs) == 0 {
		add("at least one redirect_uri is required")
	}
	for _, u := range s.RedirectURIs {
		if err := ValidateRedirectURI(s.Type, u); err != nil {
			add("redirect_uris: %v", err)
		}
	}
	for _, u := range s.PostLogoutRedirectURIs {
		if err := ValidateRedirectURI(s.Type, u); err != nil {
			add("post_logout_redirect_uris: %v", err)
		}
	}
	if s.BackchannelLogoutURI != "" {
		u, err := url.Parse(s.BackchannelLogoutURI)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Fragment != "" || strings.Contains(s.BackchannelLogoutURI, "#"):
			add("backchannel_logout_uri: %q must be an absolute http(s) URL without a fragment (spec B11)", s.BackchannelLogoutURI)
		case u.User != nil || hasUnsafeChars(s.BackchannelLogoutURI):
			add("backchannel_logout_uri: %q must not carry credentials, spaces or control characters", s.BackchannelLogoutURI)
		}
	}
	if s.FrontchannelLogoutURI != "" {
		if err := ValidateFrontchannelURI(s.FrontchannelLogoutURI, s.RedirectURIs); err != nil {
			add("frontchannel_logout_uri: %v", err)
		}
	}
	for _, gt := range s.GrantTypes {
		switch gt {
		case "authorization_code", "refresh_token":
		case "client_credentials":
			// A public client cannot authenticate, so it cannot stand for
			// itself (RFC 6749 §4.4).
			if s.Type == TypeSPA || s.Type == TypeNative {
				add("grant_types: client_credentials needs a client that authenticates; a %s client is public", s.Type)
			}
		default:
			add("grant_types: %q is not supported", gt)
		}
	}
	if s.Admin && s.Type != TypeM2M {
		add("admin is only for m2m clients")
	}
	if s.MaxGrants < 0 {
		add("max_grants must be 0 (no limit) or more")
	}
	switch s.IDTokenSignedResponseAlg {
	case "", "ES256", "RS256":
	default:
		add("id_token_signed_response_alg: %q must be ES256 or RS256", s.IDTokenSignedResponseAlg)
	}
	return errors.Join(errs...)
}

// MaxURILen bounds a redirect_uri or post_logout_redirect_uri, registered
// or sent (W2): a longer one is refused before it is compared or stored.
const MaxURILen = 2048

// ValidateRedirectURI checks one registered redirect URI: absolute, no
// fragment, at most MaxURILen bytes, https, except http on a loopback
// host (a deliberate choice so Sesame runs on a laptop, like the issuer)
// and a private-use scheme for native apps (RFC 8252 §7.1).
func ValidateRedirectURI(typ, raw string) error {
	if len(raw) > MaxURILen {
		return fmt.Errorf("%.64q... is longer than %d bytes", raw, MaxURILen)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q must not have a fragment", raw)
	}
	// Redirect URIs are compared exactly; one with credentials, spaces or
	// control characters is a mistake or a trick (a user@host URI shows
	// one host and goes to another), never a real app.
	if u.User != nil || hasUnsafeChars(raw) {
		return fmt.Errorf("%q must not carry credentials, spaces or control characters", raw)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	case typ == TypeNative && u.Scheme != "http" && u.Scheme != "https" && strings.Contains(u.Scheme, "."):
	default:
		return fmt.Errorf("%q must be https (http only on 127.0.0.1, [::1] or localhost)", raw)
	}
	return nil
}

// ValidateFrontchannelURI checks a frontchannel_logout_uri (F1, FCL
// §2): at most MaxURILen bytes, absolute, http or https (a browser loads
// it in an iframe), without a fragment, credentials or characters parsers
// disagree about, and on the scheme, host and port of one of the client's
// redirect URIs, so that registering one never lets an app's page be
// framed on an origin the app has not already proven is its own. A query
// is allowed; Sesame keeps it and appends iss and sid.
func ValidateFrontchannelURI(raw string, redirectURIs []string) error {
	if len(raw) > MaxURILen {
		return fmt.Errorf("%.64q... is longer than %d bytes", raw, MaxURILen)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q must not have a fragment", raw)
	}
	if u.User != nil || hasUnsafeChars(raw) {
		return fmt.Errorf("%q must not carry credentials, spaces or control characters", raw)
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return fmt.Errorf("%q must be an http or https page", raw)
	}
	want := origin(u)
	for _, r := range redirectURIs {
		if ru, err := url.Parse(r); err == nil && ru.Host != "" && origin(ru) == want {
			return nil
		}
	}
	return fmt.Errorf("%q must have the scheme, host and port of one of the client's redirect_uris", raw)
}

// origin is a URL's scheme, host and port, compared as browsers compare
// origins: scheme and host without regard to case, a default port the
// same as none.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case port == "" && scheme == "https":
		port = "443"
	case port == "" && scheme == "http":
		port = "80"
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// hasUnsafeChars reports spaces, control characters and backslashes, which
// browsers and URL parsers disagree about.
func hasUnsafeChars(raw string) bool {
	return strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' })
}

// CheckBackchannelTarget refuses a backchannel_logout_uri that a Sesame
// with allow_private_network_delivery off could never deliver to (B5): one
// whose host is a special-purpose IP literal, localhost, or a numeric host
// (outbound.CheckHost). Spec.Validate cannot know the setting, so its
// callers call this too when the setting is off: config.Validate for the
// file's clients, Registry.Upsert (AllowPrivateDelivery) for the admin
// API's. A host name passes; where it resolves is checked at every dial.
func CheckBackchannelTarget(uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("backchannel_logout_uri: %q is not a URL", uri)
	}
	if err := outbound.CheckHost(u.Hostname()); err != nil {
		return fmt.Errorf("backchannel_logout_uri: %v; Sesame cannot deliver there while allow_private_network_delivery is false", err)
	}
	return nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// MatchRedirectURI reports whether uri is registered for c: exact string
// comparison (RFC 3986 §6.2.1, spec A2). The one exception: a native
// client's http loopback IP-literal URI matches on any port (RFC 8252
// §7.3).
func MatchRedirectURI(c store.Client, uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	if c.Type != TypeNative {
		return false
	}
	portless, ok := loopbackWithoutPort(uri)
	if !ok {
		return false
	}
	for _, r := range c.RedirectURIs {
		if reg, ok := loopbackWithoutPort(r); ok && reg == portless {
			return true
		}
	}
	return false
}

// loopbackWithoutPort returns an http://127.0.0.1 or http://[::1] URI with
// its port removed, byte for byte otherwise.
func loopbackWithoutPort(uri string) (string, bool) {
	for _, prefix := range []string{"http://127.0.0.1", "http://[::1]"} {
		rest, ok := strings.CutPrefix(uri, prefix)
		if !ok {
			continue
		}
		if strings.HasPrefix(rest, ":") {
			end := strings.IndexAny(rest, "/?#")
			if end < 0 {
				end = len(rest)
			}
			port := rest[1:end]
			if port == "" || strings.Trim(port, "0123456789") != "" || len(port) > 5 {
				return "", false
			}
			rest = rest[end:]
		}
		return prefix + rest, true
	}
	return "", false
}

// MatchPostLogoutRedirectURI reports whether uri is registered for c as a
// post-logout redirect: exact match only (spec L5).
func MatchPostLogoutRedirectURI(c store.Client, uri string) bool {
	return slices.Contains(c.PostLogoutRedirectURIs, uri)
}

// ErrWrongSecret means the presented client secret is not the client's
// (or the client has none).
var ErrWrongSecret = errors.New("wrong client secret")

// ReasonSecretRotated is recorded on the client_credentials grants a
// secret change revokes (C5).
const ReasonSecretRotated store.RevokeReason = "secret_rotated"

// ReasonDemoted is recorded on the client_credentials grants revoked when
// a client's admin flag is cleared (C5).
const ReasonDemoted store.RevokeReason = "admin_revoked"

// Registry reads and writes clients and checks their secrets.
type Registry struct {
	Store store.Store
	// Hasher hashes the secrets an operator chose (argon2id); secrets
	// Sesame generated are stored as SHA-256 (C3).
	Hasher secret.Hasher
	// Pool admits the argon2id checks of operator-chosen secrets, apart
	// from the passwords' pool, so a flood of wrong secrets cannot starve
	// people signing in (A4). Nil checks at once.
	Pool *secret.Pool
	Now  func() time.Time
	// AllowPrivateDelivery is allow_private_network_delivery (B5). When
	// false (the zero value), Upsert refuses a backchannel_logout_uri on a
	// special-purpose address or localhost (CheckBackchannelTarget).
	AllowPrivateDelivery bool

	// CacheFor is how long a client read is reused (default one second).
	// Every token request reads its client. Where the store reports every
	// instance's changes (PostgreSQL's LISTEN/NOTIFY, see Forget), it can
	// be long; otherwise a change made by another process (the CLI on the
	// same SQLite file) shows after at most CacheFor.
	CacheFor time.Duration

	// verify checks a secret against a stored hash: secret.Verify when
	// nil. Tests count the argon2id checks through it.
	verify func(hash, plain string) (bool, error)

	mu sync.Mutex
	// verified remembers secrets that passed an argon2id check; cache
	// holds recent client reads. Both are bounded (maxVerified,
	// store.Cache.Max) and only ever hold what a real client presented or
	// is, so no flood of requests grows them past their bound.
	verified map[[32]byte]struct{}
	cache    store.Cache[store.Client]
}

// maxVerified bounds the memory of verified secrets: past it, the map
// starts again empty. A key is 32 bytes, so it costs well under a
// megabyte when full. Only secrets that verified get in, so what a flood
// sends cannot fill it.
const maxVerified = 1024

// Get reads a client, from a cache of at most CacheFor.
func (r *Registry) Get(ctx context.Context, id string) (store.Client, error) {
	c, err := r.cache.Get(ctx, id, r.CacheFor, r.Store.Client)
	if err != nil {
		return c, fmt.Errorf("client %s: %w", id, err)
	}
	return c, nil
}

// Forget drops a client from the cache, after it changed.
func (r *Registry) Forget(id string) { r.cache.Forget(id) }

// ForgetAll empties the cache, after changes may have been missed.
func (r *Registry) ForgetAll() { r.cache.ForgetAll() }

// HoldsAdminRole reports whether c holds the admin role by the two
// deprecated ways of giving it (C5): its admin flag, or its place in the
// admin_clients key. HoldsAdmin reads the built-in role too.
func HoldsAdminRole(c store.Client, adminClients []string) bool {
	return c.Admin || slices.Contains(adminClients, c.ID)
}

// MayGrantAdmin reports whether a person's sign-in through c may carry
// the admin API's scope, sesame:admin, for an account holding the admin
// role (C5): only through a first-party web app, which keeps its tokens
// on its server and redeems its codes with a secret, the console among
// them. A public app (SPA, native) never may: its code goes to whoever
// listens on its redirect URI (any loopback port, for a native app), and
// a first-party app asks no consent, so an admin's session would hand
// admin authority to any local program or script on the page.
func MayGrantAdmin(c store.Client) bool {
	return c.FirstParty && c.Type == TypeWeb
}

// RoleHolders tells whether a client holds a role: package resource's
// Registry, seen through this interface so that this package does not
// depend on it.
type RoleHolders interface {
	ClientHasRole(ctx context.Context, clientID, role string) (bool, error)
}

// roleAdmin is the built-in admin role (resource.RoleAdmin).
const roleAdmin = "admin"

// HoldsAdmin reports whether c holds the built-in admin role (C5), which
// gives it admin tokens (scope sesame:admin) by client_credentials: as
// one of its roles (roles: [admin]), read through roles, or by the
// deprecated admin flag or admin_clients (HoldsAdminRole). Only an m2m
// client holds roles; a nil roles reads the deprecated ways alone.
func HoldsAdmin(ctx context.Context, c store.Client, adminClients []string, roles RoleHolders) (bool, error) {
	if HoldsAdminRole(c, adminClients) {
		return true, nil
	}
	if roles == nil || c.Type != TypeM2M {
		return false, nil
	}
	ok, err := roles.ClientHasRole(ctx, c.ID, roleAdmin)
	if err != nil {
		return false, fmt.Errorf("roles of client %s: %w", c.ID, err)
	}
	return ok, nil
}

// InvalidError is a registration that does not validate; Err lists every
// problem, one per line.
type InvalidError struct{ Err error }

// Error lists the problems, one per line.
func (e *InvalidError) Error() string { return e.Err.Error() }

// Unwrap returns the problems.
func (e *InvalidError) Unwrap() error { return e.Err }

// Upsert validates s and creates or updates the client. An unchanged
// secret is not hashed again. A registration that does not validate is an
// *InvalidError.
func (r *Registry) Upsert(ctx context.Context, s Spec) (store.Client, error) {
	return r.upsert(ctx, s, false, false, nil)
}

// UpsertKeepingSecret updates a confidential client's registration and
// keeps its stored secret; s.Secret is ignored.
func (r *Registry) UpsertKeepingSecret(ctx context.Context, s Spec) (store.Client, error) {
	return r.upsert(ctx, s, true, false, nil)
}

// UpsertReserved creates or updates one of Sesame's own clients (the
// console's, ConsoleID), which Upsert refuses; it refuses every other id,
// so it is no way around the reservation. The registration is validated
// as any other.
func (r *Registry) UpsertReserved(ctx context.Context, s Spec) (store.Client, error) {
	if !IsReserved(s.ID) {
		return store.Client{}, fmt.Errorf("client %s: not one of Sesame's own clients", s.ID)
	}
	return r.upsert(ctx, s, false, true, nil)
}

// Create validates s and stores it as a new client, with what record adds
// in the same transaction (its audit entry): a client of s.ID stored
// first, by a request at the same moment included, is store.ErrConflict,
// never replaced. A registration that does not validate is an
// *InvalidError.
func (r *Registry) Create(ctx context.Context, s Spec, record func(store.Tx, store.Client) error) (store.Client, error) {
	return r.upsert(ctx, s, false, false, record)
}

// upsert creates or updates the client of s; with record, it only creates
// (Create).
func (r *Registry) upsert(ctx context.Context, s Spec, keepSecret, reservedOK bool, record func(store.Tx, store.Client) error) (store.Client, error) {
	existing, err := r.Store.Client(ctx, s.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Client{}, fmt.Errorf("client %s: %w", s.ID, err)
	}
	if keepSecret {
		s.Secret = ""
		if existing.SecretHash != "" {
			s.Secret = "kept" // validates as present; the stored hash is kept below
		}
	}
	err = s.validate(reservedOK)
	// Sesame's own clients' back-channel URIs are served in process,
	// never dialled, so the outbound address rule (B5) does not apply.
	if s.BackchannelLogoutURI != "" && !r.AllowPrivateDelivery && !reservedOK {
		err = errors.Join(err, CheckBackchannelTarget(s.BackchannelLogoutURI))
	}
	if err != nil {
		return store.Client{}, &InvalidError{Err: err}
	}
	hash := ""
	switch {
	case keepSecret:
		hash = existing.SecretHash
	case s.Secret != "":
		// C3: a secret Sesame generated holds 256 random bits and is
		// stored as its SHA-256; one an operator chose is argon2id.
		switch ok, _ := secret.Verify(existing.SecretHash, s.Secret); {
		case ok:
			hash = existing.SecretHash
		case secret.IsGenerated(s.Secret):
			hash = secret.HashGenerated(s.Secret)
		default:
			if hash, err = r.Hasher.Hash(s.Secret); err != nil {
				return store.Client{}, fmt.Errorf("hash secret of client %s: %w", s.ID, err)
			}
		}
	}
	now := r.Now()
	c := store.Client{
		ID: s.ID, SecretHash: hash, Type: s.Type, Name: s.Name,
		RedirectURIs: s.RedirectURIs, PostLogoutRedirectURIs: s.PostLogoutRedirectURIs,
		BackchannelLogoutURI: s.BackchannelLogoutURI, BackchannelLogoutSessionRequired: s.BackchannelLogoutSessionRequired,
		FrontchannelLogoutURI: s.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: s.FrontchannelLogoutSessionRequired,
		FirstParty: s.FirstParty, OfflineSurvivesSignout: s.OfflineSurvivesSignout == nil || *s.OfflineSurvivesSignout,
		GrantTypes: s.GrantTypes, IDTokenSignedResponseAlg: s.IDTokenSignedResponseAlg, MaxGrants: s.MaxGrants, Admin: s.Admin,
		RequirePKCE: s.RequirePKCE, CreatedAt: now, UpdatedAt: now,
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = DefaultGrantTypes(s.Type)
	}
	if c.IDTokenSignedResponseAlg == "" {
		c.IDTokenSignedResponseAlg = "ES256"
	}
	err = r.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		if record != nil {
			return createClient(ctx, tx, c, record)
		}
		if err := r.endRotatedTokens(ctx, tx, c, now); err != nil {
			return err
		}
		return tx.UpsertClient(ctx, c)
	})
	if err != nil {
		return store.Client{}, fmt.Errorf("store client %s: %w", s.ID, err)
	}
	r.Forget(c.ID)
	return c, nil
}

// createClient stores c inside tx unless a client of its id exists, and
// adds record's. The store's CreateClient refuses a taken id, one a
// concurrent transaction committed included, where a check before an
// upsert would let the second of two requests replace the first's client
// (and its secret) unseen.
func createClient(ctx context.Context, tx store.Tx, c store.Client, record func(store.Tx, store.Client) error) error {
	if err := tx.CreateClient(ctx, c); err != nil {
		return err
	}
	return record(tx, c)
}

// endRotatedTokens revokes, inside the transaction that stores c, the
// grants c holds for itself (client_credentials) when c's stored secret
// changes or its admin flag is cleared: tokens got with the old secret or
// the old authority die at once (C5, G2), whether the change came from the
// admin API, the CLI or a changed config file. The
// stored client is read inside tx, so the comparison is with what this
// transaction replaces. People's grants for the client are not the
// client's authority and stay.
func (r *Registry) endRotatedTokens(ctx context.Context, tx store.Tx, c store.Client, now time.Time) error {
	old, err := tx.Client(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read client %s: %w", c.ID, err)
	}
	var reason store.RevokeReason
	switch {
	case old.SecretHash != "" && old.SecretHash != c.SecretHash:
		reason = ReasonSecretRotated
	case old.Admin && !c.Admin:
		// Demotion: the admin API refuses the token at its next call
		// anyway, but introspection and every other reader must see it
		// dead too, so the rule is one: lost authority ends the tokens.
		reason = ReasonDemoted
	default:
		return nil
	}
	n, err := tx.RevokeClientCredentialGrants(ctx, c.ID, now, reason)
	if err != nil || n == 0 {
		return err
	}
	return tx.AddEvent(ctx, store.Event{At: now, Kind: store.EventGrantRevoked, ClientID: c.ID,
		Detail: fmt.Sprintf("%d client_credentials grants: %s", n, reason)})
}

// VerifySecret checks a presented secret against c's hash: nil when it
// matches, ErrWrongSecret when it does not, a *secret.BusyError when the
// pool had no room to check it (nothing was evaluated), or ctx's error.
//
// A generated secret's SHA-256 is checked at once (C3). An argon2id check
// would cost tens of milliseconds and 19 MiB on every token request, so it
// runs in the pool (A4), and a secret that passed is remembered, keyed by a
// SHA-256 of client, stored hash and secret (a changed secret misses):
// an honest client pays argon2id once, and a flood of wrong secrets does
// not queue it behind them. Failures are never remembered.
func (r *Registry) VerifySecret(ctx context.Context, c store.Client, presented string) error {
	if c.SecretHash == "" || presented == "" {
		return ErrWrongSecret
	}
	if !secret.IsSlow(c.SecretHash) {
		return r.check(c, presented)
	}
	key := sha256.Sum256([]byte(c.ID + "\x00" + c.SecretHash + "\x00" + presented))
	r.mu.Lock()
	_, ok := r.verified[key]
	r.mu.Unlock()
	if ok {
		return nil
	}
	var err error
	if perr := r.Pool.Run(ctx, func() { err = r.check(c, presented) }); perr != nil {
		return fmt.Errorf("check secret of client %s: %w", c.ID, perr)
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	if r.verified == nil || len(r.verified) >= maxVerified {
		r.verified = map[[32]byte]struct{}{}
	}
	r.verified[key] = struct{}{}
	r.mu.Unlock()
	return nil
}

// check compares presented with c's stored hash.
func (r *Registry) check(c store.Client, presented string) error {
	verify := r.verify
	if verify == nil {
		verify = secret.Verify
	}
	ok, err := verify(c.SecretHash, presented)
	if err != nil {
		return fmt.Errorf("stored secret of client %s: %w", c.ID, err)
	}
	if !ok {
		return ErrWrongSecret
	}
	return nil
}
