package sql

import (
	"context"
	"fmt"

	"github.com/sesame-id/sesame/internal/store"
)

const signingKeyCols = `id, alg, public_jwk, sealed_private, created_at, not_before, retired_at`

const (
	qSigningKeys      = `SELECT ` + signingKeyCols + ` FROM signing_keys ORDER BY created_at, id`
	qCreateSigningKey = `INSERT INTO signing_keys (` + signingKeyCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT DO NOTHING`
)

func scanSigningKey(row scanner) (store.SigningKey, error) {
	var k store.SigningKey
	err := row.Scan(&k.ID, &k.Alg, blobDest{&k.PublicJWK}, blobDest{&k.SealedPrivate},
		timeDest{&k.CreatedAt}, timeDest{&k.NotBefore}, timeDest{&k.RetiredAt})
	return k, err
}

// SigningKeys lists every stored signing key, oldest first.
func (r reader) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	list, err := queryList(ctx, r.q, scanSigningKey, qSigningKeys)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return list, nil
}

// CreateSigningKey inserts a signing key; a taken kid is store.ErrConflict
// (two instances that made one at the same moment: package keys keeps the
// first).
func (t *tx) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	err := insertNew(ctx, t.q, qCreateSigningKey,
		k.ID, k.Alg, blobArg(k.PublicJWK), blobArg(k.SealedPrivate),
		timeArg(k.CreatedAt), timeArg(k.NotBefore), timeArg(k.RetiredAt))
	if err != nil {
		return fmt.Errorf("create signing key %s: %w", k.ID, err)
	}
	return t.changed(ctx, store.Change{Kind: store.ChangeKeys, ID: k.ID})
}
