package sqlite

import (
	"context"
	"fmt"

	"github.com/sesame-id/sesame/internal/store"
)

const signingKeyCols = `id, alg, public_jwk, sealed_private, created_at, not_before, retired_at`

var (
	qSigningKeys      = statement(`SELECT ` + signingKeyCols + ` FROM signing_keys ORDER BY created_at, id`)
	qCreateSigningKey = statement(`INSERT INTO signing_keys (` + signingKeyCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`)
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

// CreateSigningKey inserts a signing key; a taken kid is store.ErrConflict.
func (t *tx) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	_, err := t.q.ExecContext(ctx, qCreateSigningKey,
		k.ID, k.Alg, blobArg(k.PublicJWK), blobArg(k.SealedPrivate),
		timeArg(k.CreatedAt), timeArg(k.NotBefore), timeArg(k.RetiredAt))
	if err != nil {
		return fmt.Errorf("create signing key %s: %w", k.ID, dbErr(err))
	}
	t.changed(store.Change{Kind: store.ChangeKeys, ID: k.ID})
	return nil
}
