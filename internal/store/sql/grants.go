package sql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const grantCols = `id, account_id, client_id, session_id, scopes, created_at, expires_at, revoked_at, revoke_reason, resources`

const (
	qGrant           = `SELECT ` + grantCols + ` FROM grants WHERE id = $1`
	qGrantsByAccount = `SELECT ` + grantCols + ` FROM grants WHERE account_id = $1 ORDER BY created_at DESC, id DESC`
	qLiveGrants      = `SELECT ` + grantCols + ` FROM grants WHERE account_id = $1 AND client_id = $2
		AND revoked_at IS NULL AND expires_at > $3 ORDER BY created_at, id`
	qCreateGrant = `INSERT INTO grants (` + grantCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT DO NOTHING`
	qUpdateGrantScopes    = `UPDATE grants SET scopes = $1 WHERE id = $2`
	qUpdateGrantResources = `UPDATE grants SET resources = $1 WHERE id = $2`
	// As for codes, the condition makes the revocation happen once: a
	// second revoker waits for the first one's row lock, then finds
	// revoked_at set.
	qRevokeGrant = `UPDATE grants SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL`
	qGrantExists = `SELECT 1 FROM grants WHERE id = $1`
)

// grantsBatch is how many grants one qGrants reads and one qRevokeGrants
// revokes: a session's apps, as a rule, in one statement.
const grantsBatch = 16

// The ids fill the parameters, the rest NULL, which matches no grant
// (as qDeliveryCountsByReceipts).
var (
	qGrants       = `SELECT ` + grantCols + ` FROM grants WHERE id IN (` + params(1, grantsBatch) + `)`
	qRevokeGrants = `UPDATE grants SET revoked_at = $1, revoke_reason = $2
		WHERE id IN (` + params(3, grantsBatch) + `) AND revoked_at IS NULL`
)

func scanGrant(row scanner) (store.Grant, error) {
	var g store.Grant
	err := row.Scan(grantDests(&g)...)
	return g, err
}

// grantDests are the scan destinations of grantCols.
func grantDests(g *store.Grant) []any {
	return []any{&g.ID, &g.AccountID, &g.ClientID, &g.SessionID, wordsDest{&g.Scopes},
		timeDest{&g.CreatedAt}, timeDest{&g.ExpiresAt}, timeDest{&g.RevokedAt}, &g.RevokeReason, resourcesDest{&g.Resources}}
}

// Grant reads one grant, revoked or not.
func (r reader) Grant(ctx context.Context, id string) (store.Grant, error) {
	g, err := scanGrant(r.q.queryRow(ctx, qGrant, id))
	if err != nil {
		return store.Grant{}, fmt.Errorf("read grant %s: %w", id, dbErr(err))
	}
	return g, nil
}

// Grants reads the grants of ids that exist, grantsBatch in a statement.
func (r reader) Grants(ctx context.Context, ids []string) ([]store.Grant, error) {
	var all []store.Grant
	for batch := range slices.Chunk(ids, grantsBatch) {
		list, err := queryList(ctx, r.q, scanGrant, qGrants, padded(batch, grantsBatch)...)
		if err != nil {
			return nil, fmt.Errorf("read grants %s: %w", strings.Join(batch, ", "), dbErr(err))
		}
		all = append(all, list...)
	}
	return all, nil
}

// GrantsByAccount lists an account's grants, revoked ones included, newest
// first.
func (r reader) GrantsByAccount(ctx context.Context, accountID string) ([]store.Grant, error) {
	list, err := queryList(ctx, r.q, scanGrant, qGrantsByAccount, accountID)
	if err != nil {
		return nil, fmt.Errorf("list grants of account %s: %w", accountID, err)
	}
	return list, nil
}

// LiveGrants lists an account's grants for one client that are neither
// revoked nor expired at now, oldest first.
func (r reader) LiveGrants(ctx context.Context, accountID, clientID string, now time.Time) ([]store.Grant, error) {
	list, err := queryList(ctx, r.q, scanGrant, qLiveGrants, accountID, clientID, timeArg(now))
	if err != nil {
		return nil, fmt.Errorf("list live grants of %s for %s: %w", accountID, clientID, dbErr(err))
	}
	return list, nil
}

// CreateGrant inserts a grant; a taken id is store.ErrConflict.
func (t *tx) CreateGrant(ctx context.Context, g store.Grant) error {
	err := insertNew(ctx, t.q, qCreateGrant,
		g.ID, g.AccountID, g.ClientID, g.SessionID, wordsArg(g.Scopes),
		timeArg(g.CreatedAt), timeArg(g.ExpiresAt), timeArg(g.RevokedAt), g.RevokeReason, resourcesArg(g.Resources))
	if err != nil {
		return fmt.Errorf("create grant %s: %w", g.ID, err)
	}
	return nil
}

// UpdateGrantScopes replaces the granted scopes.
func (t *tx) UpdateGrantScopes(ctx context.Context, id string, scopes []string) error {
	if err := execOne(ctx, t.q, qUpdateGrantScopes, wordsArg(scopes), id); err != nil {
		return fmt.Errorf("update scopes of grant %s: %w", id, err)
	}
	return nil
}

// UpdateGrantResources replaces the API resources the grant covers.
func (t *tx) UpdateGrantResources(ctx context.Context, id string, resources map[string][]string) error {
	if err := execOne(ctx, t.q, qUpdateGrantResources, resourcesArg(resources), id); err != nil {
		return fmt.Errorf("update resources of grant %s: %w", id, err)
	}
	return nil
}

// RevokeGrants revokes each grant of ids not yet revoked, grantsBatch in a
// statement, passing over ids of no grant.
func (t *tx) RevokeGrants(ctx context.Context, ids []string, at time.Time, reason store.RevokeReason) error {
	if at.IsZero() {
		return fmt.Errorf("revoke grants %s: zero revocation time", strings.Join(ids, ", "))
	}
	for batch := range slices.Chunk(ids, grantsBatch) {
		if _, err := exec(ctx, t.q, qRevokeGrants, append([]any{timeArg(at), reason}, padded(batch, grantsBatch)...)...); err != nil {
			return fmt.Errorf("revoke grants %s: %w", strings.Join(batch, ", "), err)
		}
	}
	return nil
}

// RevokeGrant sets RevokedAt and the reason unless the grant is already
// revoked, and reports whether this call revoked it. Of two concurrent
// revocations exactly one reports true and the first reason stands.
func (t *tx) RevokeGrant(ctx context.Context, id string, at time.Time, reason store.RevokeReason) (bool, error) {
	if at.IsZero() {
		return false, fmt.Errorf("revoke grant %s: zero revocation time", id)
	}
	err := execOne(ctx, t.q, qRevokeGrant, timeArg(at), reason, id)
	if errors.Is(err, store.ErrNotFound) {
		// Nothing changed: already revoked, or no such grant.
		var one int
		err = t.q.queryRow(ctx, qGrantExists, id).Scan(&one)
		if err == nil {
			return false, nil
		}
		err = dbErr(err)
	}
	if err != nil {
		return false, fmt.Errorf("revoke grant %s: %w", id, err)
	}
	return true, nil
}
