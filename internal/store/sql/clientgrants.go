package sql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// The partial index grants_by_client (client_id, standing grants only)
// finds them; an empty account_id leaves people's grants out.
const qRevokeClientCredentialGrants = `UPDATE grants SET revoked_at = $1, revoke_reason = $2
	WHERE client_id = $3 AND account_id = '' AND revoked_at IS NULL`

// RevokeClientCredentialGrants revokes the client's own standing grants
// (no account) and returns how many.
func (t *tx) RevokeClientCredentialGrants(ctx context.Context, clientID string, at time.Time, reason store.RevokeReason) (int, error) {
	if at.IsZero() {
		return 0, fmt.Errorf("revoke client_credentials grants of %s: zero revocation time", clientID)
	}
	n, err := exec(ctx, t.q, qRevokeClientCredentialGrants, timeArg(at), reason, clientID)
	if err != nil {
		return 0, fmt.Errorf("revoke client_credentials grants of %s: %w", clientID, err)
	}
	return int(n), nil
}

// Scopes are stored as words separated by one space, so a scope is one of
// them when the padded list holds it padded. grants_by_account_client
// finds the account's grants.
const qRevokeAccountGrantsWithScope = `UPDATE grants SET revoked_at = $1, revoke_reason = $2
	WHERE account_id = $3 AND revoked_at IS NULL AND (' ' || scopes || ' ') LIKE $4`

// RevokeAccountGrantsWithScope revokes the account's standing grants that
// carry scope and returns how many.
func (t *tx) RevokeAccountGrantsWithScope(ctx context.Context, accountID, scope string, at time.Time, reason store.RevokeReason) (int, error) {
	switch {
	case at.IsZero():
		return 0, fmt.Errorf("revoke grants of %s with %s: zero revocation time", accountID, scope)
	case accountID == "":
		return 0, errors.New("revoke grants with a scope: no account")
	case scope == "" || strings.ContainsAny(scope, " %_\\"):
		return 0, fmt.Errorf("revoke grants of %s: %q is not one scope word without LIKE wildcards", accountID, scope)
	}
	n, err := exec(ctx, t.q, qRevokeAccountGrantsWithScope, timeArg(at), reason, accountID, "% "+scope+" %")
	if err != nil {
		return 0, fmt.Errorf("revoke grants of %s with %s: %w", accountID, scope, err)
	}
	return int(n), nil
}
