package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// CookieName is the name of the Sesame session cookie.
const CookieName = "sesame_session"

// ErrNoSession means the browser holds no valid session: no cookie, an
// unknown one, an expired session or a disabled account.
var ErrNoSession = errors.New("no valid session")

// Service reads and creates sessions.
type Service struct {
	Store store.Store
	Now   func() time.Time
	// TTL is the sliding lifetime after last use; MaxTTL the absolute one
	// after sign-in (S2).
	TTL    time.Duration
	MaxTTL time.Duration
	// Accounts reads the account of a session; nil reads Store. The server
	// passes the token service's cache, which it keeps true on every
	// change it hears.
	Accounts func(ctx context.Context, id string) (store.Account, error)
}

func (s *Service) account(ctx context.Context, id string) (store.Account, error) {
	if s.Accounts != nil {
		return s.Accounts(ctx, id)
	}
	return s.Store.Account(ctx, id)
}

// Current is a valid session with its account.
type Current struct {
	Session store.Session
	Account store.Account
}

// FromCookie returns the session a cookie value names, if it is still valid
// and its account enabled (S4).
func (s *Service) FromCookie(ctx context.Context, cookie string) (Current, error) {
	cookie, former := strings.CutPrefix(cookie, formerMark)
	if cookie == "" {
		return Current{}, ErrNoSession
	}
	sess, err := s.Store.SessionByCookie(ctx, token.Hash(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return Current{}, ErrNoSession
	}
	if err != nil {
		return Current{}, fmt.Errorf("read session: %w", err)
	}
	if former && !sess.LegacyCookie {
		return Current{}, ErrNoSession
	}
	now := s.Now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.MaxExpiresAt) {
		return Current{}, ErrNoSession
	}
	acct, err := s.account(ctx, sess.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return Current{}, ErrNoSession
	}
	if err != nil {
		return Current{}, fmt.Errorf("read account of session %s: %w", sess.ID, err)
	}
	if acct.Disabled {
		return Current{}, ErrNoSession
	}
	return Current{Session: sess, Account: acct}, nil
}

// Device is where a sign-in came from, kept for the device list (S2).
type Device struct {
	UserAgent string
	IP        string
}

// New makes a session for a fresh sign-in of account: a new identifier and a
// new cookie value every time (S1). The caller stores it with
// Tx.CreateSession and sets the cookie to the returned value.
func (s *Service) New(accountID string, amr []string, d Device) (store.Session, string) {
	now := s.Now()
	cookie, hash := token.NewValue()
	// The sliding expiry never passes the absolute one, so the sweeper
	// finds every dead session through one index.
	exp := now.Add(min(s.TTL, s.MaxTTL))
	return store.Session{
		ID:           token.NewID(),
		CookieHash:   hash,
		AccountID:    accountID,
		AuthTime:     now,
		AMR:          amr,
		CreatedAt:    now,
		LastSeenAt:   now,
		ExpiresAt:    exp,
		MaxExpiresAt: now.Add(s.MaxTTL),
		UserAgent:    truncate(d.UserAgent, 512),
		IP:           d.IP,
	}, cookie
}

// Rekey returns sess under a new identifier and cookie value, keeping its
// sign-in (account, auth_time, expiry), for a change of what the session
// holds (spec S2: new identifier on privilege change). Its Authorizations
// are not copied; the caller moves the ones it keeps.
func (s *Service) Rekey(sess store.Session) (store.Session, string) {
	cookie, hash := token.NewValue()
	next := sess
	next.ID, next.CookieHash, next.Authorizations = token.NewID(), hash, nil
	return next, cookie
}

// Touch slides the session's expiry on use (S2), inside tx. The absolute
// limit does not move.
func (s *Service) Touch(ctx context.Context, tx store.Tx, sess store.Session) error {
	now := s.Now()
	exp := now.Add(s.TTL)
	if exp.After(sess.MaxExpiresAt) {
		exp = sess.MaxExpiresAt
	}
	if err := tx.TouchSession(ctx, sess.ID, now, exp); err != nil {
		return fmt.Errorf("touch session %s: %w", sess.ID, err)
	}
	return nil
}

// NeedsTouch reports whether a use of sess now should slide its expiry
// (Touch). A session used in the last minute (or sixtieth of its TTL, if
// less) is not touched again: its expiry would move by at most that much,
// and an SSO sign-in then writes nothing (design §5).
func (s *Service) NeedsTouch(sess store.Session) bool {
	return s.Now().Sub(sess.LastSeenAt) >= min(time.Minute, s.TTL/60)
}

// NeedsLogin reports whether a request must show the sign-in page although
// the browser has a session: prompt=login, or max_age exceeded (S4, spec
// A11, A12). maxAge < 0 means none was sent.
func (s *Service) NeedsLogin(sess store.Session, promptLogin bool, maxAge int64) bool {
	if promptLogin {
		return true
	}
	return maxAge >= 0 && s.Now().Sub(sess.AuthTime) > time.Duration(maxAge)*time.Second
}

// AuthorizationFor returns the session's authorization for clientID.
func AuthorizationFor(sess store.Session, clientID string) (store.Authorization, bool) {
	for _, a := range sess.Authorizations {
		if a.ClientID == clientID {
			return a, true
		}
	}
	return store.Authorization{}, false
}

// NewSID returns an unguessable `sid` for one client in one session (S3,
// spec S3).
func NewSID() string {
	return token.NewID()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// formerMark marks a cookie value read under the session cookie's former
// name; no real value contains it (they are base64url).
const formerMark = "former:"

// FormerCookie marks a session cookie value that came under the cookie's
// former name (sesame_session, before the __Host- prefix): FromCookie
// accepts it only for a session made before the rename (S1), so the old
// name cannot be used to plant a session made since.
func FormerCookie(value string) string { return formerMark + value }
