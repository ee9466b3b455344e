package sql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// An authorization code is sealed into its own value (token.Service), so
// nothing is stored when one is issued; this table only remembers which
// codes were redeemed, until they expire. Its key leads with expires_at:
// one code always carries one expiry, so the pair is as unique as the hash
// alone, and the one B-tree that finds a replay is also the sweeper's
// index.
const qUseAuthCode = `INSERT INTO used_codes (expires_at, hash) VALUES ($1, $2) ON CONFLICT DO NOTHING`

// UseAuthCode records that the code with this hash was redeemed. A code
// recorded before is store.ErrAlreadyUsed; of concurrent calls with one
// code exactly one succeeds (a second insert of the key waits for the
// first transaction and then finds the row).
func (t *tx) UseAuthCode(ctx context.Context, hash []byte, expiresAt time.Time) error {
	if expiresAt.IsZero() {
		return errors.New("use auth code: zero expiry")
	}
	err := insertNew(ctx, t.q, qUseAuthCode, timeArg(expiresAt), blobArg(hash))
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("use auth code: %w", store.ErrAlreadyUsed)
	}
	if err != nil {
		return fmt.Errorf("use auth code: %w", err)
	}
	return nil
}
