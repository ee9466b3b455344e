package sql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const accessTokenCols = `hash, grant_id, client_id, account_id, scopes, created_at, expires_at, revoked_at`

const refreshTokenCols = `hash, grant_id, client_id, account_id, sid, auth_time, amr, acr, scopes,
	created_at, expires_at, used_at, revoked_at`

// Tokens are found by their key (store.NewTokenKey): by the primary key,
// (expires_at, hash), when the key carries the expiry; else, for a token
// issued before keys did, by its whole digest through the index of those
// rows alone (access_tokens_legacy, refresh_tokens_legacy), which new rows,
// with a 16-byte hash, never enter. {key} in a query is either condition.
var (
	qAccessToken       = keyed(`SELECT `+accessTokenCols+` FROM access_tokens WHERE {key}`, "", 1)
	qCreateAccessToken = `INSERT INTO access_tokens (` + accessTokenCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING`
	// coalesce keeps the first revocation time.
	qRevokeAccessToken  = keyed(`UPDATE access_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE {key}`, "", 2)
	qRefreshToken       = keyed(`SELECT `+refreshTokenCols+` FROM refresh_tokens WHERE {key}`, "", 1)
	qCreateRefreshToken = `
		INSERT INTO refresh_tokens (` + refreshTokenCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT DO NOTHING`
	// As for codes, the condition on used_at makes rotation single use.
	qConsumeRefreshToken = keyed(`UPDATE refresh_tokens SET used_at = $1 WHERE {key} AND used_at IS NULL`, "", 2)
	qRevokeRefreshToken  = keyed(`UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE {key}`, "", 2)
)

// byKey is a query in its two forms: for a key that carries its expiry,
// and for an older token's digest; split tells them apart.
type byKey struct {
	current, legacy string
	split           func([]byte) (exp time.Time, key []byte, ok bool)
}

// keyed makes a token query's two forms, its {key} condition on the
// columns of alias (a table alias, or "" for none) with the key's
// arguments from $n.
func keyed(query, alias string, n int) byKey {
	return keyedBy(query, alias, "hash", store.TokenDigestLen, n, store.SplitTokenKey)
}

// keyedBy makes a query's two forms on key column col, whose rows keyed
// with their expiry hold newLen bytes there, and no older row does.
func keyedBy(query, alias, col string, newLen, n int, split func([]byte) (time.Time, []byte, bool)) byKey {
	a := alias
	if a != "" {
		a += "."
	}
	return byKey{
		current: strings.Replace(query, "{key}", fmt.Sprintf("%sexpires_at = $%d AND %s%s = $%d", a, n, a, col, n+1), 1),
		legacy:  strings.Replace(query, "{key}", fmt.Sprintf("%s%s = $%d AND length(%s%s) <> %d", a, col, n, a, col, newLen), 1),
		split:   split,
	}
}

// with returns the query's form for key and its arguments: args, then the
// key's.
func (q byKey) with(key []byte, args ...any) (string, []any) {
	if exp, k, ok := q.split(key); ok {
		return q.current, append(args, timeArg(exp), k)
	}
	return q.legacy, append(args, key)
}

// keyColumns are the expires_at and key columns a token with key and
// expiry exp is stored with, split as q's key: a key that carries its
// expiry must carry exp exactly, and its row is stored under it, where
// lookups find it; an older key is stored whole, with exp. The key holds
// whole seconds, so an exp with a fraction of one is refused rather than
// stored as either: under exp, no lookup by the key would find the row;
// under the key's second, it would be read back with another expiry than
// was written. Every token expires: the expiry leads the primary key.
func (q byKey) keyColumns(key []byte, exp time.Time) (any, any, error) {
	if exp.IsZero() {
		return nil, nil, errors.New("a token without an expiry")
	}
	if kexp, k, ok := q.split(key); ok {
		if !kexp.Equal(exp) {
			return nil, nil, fmt.Errorf("a token key for %v on a token expiring at %v", kexp.UTC(), exp.UTC())
		}
		return timeArg(kexp), k, nil
	}
	return timeArg(exp), blobArg(key), nil
}

// storedKey is the key of a token row read back: its 16-byte hash with
// its expiry, or an older token's digest as it is.
func storedKey(hash []byte, exp time.Time) []byte {
	if len(hash) == store.TokenDigestLen {
		return store.NewTokenKey(exp, hash)
	}
	return hash
}

func scanAccessToken(row scanner) (store.AccessToken, error) {
	var t store.AccessToken
	err := row.Scan(accessTokenDests(&t)...)
	accessTokenRead(&t)
	return t, err
}

// accessTokenRead completes a token scanned by accessTokenDests.
func accessTokenRead(t *store.AccessToken) { t.Hash = storedKey(t.Hash, t.ExpiresAt) }

// accessTokenDests are the scan destinations of accessTokenCols.
func accessTokenDests(t *store.AccessToken) []any {
	return []any{blobDest{&t.Hash}, &t.GrantID, &t.ClientID, &t.AccountID, wordsDest{&t.Scopes},
		timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt}, timeDest{&t.RevokedAt}}
}

func scanRefreshToken(row scanner) (store.RefreshToken, error) {
	var t store.RefreshToken
	err := row.Scan(refreshTokenDests(&t)...)
	refreshTokenRead(&t)
	return t, err
}

// refreshTokenRead completes a token scanned by refreshTokenDests.
func refreshTokenRead(t *store.RefreshToken) { t.Hash = storedKey(t.Hash, t.ExpiresAt) }

// refreshTokenDests are the scan destinations of refreshTokenCols.
func refreshTokenDests(t *store.RefreshToken) []any {
	return []any{blobDest{&t.Hash}, &t.GrantID, &t.ClientID, &t.AccountID, &t.SID,
		timeDest{&t.AuthTime}, wordsDest{&t.AMR}, &t.ACR, wordsDest{&t.Scopes},
		timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt}, timeDest{&t.UsedAt}, timeDest{&t.RevokedAt}}
}

// AccessToken reads an opaque access token by its key.
func (r reader) AccessToken(ctx context.Context, hash []byte) (store.AccessToken, error) {
	q, args := qAccessToken.with(hash)
	t, err := scanAccessToken(r.q.queryRow(ctx, q, args...))
	if err != nil {
		return store.AccessToken{}, fmt.Errorf("read access token: %w", dbErr(err))
	}
	return t, nil
}

// withGrant is the SELECT of a token table's cols joined with the
// token's grant: userinfo, introspection and a refresh read both in one
// search of each primary key, not two reads.
func withGrant(table, cols string) byKey {
	return keyed(`SELECT `+columnsOf("t", cols)+`, `+columnsOf("g", grantCols)+`
	FROM `+table+` t JOIN grants g ON g.id = t.grant_id WHERE {key}`, "t", 1)
}

var (
	qAccessTokenGrant  = withGrant("access_tokens", accessTokenCols)
	qRefreshTokenGrant = withGrant("refresh_tokens", refreshTokenCols)
)

// tokenGrant reads the token with hash and its grant by query (withGrant);
// a token whose grant is gone is ErrNotFound.
func tokenGrant[T any](ctx context.Context, q querier, query byKey, hash []byte, dests func(*T) []any, read func(*T)) (T, store.Grant, error) {
	var t T
	var g store.Grant
	text, args := query.with(hash)
	if err := q.queryRow(ctx, text, args...).Scan(append(dests(&t), grantDests(&g)...)...); err != nil {
		var zero T
		return zero, store.Grant{}, dbErr(err)
	}
	read(&t)
	return t, g, nil
}

// AccessTokenGrant reads an access token by the hash of its value with
// its grant; a token whose grant is gone is ErrNotFound.
func (r reader) AccessTokenGrant(ctx context.Context, hash []byte) (store.AccessToken, store.Grant, error) {
	t, g, err := tokenGrant(ctx, r.q, qAccessTokenGrant, hash, accessTokenDests, accessTokenRead)
	if err != nil {
		return t, g, fmt.Errorf("read access token: %w", err)
	}
	return t, g, nil
}

// RefreshTokenGrant reads a refresh token by the hash of its value with
// its grant; a token whose grant is gone is ErrNotFound.
func (r reader) RefreshTokenGrant(ctx context.Context, hash []byte) (store.RefreshToken, store.Grant, error) {
	t, g, err := tokenGrant(ctx, r.q, qRefreshTokenGrant, hash, refreshTokenDests, refreshTokenRead)
	if err != nil {
		return t, g, fmt.Errorf("read refresh token: %w", err)
	}
	return t, g, nil
}

// RefreshToken reads a refresh token by the hash of its value.
func (r reader) RefreshToken(ctx context.Context, hash []byte) (store.RefreshToken, error) {
	q, args := qRefreshToken.with(hash)
	t, err := scanRefreshToken(r.q.queryRow(ctx, q, args...))
	if err != nil {
		return store.RefreshToken{}, fmt.Errorf("read refresh token: %w", dbErr(err))
	}
	return t, nil
}

// CreateAccessToken inserts an access token; a taken hash is
// store.ErrConflict.
func (t *tx) CreateAccessToken(ctx context.Context, a store.AccessToken) error {
	exp, hash, err := qAccessToken.keyColumns(a.Hash, a.ExpiresAt)
	if err == nil {
		err = insertNew(ctx, t.q, qCreateAccessToken,
			hash, a.GrantID, a.ClientID, a.AccountID, wordsArg(a.Scopes),
			timeArg(a.CreatedAt), exp, timeArg(a.RevokedAt))
	}
	if err != nil {
		return fmt.Errorf("create access token of grant %s: %w", a.GrantID, err)
	}
	return nil
}

// RevokeAccessToken marks one access token revoked. A token revoked before
// keeps its first RevokedAt.
func (t *tx) RevokeAccessToken(ctx context.Context, hash []byte, at time.Time) error {
	if at.IsZero() {
		return errors.New("revoke access token: zero time")
	}
	q, args := qRevokeAccessToken.with(hash, timeArg(at))
	if err := execOne(ctx, t.q, q, args...); err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	return nil
}

// CreateRefreshToken inserts a refresh token; a taken hash is
// store.ErrConflict.
func (t *tx) CreateRefreshToken(ctx context.Context, r store.RefreshToken) error {
	exp, hash, err := qRefreshToken.keyColumns(r.Hash, r.ExpiresAt)
	if err == nil {
		err = insertNew(ctx, t.q, qCreateRefreshToken,
			hash, r.GrantID, r.ClientID, r.AccountID, r.SID,
			timeArg(r.AuthTime), wordsArg(r.AMR), r.ACR, wordsArg(r.Scopes),
			timeArg(r.CreatedAt), exp, timeArg(r.UsedAt), timeArg(r.RevokedAt))
	}
	if err != nil {
		return fmt.Errorf("create refresh token of grant %s: %w", r.GrantID, err)
	}
	return nil
}

// ConsumeRefreshToken marks the token used (rotated) at at. As for codes,
// of many concurrent rotations exactly one wins; the others get
// store.ErrAlreadyUsed and apply the reuse rule (design G4). The winner's
// UPDATE returns no columns: the caller read the token before, and
// returning its 13 (its scopes and methods decoded again) was a tenth of
// the store's share of a refresh. Only a loser reads the row, to name its
// grant.
func (t *tx) ConsumeRefreshToken(ctx context.Context, hash []byte, at time.Time) error {
	if at.IsZero() {
		return errors.New("consume refresh token: zero time")
	}
	update, args := qConsumeRefreshToken.with(hash, timeArg(at))
	n, err := exec(ctx, t.q, update, args...)
	if err != nil {
		return fmt.Errorf("consume refresh token: %w", err)
	}
	if n > 0 {
		return nil
	}
	read, key := qRefreshToken.with(hash)
	r, err := scanRefreshToken(t.q.queryRow(ctx, read, key...))
	if err != nil {
		return fmt.Errorf("consume refresh token: %w", dbErr(err))
	}
	return fmt.Errorf("consume refresh token of grant %s: %w", r.GrantID, store.ErrAlreadyUsed)
}

// RevokeRefreshToken marks one refresh token revoked. A token revoked
// before keeps its first RevokedAt.
func (t *tx) RevokeRefreshToken(ctx context.Context, hash []byte, at time.Time) error {
	if at.IsZero() {
		return errors.New("revoke refresh token: zero time")
	}
	q, args := qRevokeRefreshToken.with(hash, timeArg(at))
	if err := execOne(ctx, t.q, q, args...); err != nil {
		return fmt.Errorf("revoke refresh token: %w", err)
	}
	return nil
}
