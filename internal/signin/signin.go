package signin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// Service completes sign-ins.
type Service struct {
	Store    store.Store
	Sessions *session.Service
	Signout  *signout.Service
	Now      func() time.Time
}

// Request is an authenticated account to sign in on a browser.
type Request struct {
	// Account was authenticated by account.Service.Authenticate.
	Account store.Account
	// ClientID is the app the person signs in to; empty on the account
	// page.
	ClientID string
	// PreviousCookie is the session cookie the browser sent, if any.
	PreviousCookie string
	// AMR names how the person authenticated (Core §2 amr): "pwd".
	AMR []string
	// Device is where the sign-in comes from, for the device list (S2).
	Device session.Device
	// MayEndGrants says that the transaction Commit runs may end other
	// grants (a client's device limit), so it must commit durably.
	MayEndGrants bool
}

// SignIn is one sign-in: made by Begin, recorded by Commit, its previous
// account's apps told by Deliver.
type SignIn struct {
	// Session is the new session, holding the previous session's
	// authorizations when that was the same account's.
	Session store.Session
	// Cookie is the new session cookie's value, for the browser.
	Cookie string

	svc      *Service
	req      Request
	previous store.Session
	// same is true when the previous session is the same account's.
	same     bool
	switched signout.Done
}

// Begin reads the browser's previous session and makes the new one (S1),
// carrying the previous session's apps when it is the same account's. It
// writes nothing: the caller may look at the new session (to decide on
// consent) before Commit.
func (s *Service) Begin(ctx context.Context, r Request) (*SignIn, error) {
	prev, err := s.Sessions.FromCookie(ctx, r.PreviousCookie)
	if err != nil && !errors.Is(err, session.ErrNoSession) {
		return nil, fmt.Errorf("read the browser's session: %w", err)
	}
	si := &SignIn{svc: s, req: r}
	si.Session, si.Cookie = s.Sessions.New(r.Account.ID, r.AMR, r.Device)
	if err == nil {
		si.previous = prev.Session
		si.same = prev.Account.ID == r.Account.ID
	}
	if si.same {
		for _, a := range prev.Session.Authorizations {
			a.SessionID = si.Session.ID
			si.Session.Authorizations = append(si.Session.Authorizations, a)
		}
	}
	return si, nil
}

// Commit records the sign-in in one write transaction: the previous
// session superseded (same account) or signed out globally (another
// account, S7), the sign-in recorded, the new session and its carried
// authorizations created, then then (which may be nil) with the same
// transaction. Set the cookie after it succeeds, then call Deliver.
func (si *SignIn) Commit(ctx context.Context, then func(tx store.Tx) error) error {
	s := si.svc
	// A sign-in that signs another account out (or whose transaction may
	// end grants) removes access, and must survive a power cut like any
	// sign-out; one that only adds a session is routine (design §2).
	d := store.Routine
	if si.previous.ID != "" && !si.same || si.req.MayEndGrants {
		d = store.Durable
	}
	return s.Store.InTx(ctx, d, func(tx store.Tx) error {
		si.switched = signout.Done{}
		if err := si.replacePrevious(ctx, tx); err != nil {
			return err
		}
		if err := account.SignedIn(ctx, tx, si.req.Account, si.req.ClientID, si.req.Device.IP, s.Now()); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, si.Session); err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		for _, a := range si.Session.Authorizations {
			if err := tx.PutAuthorization(ctx, a); err != nil {
				return fmt.Errorf("carry authorization of %s: %w", a.ClientID, err)
			}
		}
		if then == nil {
			return nil
		}
		return then(tx)
	})
}

// replacePrevious ends the browser's previous session inside tx: the same
// account's is superseded by the new one, which carries its apps; another
// account's is signed out globally (S7).
func (si *SignIn) replacePrevious(ctx context.Context, tx store.Tx) error {
	switch {
	case si.previous.ID == "":
		return nil
	case si.same:
		if _, err := tx.DeleteSession(ctx, si.previous.ID); err != nil {
			return fmt.Errorf("supersede session %s: %w", si.previous.ID, err)
		}
		return nil
	}
	// Frontchannel: a sign-in happens in the browser whose session this
	// ends, and its caller answers with the apps' pages (F2).
	done, err := si.svc.Signout.Global(ctx, tx, signout.Request{Session: si.previous, Cause: signout.CauseAccountSwitch, Frontchannel: true})
	if err != nil {
		return fmt.Errorf("sign out previous account: %w", err)
	}
	si.switched = done
	return nil
}

// Deliver sends the back-channel logouts of the previous account that
// Commit signed out (S7), if any; call it after the commit.
func (si *SignIn) Deliver(ctx context.Context) {
	if si.switched.Receipt.ID != "" {
		si.svc.Signout.Deliver(ctx, si.switched)
	}
}

// Frontchannel returns the front-channel logout pages of the previous
// account's apps that Commit signed out (S7, F2), as its receipt records
// them: the caller answers the sign-in with the page that loads them
// before it goes on (package ui's FrontchannelSignOut), after Deliver,
// which has the first share of the wait. None when no other account was
// signed out, or none of its apps has a page.
func (si *SignIn) Frontchannel() []signout.Frontchannel {
	return si.switched.Frontchannel
}
