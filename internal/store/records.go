package store

import "time"

// Account is a person who can sign in (design A1). ID is the `sub`.
type Account struct {
	ID            string
	Username      string
	Email         string
	EmailVerified bool
	Name          string
	// PasswordHash is an argon2id PHC string; empty means no password.
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// AccountSearch selects a page of accounts for the admin list: with both
// prefixes set, the accounts matching either; with one, those matching it;
// with none, every account. Matching is by prefix, so that a search reads
// the accounts it finds through an index, never the whole table.
type AccountSearch struct {
	// UsernamePrefix keeps the accounts whose username starts with it.
	// Usernames are stored in their canonical form (A1): pass the prefix
	// in that form (account.CanonicalUsername) for a search that ignores
	// case and width.
	UsernamePrefix string
	// EmailPrefix keeps the accounts whose email starts with it, both
	// compared with A to Z lowercased (an email's case is as it was
	// given; every database lowercases ASCII alike, not all do beyond).
	EmailPrefix string
	// After is the cursor: only accounts whose username sorts after it
	// (all when empty). A page's last username is the next page's After.
	After string
	// Limit is how many at most; it must be positive.
	Limit int
}

// Client is a registered app (design C1).
type Client struct {
	ID string
	// SecretHash is an argon2id PHC string; empty for public clients.
	SecretHash                       string
	Type                             string // web | spa | native | m2m
	Name                             string
	RedirectURIs                     []string
	PostLogoutRedirectURIs           []string
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
	// FrontchannelLogoutURI is the page a sign-out loads in a hidden
	// iframe (F1, OpenID Connect Front-Channel Logout 1.0); empty for none.
	FrontchannelLogoutURI string
	// FrontchannelLogoutSessionRequired is the client's wish for iss and
	// sid on that page's URL; Sesame sends both either way (F2).
	FrontchannelLogoutSessionRequired bool
	FirstParty                        bool
	OfflineSurvivesSignout            bool
	GrantTypes                        []string
	// IDTokenSignedResponseAlg is ES256 (default) or RS256.
	IDTokenSignedResponseAlg string
	// MaxGrants limits how many live grants one account may hold for this
	// client (devices, as Logto's maxAllowedGrants); 0 is no limit.
	MaxGrants int
	// Admin lets an m2m client get the sesame:admin scope.
	Admin bool
	// RequirePKCE is the client's own require_pkce (design C2); nil
	// follows the top-level setting (client.RequiresPKCE).
	RequirePKCE *bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Session is a browser's Sesame session (design S1, S2).
type Session struct {
	ID         string
	CookieHash []byte
	AccountID  string
	AuthTime   time.Time
	AMR        []string
	ACR        string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt moves with use; MaxExpiresAt never does.
	ExpiresAt    time.Time
	MaxExpiresAt time.Time
	UserAgent    string
	IP           string
	// LegacyCookie marks a session made before the session cookie took the
	// __Host- prefix: only its cookie may still come under the former name
	// (S1). Set by the migration that renamed it; never by CreateSession.
	LegacyCookie bool
	// Authorizations has one entry per client that signed in through this
	// session (design S2, S3). Filled on reads; ignored by CreateSession.
	Authorizations []Authorization
}

// Authorization links one client to one session: the `sid` that client sees
// and the grant its tokens hang off (design S2, S3).
type Authorization struct {
	SessionID string
	ClientID  string
	SID       string
	GrantID   string
	CreatedAt time.Time
}

// Grant is what one account allowed one client, made from one session
// (design G1).
type Grant struct {
	ID        string
	AccountID string
	ClientID  string
	SessionID string
	Scopes    []string
	// Resources are the API resources the grant covers, each with the
	// scopes granted for it (G1, R2): an indicator with no scopes is a
	// resource granted without any. Nil for a grant of none.
	Resources map[string][]string
	CreatedAt time.Time
	ExpiresAt time.Time
	// RevokedAt is zero while the grant stands.
	RevokedAt    time.Time
	RevokeReason RevokeReason
}

// RevokeReason says why a grant was revoked: package grant names the
// reasons of the domain (sign-out, reuse, revocation endpoint, admin...),
// package client those of a client's own grants (a rotated secret, a lost
// admin role).
type RevokeReason string

// AuthRequest is an authorization request waiting on a person: the sign-in
// or consent page. It lives for minutes.
type AuthRequest struct {
	ID string
	// BrowserHash is the SHA-256 of the interaction cookie, binding the
	// pages to the browser that started the request (login CSRF).
	BrowserHash []byte
	ClientID    string
	// Params are the validated request parameters.
	Params AuthParams
	// Filled once the person has signed in.
	AccountID string
	SessionID string
	// Prompt is what is still to show: "login" or "consent".
	Prompt    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuthParams are the parameters of a validated authorization request.
type AuthParams struct {
	RedirectURI string `json:"redirect_uri"`
	// RedirectURIOmitted is true when the request named no redirect_uri
	// and the client's only registered one is used (spec A4, T7).
	RedirectURIOmitted  bool     `json:"redirect_uri_omitted,omitempty"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	// MaxAge is -1 when absent.
	MaxAge       int64  `json:"max_age"`
	ResponseMode string `json:"response_mode,omitempty"`
	LoginHint    string `json:"login_hint,omitempty"`
	UILocales    string `json:"ui_locales,omitempty"`
	// Resources are the API resources the request names (RFC 8707
	// `resource`, which may repeat; R2).
	Resources []string `json:"resources,omitempty"`
}

// AccessToken is an opaque access token, stored by hash.
type AccessToken struct {
	// Hash is the token's key (NewTokenKey): its expiry, which must be
	// ExpiresAt to the second, and the digest of its value.
	Hash      []byte
	GrantID   string
	ClientID  string
	AccountID string
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
}

// RefreshToken is a rotating refresh token, stored by hash (design G4, G5).
type RefreshToken struct {
	// Hash is the token's key, as for AccessToken.
	Hash      []byte
	GrantID   string
	ClientID  string
	AccountID string
	// SID, AuthTime, AMR and ACR are carried so a refreshed ID token repeats
	// them (spec R3).
	SID       string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is set when the token is rotated; a second use is reuse.
	UsedAt    time.Time
	RevokedAt time.Time
}

// SigningKey is one of the OP's signing keys (package keys).
type SigningKey struct {
	ID  string // the kid
	Alg string // ES256 | RS256
	// PublicJWK is the public key as a JSON Web Key.
	PublicJWK []byte
	// SealedPrivate is the private key (PKCS #8) sealed with secret_key.
	SealedPrivate []byte
	CreatedAt     time.Time
	// NotBefore is when it may start signing; it is published earlier
	// (spec D10).
	NotBefore time.Time
	// RetiredAt is zero while the key signs; a retired key is published
	// until the tokens it signed expire.
	RetiredAt time.Time
}

// JWTAccessToken records an RFC 9068 access token Sesame issued for an
// API resource (R3). The token itself is never stored: the record is
// found by the token's jti, so that introspection can tell whether the
// grant it hangs off still stands (G2).
type JWTAccessToken struct {
	// JTI is the token's jti: unpadded base64url (RFC 4648 §5), as
	// package token writes it; it is stored decoded, so 128 random bits
	// cost 16 bytes of key.
	JTI string
	// GrantID is the grant the token was issued on; empty for
	// client_credentials, where no person granted anything.
	GrantID string
	// ClientID is the client the token was issued to (its client_id
	// claim).
	ClientID string
	// Subject is the token's sub: the account, or the client for
	// client_credentials.
	Subject string
	// Resource is the indicator of the API the token is for (its aud).
	Resource  string
	ExpiresAt time.Time
	CreatedAt time.Time
}
