package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/store"
)

// Sign-in refusals.
var (
	// ErrInvalidCredentials: unknown username or wrong password; the two
	// are never told apart.
	ErrInvalidCredentials = errors.New("invalid username or password")
	// ErrThrottled: too many recent failures (A3); see ThrottledError.
	ErrThrottled = errors.New("too many failed sign-ins")
	// ErrDisabled: the account may not sign in.
	ErrDisabled = errors.New("account disabled")
)

// ThrottledError says how long to wait; it wraps ErrThrottled.
type ThrottledError struct{ RetryAfter time.Duration }

// Error says the sign-in is throttled and for how long.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; retry after %v", ErrThrottled, e.RetryAfter)
}

// Unwrap lets errors.Is see ErrThrottled.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// Throttle limits failed sign-ins within a window (A3). Zero fields take
// the defaults: 5 per username and 20 per IP in 15 minutes.
type Throttle struct {
	PerUsername int
	PerIP       int
	Window      time.Duration
}

func (t Throttle) withDefaults() Throttle {
	if t.PerUsername == 0 {
		t.PerUsername = 5
	}
	if t.PerIP == 0 {
		t.PerIP = 20
	}
	if t.Window == 0 {
		t.Window = 15 * time.Minute
	}
	return t
}

// Service signs people in and keeps declarative accounts.
type Service struct {
	Store    store.Store
	Hasher   secret.Hasher
	Now      func() time.Time
	Logger   *slog.Logger
	Throttle Throttle
}

// Authenticate checks a username and password (A2, A3). The hash is never
// computed inside a write transaction, and success writes nothing: the
// caller calls SignedIn in the transaction that records the sign-in.
func (s *Service) Authenticate(ctx context.Context, username, password, ip string) (store.Account, error) {
	th := s.Throttle.withDefaults()
	now := s.Now()
	limits := []throttleKey{{"user:" + strings.ToLower(username), th.PerUsername}}
	// No address (an odd transport) means no IP key: one shared "ip:" key
	// would let a few failures lock out everyone else without one.
	if ip != "" {
		limits = append(limits, throttleKey{"ip:" + ip, th.PerIP})
	}
	for _, k := range limits {
		n, err := s.Store.LoginFailures(ctx, k.key, now.Add(-th.Window))
		if err != nil {
			return store.Account{}, fmt.Errorf("count sign-in failures: %w", err)
		}
		if n >= k.limit {
			s.Logger.WarnContext(ctx, "sign-in throttled", "event", "sign_in_throttled", "key", k.key)
			return store.Account{}, &ThrottledError{RetryAfter: th.Window}
		}
	}
	acct, err := s.Store.AccountByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Account{}, fmt.Errorf("read account %q: %w", username, err)
	}
	hash := acct.PasswordHash
	if err != nil || hash == "" {
		hash = s.Hasher.Dummy() // A2: an unknown user costs what a wrong password does
	}
	ok, verr := secret.Verify(hash, password)
	if verr != nil {
		s.Logger.ErrorContext(ctx, "stored password hash is malformed", "account_id", acct.ID, "err", verr)
	}
	if err != nil || acct.PasswordHash == "" || !ok {
		s.fail(ctx, now, limits, username, ip)
		return store.Account{}, ErrInvalidCredentials
	}
	if acct.Disabled {
		s.Logger.InfoContext(ctx, "sign-in to a disabled account", "event", "sign_in_failed", "account_id", acct.ID, "reason", "disabled")
		return store.Account{}, ErrDisabled
	}
	return acct, nil
}

// SignedIn records a successful sign-in inside the transaction that
// creates the session, so a sign-in is one write: it forgets the
// username's failures (A3) and logs the event. clientID is the app signed
// in to, if any.
func SignedIn(ctx context.Context, tx store.Tx, a store.Account, clientID string, at time.Time) error {
	if err := tx.ClearLoginFailures(ctx, "user:"+strings.ToLower(a.Username)); err != nil {
		return fmt.Errorf("clear sign-in failures of %q: %w", a.Username, err)
	}
	return tx.AddEvent(ctx, store.Event{At: at, Kind: store.EventSignIn, AccountID: a.ID, ClientID: clientID, Detail: a.Username})
}

// throttleKey is one count of failures (A3) and the limit it may reach.
type throttleKey struct {
	key   string
	limit int
}

// fail records one failed sign-in against each throttle key (A3).
func (s *Service) fail(ctx context.Context, now time.Time, keys []throttleKey, username, ip string) {
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.AddLoginFailure(ctx, k.key, now); err != nil {
				return err
			}
		}
		return tx.AddEvent(ctx, store.Event{At: now, Kind: store.EventSignInFailed, Detail: username + " from " + ip})
	})
	if err != nil {
		s.Logger.WarnContext(ctx, "record sign-in failure", "err", err)
	}
	s.Logger.InfoContext(ctx, "sign-in failed", "event", "sign_in_failed", "username", username, "ip", ip)
}

// Spec is a declarative account, as configuration gives it.
type Spec struct {
	Username      string `yaml:"username"`
	Password      string `yaml:"password"`
	Email         string `yaml:"email"`
	EmailVerified bool   `yaml:"email_verified"`
	Name          string `yaml:"name"`
	Disabled      bool   `yaml:"disabled"`
}

// Upsert creates or updates the account named by spec.Username, keeping its
// id (A1). The password is hashed again only when it changed.
func (s *Service) Upsert(ctx context.Context, spec Spec) (store.Account, error) {
	a, err := s.upsert(ctx, spec)
	if errors.Is(err, store.ErrConflict) {
		// Another instance (or admin) created the username between our
		// read and our write: this time the read finds it, and we update.
		a, err = s.upsert(ctx, spec)
	}
	return a, err
}

func (s *Service) upsert(ctx context.Context, spec Spec) (store.Account, error) {
	existing, err := s.Store.AccountByUsername(ctx, spec.Username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Account{}, fmt.Errorf("read account %q: %w", spec.Username, err)
	}
	now := s.Now()
	a := existing
	if errors.Is(err, store.ErrNotFound) {
		a = store.Account{ID: NewID(), CreatedAt: now}
	}
	if ok, _ := secret.Verify(existing.PasswordHash, spec.Password); !ok && spec.Password != "" {
		if a.PasswordHash, err = s.Hasher.Hash(spec.Password); err != nil {
			return store.Account{}, fmt.Errorf("hash password of %q: %w", spec.Username, err)
		}
	}
	a.Username, a.Email, a.EmailVerified, a.Name, a.Disabled = spec.Username, spec.Email, spec.EmailVerified, spec.Name, spec.Disabled
	a.UpdatedAt = now
	if err := s.Store.InTx(ctx, func(tx store.Tx) error { return tx.UpsertAccount(ctx, a) }); err != nil {
		return store.Account{}, fmt.Errorf("store account %q: %w", spec.Username, err)
	}
	return a, nil
}

// NewID returns a new opaque account id (A1): 128 random bits, never
// reused.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
