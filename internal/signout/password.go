package signout

import (
	"context"
	"fmt"
)

// CausePasswordChange is a sign-out that follows a password change or an
// admin password reset (A5), recorded on its receipts.
const CausePasswordChange = "password_change"

// PasswordChanged ends the account's sessions after its password changed
// (A5): every session but keep, each as a global sign-out (O4, as O6 "all
// devices" does), so their grants are revoked (offline ones kept only where
// O4 keeps them), their tokens die, and their apps get back-channel
// logouts. keep is the session of a person who changed their own password
// and stays signed in there; an admin reset passes "" and ends them all.
// The caller has stored the new password first: a browser that signs in
// again needs it.
func (s *Service) PasswordChanged(ctx context.Context, accountID, keep string) ([]Done, error) {
	done, err := s.accountSessions(ctx, accountSignout{AccountID: accountID, Keep: keep, Cause: CausePasswordChange})
	if err != nil {
		return nil, fmt.Errorf("end sessions of %s after its password changed: %w", accountID, err)
	}
	return done, nil
}
