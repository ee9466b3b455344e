package signout

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// CausePasswordChange is a sign-out that follows a password change or an
// admin password reset (A5), recorded on its receipts.
const CausePasswordChange store.SignOutCause = "password_change"

// PasswordReset is a new password for an account (A5).
type PasswordReset struct {
	AccountID string
	// Hash is the new password's hash (account.Service.HashPassword),
	// made before the transaction: a hash is never computed inside one.
	Hash string
	// Keep is the session of a person who changed their own password and
	// stays signed in there, with the grants its authorizations name. An
	// admin reset leaves it empty and ends everything.
	Keep string
	// Edit, when set, makes further changes to the account in the same
	// transaction (the admin API's other fields).
	Edit func(*store.Account)
}

// Reset is a committed password reset.
type Reset struct {
	// Account is the account as stored, with its new password.
	Account store.Account
	// Sessions are the sign-outs of the sessions it ended, one each.
	Sessions []Done
	// Grants is the revocation of the live grants that no ended session
	// named, such as an offline grant that outlived its session's sign-out
	// (O4): one receipt, or the zero Done when there were none.
	Grants Done
}

// ResetPassword stores p's new password and ends what the old one may have
// opened (A5), in one transaction, so that either all of it happens or
// none: the account gets the new hash (and p.Edit's changes); every
// session but p.Keep ends as an all-devices sign-out (O6) whose apps get
// back-channel logouts; and every live grant of the account is revoked,
// offline ones included whatever O4 keeps at a sign-out, and those of
// sessions that ended before, but for the grants p.Keep's authorizations
// name. Whoever learnt the old password may have taken an offline refresh
// token, and the reset is when it must die. First deliveries are made
// after the commit.
//
// A grant whose session had ended gets no logout token: its app was sent
// one when that session ended, and the sid a logout token names (B1, S3)
// went with the session. Its refresh token now fails (G2).
func (s *Service) ResetPassword(ctx context.Context, p PasswordReset) (Reset, error) {
	if p.Hash == "" {
		return Reset{}, errors.New("reset password: no password hash")
	}
	var r Reset
	err := s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		r = Reset{}
		var err error
		_, r.Account, err = account.UpdateTx(ctx, tx, p.AccountID, s.Now(), func(a *store.Account) {
			if p.Edit != nil {
				p.Edit(a)
			}
			a.PasswordHash = p.Hash
		})
		if err != nil {
			return err
		}
		var kept map[string]bool
		r.Sessions, kept, err = s.endAccountSessions(ctx, tx, p.AccountID, p.Keep, Request{Cause: CausePasswordChange, revokeOffline: true})
		if err != nil {
			return err
		}
		r.Grants, err = s.endGrants(ctx, tx, p.AccountID, kept)
		return err
	})
	if err != nil {
		return Reset{}, fmt.Errorf("reset password of account %s: %w", p.AccountID, err)
	}
	all := r.Sessions
	if r.Grants.Receipt.ID != "" {
		all = append(slices.Clip(all), r.Grants)
	}
	s.Deliver(ctx, all...)
	return r, nil
}

// endGrants revokes, inside tx, every live grant of the account that kept
// does not name (the sessions' sign-outs revoked theirs just before), and
// stores one receipt of them; it returns the zero Done when there were
// none.
func (s *Service) endGrants(ctx context.Context, tx store.Tx, accountID string, kept map[string]bool) (Done, error) {
	grants, err := tx.GrantsByAccount(ctx, accountID)
	if err != nil {
		return Done{}, fmt.Errorf("list grants of %s: %w", accountID, err)
	}
	now := s.Now()
	var outcomes []store.ReceiptOutcome
	for _, g := range grants {
		if grant.Check(g, now) != nil || kept[g.ID] {
			continue
		}
		if _, err := grant.Revoke(ctx, tx, g, now, grant.ReasonPasswordChange); err != nil {
			return Done{}, err
		}
		outcomes = append(outcomes, store.ReceiptOutcome{ClientID: g.ClientID, GrantID: g.ID, Revoked: true})
	}
	if len(outcomes) == 0 {
		return Done{}, nil
	}
	rec := store.Receipt{ID: token.NewID(), Scope: string(ScopeAllDevices), Cause: CausePasswordChange,
		AccountID: accountID, Outcomes: outcomes, CreatedAt: now}
	if err := tx.CreateReceipt(ctx, rec); err != nil {
		return Done{}, fmt.Errorf("store receipt of the grants of %s: %w", accountID, err)
	}
	return Done{Receipt: rec}, nil
}
