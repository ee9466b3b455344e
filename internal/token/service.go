package token

import (
	"context"
	"log/slog"
	"time"

	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
)

// Signer signs JWT claims with the OP's keys (package keys implements it).
type Signer interface {
	Sign(alg, typ string, claims any) (string, error)
}

// Verifier checks that a JWT is one the OP's keys signed (package keys
// implements it); introspection reads JWT access tokens through it.
type Verifier interface {
	Verify(token string) (keys.Verified, error)
}

// TTLs are the lifetimes of the credentials (design §1 Lifetimes).
type TTLs struct {
	Code    time.Duration
	Access  time.Duration
	ID      time.Duration
	Refresh time.Duration
}

// Service issues and checks credentials.
type Service struct {
	Store  store.Store
	Signer Signer
	// Verifier checks the JWT access tokens presented to introspection
	// (R3).
	Verifier Verifier
	// Resources are the API resources and roles: a token request with
	// resource asks them which API it names and which of its scopes the
	// holder may have (R2, R3).
	Resources *resource.Registry
	// Issuer is the `iss` of every ID token.
	Issuer string
	TTL    TTLs
	// Codes seals authorization codes into their values (NewCode).
	Codes  Sealer
	Now    func() time.Time
	Logger *slog.Logger
	// AccountCacheFor is how long an account read is reused by the token
	// paths (userinfo, introspection, code exchange, refresh); the server
	// forgets a cached account as soon as it hears it changed
	// (ForgetAccount). Zero is one second.
	AccountCacheFor time.Duration

	accounts store.Cache[store.Account]
}

// Account reads an account through the cache the server keeps true
// (ForgetAccount); the session service reads accounts through it too.
func (s *Service) Account(ctx context.Context, id string) (store.Account, error) {
	return s.account(ctx, id)
}

// account reads an account through the cache.
func (s *Service) account(ctx context.Context, id string) (store.Account, error) {
	return s.accounts.Get(ctx, id, s.AccountCacheFor, s.Store.Account)
}

// ForgetAccount drops a cached account, after it changed.
func (s *Service) ForgetAccount(id string) { s.accounts.Forget(id) }

// ForgetAccounts empties the account cache, after changes may have been
// missed.
func (s *Service) ForgetAccounts() { s.accounts.ForgetAll() }

// Response is a token endpoint answer (RFC 6749 §5.1, Core §3.1.3.3).
type Response struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}
