package sql

import (
	"context"
	"fmt"
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
