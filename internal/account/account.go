package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sesame-id/sesame/internal/account/username"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/store"
)

// Sign-in refusals.
var (
	// ErrInvalidCredentials: unknown username or wrong password; the two
	// are never told apart.
	ErrInvalidCredentials = errors.New("invalid username or password")
	// ErrDisabled: the account may not sign in.
	ErrDisabled = errors.New("account disabled")
)

// Service signs people in and keeps declarative accounts.
type Service struct {
	Store  store.Store
	Hasher secret.Hasher
	Now    func() time.Time
	Logger *slog.Logger
	// Throttle is the sign-in throttling (A3); zero rules take
	// DefaultThrottle's.
	Throttle Throttle
	// Pool admits password hashing (A4): a full pool refuses with a
	// *secret.BusyError before anything is hashed. Nil hashes at once.
	Pool *secret.Pool
}

// Authenticate checks a username and password from the client address ip
// (A1-A4). A full password pool refuses it first, with a
// *secret.BusyError, before anything is counted or written. The attempt
// is then counted as a failure of the account from
// that source and of the source itself, in one atomic store step, and
// refused with a *ThrottledError (nothing hashed) when either key is
// blocked; then the hash runs in the password pool, which may refuse with
// a *secret.BusyError. The hash is never computed inside a write
// transaction, and success writes nothing more: the caller calls SignedIn
// in the transaction that records the sign-in, which gives the counted
// attempt back.
func (s *Service) Authenticate(ctx context.Context, name, password, ip string) (store.Account, error) {
	canonical, err := username.Canonical(name)
	if err != nil {
		// No account can have this name, so the answer reveals nothing
		// and costs nothing: no hash, no count.
		return store.Account{}, ErrInvalidCredentials
	}
	th := s.Throttle.withDefaults()
	src := Source(ip)
	limits := []limit{{key: accountKey(src, canonical), rule: th.Account, events: true}}
	// No address (an odd transport) means no address key: one shared
	// key would let a few failures slow everyone else without one.
	if src != "" {
		limits = append(limits, limit{key: addressKey(src), rule: th.Address})
	}
	// A4 before A3: a request the full pool would refuse is refused before
	// it is counted, so a flood of them costs no writes.
	place, err := s.Pool.Join()
	if err != nil {
		return store.Account{}, err
	}
	defer place.Leave()
	now := s.Now()
	counts, err := admit(ctx, s.Store, now, limits)
	if err != nil {
		var throttled *ThrottledError
		if errors.As(err, &throttled) {
			s.Logger.DebugContext(ctx, "sign-in throttled", "event", "sign_in_throttled", "source", src)
		}
		return store.Account{}, err
	}
	acct, err := s.Store.AccountByUsername(ctx, canonical)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.giveBack(ctx, counts)
		return store.Account{}, fmt.Errorf("read account %q: %w", canonical, err)
	}
	known := err == nil && acct.PasswordHash != ""
	hash := acct.PasswordHash
	if !known {
		hash = s.Hasher.Dummy() // A2: an unknown user costs what a wrong password does
	}
	var ok bool
	var verr error
	if err := place.Run(ctx, func() { ok, verr = secret.Verify(hash, password) }); err != nil {
		// A4: not evaluated, so not a failure. A *secret.BusyError goes
		// back as it is, for the page's "try again".
		s.giveBack(ctx, counts)
		return store.Account{}, err
	}
	if verr != nil {
		s.Logger.ErrorContext(ctx, "stored password hash is malformed", "account_id", acct.ID, "err", verr)
	}
	if !known || !ok {
		s.failed(ctx, counts, acct.ID, canonical, src, now)
		return store.Account{}, ErrInvalidCredentials
	}
	if acct.Disabled {
		s.Logger.InfoContext(ctx, "sign-in to a disabled account", "event", "sign_in_failed", "account_id", acct.ID, "reason", "disabled")
		return store.Account{}, ErrDisabled
	}
	return acct, nil
}

// giveBack refunds an attempt that was counted but not evaluated; a
// failure to do so only leaves the attempt counted, so it is logged.
func (s *Service) giveBack(ctx context.Context, counts []counted) {
	if err := refund(context.WithoutCancel(ctx), s.Store, counts); err != nil {
		s.Logger.WarnContext(ctx, "give back a sign-in attempt", "err", err)
	}
}

// failed records a wrong password: the count is already stored (admit),
// so a failure writes nothing more, except the account and source's
// failure event, at most one a minute (A3), which says how many failures
// it stands for.
//
// The name typed is written only when it is an account's: people type
// their password into the username field often enough that an unknown
// name must be taken for a secret.
func (s *Service) failed(ctx context.Context, counts []counted, accountID, canonical, src string, now time.Time) {
	if accountID == "" {
		canonical = "an unknown username"
	}
	for _, c := range counts {
		if !c.eventDue {
			continue
		}
		detail := fmt.Sprintf("%s from %s: %s", canonical, sourceOrUnknown(src), recentFailures(c.after.Failures))
		err := s.Store.InTx(ctx, store.Routine, func(tx store.Tx) error {
			return tx.AddEvent(ctx, store.Event{At: now, Kind: store.EventSignInFailed, AccountID: accountID, Detail: detail})
		})
		if err != nil {
			s.Logger.WarnContext(ctx, "record sign-in failure", "err", err)
		}
		s.Logger.InfoContext(ctx, "sign-in failed", "event", "sign_in_failed", "username", canonical, "source", src,
			"failures", c.after.Failures)
		return
	}
	s.Logger.DebugContext(ctx, "sign-in failed", "event", "sign_in_failed", "username", canonical, "source", src)
}

// recentFailures says how many failures an event stands for.
func recentFailures(n int) string {
	if n == 1 {
		return "1 recent failure"
	}
	return fmt.Sprintf("%d recent failures", n)
}

// sourceOrUnknown names a source in an event.
func sourceOrUnknown(src string) string {
	if src == "" {
		return "an unknown address"
	}
	return src
}

// SignedIn records a successful sign-in from the client address ip inside
// the transaction that creates the session, so a sign-in is one write: it
// forgets the failures of the account from that source, gives back the
// attempt Authenticate counted against the source (A3: only failures
// count towards an address's ceiling, so an office's honest sign-ins never
// reach it), and logs the event. clientID is the app signed in to, if any.
func SignedIn(ctx context.Context, tx store.Tx, a store.Account, clientID, ip string, at time.Time) error {
	src := Source(ip)
	// Locked in the order admit locks them, so a concurrent attempt waits
	// for this transaction rather than writing a count read before it.
	key := accountKey(src, a.Username)
	if _, err := tx.LockThrottle(ctx, key); err != nil {
		return fmt.Errorf("forget sign-in failures of %q: %w", a.Username, err)
	}
	if err := tx.DeleteThrottle(ctx, key); err != nil {
		return fmt.Errorf("forget sign-in failures of %q: %w", a.Username, err)
	}
	if src != "" {
		th, err := tx.LockThrottle(ctx, addressKey(src))
		if err == nil {
			err = giveBack(ctx, tx, th)
		}
		if err != nil {
			return fmt.Errorf("give back the sign-in attempt of %s: %w", src, err)
		}
	}
	return tx.AddEvent(ctx, store.Event{At: at, Kind: store.EventSignIn, AccountID: a.ID, ClientID: clientID, Detail: a.Username})
}

// NewID returns a new opaque account id (A1): 128 random bits, never
// reused.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
