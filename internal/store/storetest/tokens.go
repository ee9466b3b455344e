package storetest

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var tokenTests = []test{
	{"UseAuthCodeWorksOnce", testUseAuthCodeWorksOnce},
	{"ConsumeRefreshTokenWorksOnce", testConsumeRefreshTokenWorksOnce},
	{"RevokeAccessTokenKeepsTheFirstTime", testRevokeAccessTokenKeepsTheFirstTime},
	{"RevokeRefreshTokenKeepsTheFirstTime", testRevokeRefreshTokenKeepsTheFirstTime},
	{"TokensAreFoundByKeysThatCarryTheirExpiry", testTokensByExpiringKey},
	{"TokenKeysMustMatchTheirExpiry", testTokenKeysMustMatchTheirExpiry},
}

// testTokensByExpiringKey: tokens stored under keys that lead with their
// expiry (store.NewTokenKey) are found, consumed, revoked and joined with
// their grant by that key, and swept at that expiry; the same digest with
// another expiry finds nothing. Tokens of older releases, keyed by the
// whole digest of their value, are still found beside them.
func testTokensByExpiringKey(t *testing.T, s store.Store) {
	exp := at(time.Hour).Truncate(time.Second)
	g := liveGrant("grant", "acct", "client")
	access := liveAccessToken("at", g.ID)
	access.Hash, access.ExpiresAt = store.NewTokenKey(exp, hash("at")), exp
	refresh := liveRefreshToken("rt", g.ID)
	refresh.Hash, refresh.ExpiresAt = store.NewTokenKey(exp.Add(time.Hour), hash("rt")), exp.Add(time.Hour)
	older := liveAccessToken("older", g.ID)
	jwt, olderJWT := fullJWTAccessToken("jwt"), fullJWTAccessToken("older jwt")
	jwt.JTI, jwt.ExpiresAt = expiringJTI(exp, "jwt"), exp
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "grant", tx.CreateGrant(ctx, g))
		must(t, "access token", tx.CreateAccessToken(ctx, access))
		must(t, "older access token", tx.CreateAccessToken(ctx, older))
		must(t, "JWT access token", tx.CreateJWTAccessToken(ctx, jwt))
		must(t, "older JWT access token", tx.CreateJWTAccessToken(ctx, olderJWT))
		return tx.CreateRefreshToken(ctx, refresh)
	})
	ctx := t.Context()
	for _, want := range []store.JWTAccessToken{jwt, olderJWT} {
		got, err := s.JWTAccessToken(ctx, want.JTI)
		must(t, "JWT access token "+want.JTI, err)
		equal(t, "JWT access token", got, want)
	}
	_, err := s.JWTAccessToken(ctx, expiringJTI(exp.Add(time.Second), "jwt"))
	wantErr(t, "JWT access token by another expiry", err, store.ErrNotFound)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteJWTAccessToken(ctx, jwt.JTI) })
	_, err = s.JWTAccessToken(ctx, jwt.JTI)
	wantErr(t, "deleted JWT access token", err, store.ErrNotFound)
	jwt.JTI = expiringJTI(exp, "jwt swept")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, jwt) })
	gotAccess, err := s.AccessToken(ctx, access.Hash)
	must(t, "access token", err)
	equal(t, "access token", gotAccess, access)
	gotOlder, err := s.AccessToken(ctx, older.Hash)
	must(t, "older access token", err)
	equal(t, "older access token", gotOlder, older)
	gotAccess, gotGrant, err := s.AccessTokenGrant(ctx, access.Hash)
	must(t, "access token with grant", err)
	equal(t, "access token with grant", gotAccess, access)
	equal(t, "its grant", gotGrant.ID, g.ID)
	gotRefresh, _, err := s.RefreshTokenGrant(ctx, refresh.Hash)
	must(t, "refresh token with grant", err)
	equal(t, "refresh token with grant", gotRefresh, refresh)
	for what, key := range map[string][]byte{
		"another expiry":    store.NewTokenKey(exp.Add(time.Second), hash("at")),
		"the bare digest":   hash("at"),
		"a digest's prefix": hash("at")[:store.TokenDigestLen],
	} {
		_, err := s.AccessToken(ctx, key)
		wantErr(t, "access token by "+what, err, store.ErrNotFound)
	}

	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ConsumeRefreshToken(ctx, refresh.Hash, at(time.Second))
		return err
	})
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ConsumeRefreshToken(ctx, refresh.Hash, at(2*time.Second))
		return err
	})
	wantErr(t, "second rotation", err, store.ErrAlreadyUsed)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "revoke access token", tx.RevokeAccessToken(ctx, access.Hash, at(3*time.Second)))
		return tx.RevokeRefreshToken(ctx, refresh.Hash, at(3*time.Second))
	})
	gotAccess, err = s.AccessToken(ctx, access.Hash)
	must(t, "revoked access token", err)
	equal(t, "revoked at", gotAccess.RevokedAt, at(3*time.Second))
	gotRefresh, err = s.RefreshToken(ctx, refresh.Hash)
	must(t, "rotated refresh token", err)
	equal(t, "used at", gotRefresh.UsedAt, at(time.Second))
	equal(t, "revoked at", gotRefresh.RevokedAt, at(3*time.Second))

	sweep := func(now time.Time) {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Sweep(ctx, now, store.DefaultAuditRetention, 100)
			return err
		})
	}
	sweep(exp)
	_, err = s.AccessToken(ctx, access.Hash)
	must(t, "access token at its expiry", err)
	_, err = s.JWTAccessToken(ctx, jwt.JTI)
	must(t, "JWT access token at its expiry", err)
	sweep(exp.Add(time.Second))
	_, err = s.AccessToken(ctx, access.Hash)
	wantErr(t, "access token swept", err, store.ErrNotFound)
	_, err = s.JWTAccessToken(ctx, jwt.JTI)
	wantErr(t, "JWT access token swept", err, store.ErrNotFound)
	_, err = s.RefreshToken(ctx, refresh.Hash)
	must(t, "refresh token before its expiry", err)
	sweep(exp.Add(time.Hour + time.Second))
	_, err = s.RefreshToken(ctx, refresh.Hash)
	wantErr(t, "refresh token swept", err, store.ErrNotFound)
}

// testTokenKeysMustMatchTheirExpiry: a key leads the table with its
// expiry, so a key whose expiry is not the token's ExpiresAt (to the
// second) is refused, as is a token that never expires.
func testTokenKeysMustMatchTheirExpiry(t *testing.T, s store.Store) {
	exp := at(time.Hour).Truncate(time.Second)
	access := liveAccessToken("at", "grant")
	access.Hash, access.ExpiresAt = store.NewTokenKey(exp, hash("at")), exp.Add(time.Second)
	refresh := liveRefreshToken("rt", "grant")
	refresh.Hash = store.NewTokenKey(exp, hash("rt"))
	forever := liveRefreshToken("forever", "grant")
	forever.ExpiresAt = time.Time{}
	jwt := fullJWTAccessToken("jwt")
	jwt.JTI, jwt.ExpiresAt = expiringJTI(exp, "jwt"), exp.Add(time.Second)
	foreverJWT := fullJWTAccessToken("forever jwt")
	foreverJWT.ExpiresAt = time.Time{}
	for what, create := range map[string]func(context.Context, store.Tx) error{
		"access token with another expiry":  func(ctx context.Context, tx store.Tx) error { return tx.CreateAccessToken(ctx, access) },
		"refresh token with another expiry": func(ctx context.Context, tx store.Tx) error { return tx.CreateRefreshToken(ctx, refresh) },
		"refresh token without an expiry":   func(ctx context.Context, tx store.Tx) error { return tx.CreateRefreshToken(ctx, forever) },
		"JWT with another expiry":           func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, jwt) },
		"JWT without an expiry":             func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, foreverJWT) },
	} {
		if err := inTx(t, s, create); err == nil {
			t.Errorf("%s: stored", what)
		}
	}
}

// testUseAuthCodeWorksOnce: a code is redeemed once; recording it again
// is store.ErrAlreadyUsed, so the caller can revoke what the first
// redemption issued (spec T4, T5). Another code is not affected, and a
// used code is forgotten once it has expired and been swept.
func testUseAuthCodeWorksOnce(t *testing.T, s store.Store) {
	exp := at(time.Minute)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UseAuthCode(ctx, hash("code"), exp) })
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UseAuthCode(ctx, hash("code"), exp) })
	wantErr(t, "second use", err, store.ErrAlreadyUsed)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UseAuthCode(ctx, hash("other code"), exp) })

	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Sweep(ctx, exp.Add(time.Second), store.DefaultAuditRetention, 100)
		return err
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UseAuthCode(ctx, hash("code"), exp) })
}

// testConsumeRefreshTokenWorksOnce: a refresh token rotates once; a second
// use gets the token back with store.ErrAlreadyUsed (design G4: reuse).
func testConsumeRefreshTokenWorksOnce(t *testing.T, s store.Store) {
	rt := liveRefreshToken("rt", "grant")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "token", tx.CreateRefreshToken(ctx, rt))
		return tx.CreateRefreshToken(ctx, liveRefreshToken("other", "grant"))
	})
	used := rt
	used.UsedAt = t0

	var got store.RefreshToken
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		got, err = tx.ConsumeRefreshToken(ctx, rt.Hash, t0)
		return err
	})
	equal(t, "first consume", got, used)
	stored, err := s.RefreshToken(t.Context(), rt.Hash)
	must(t, "read", err)
	equal(t, "stored after consume", stored, used)

	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		got, err = tx.ConsumeRefreshToken(ctx, rt.Hash, at(time.Second))
		return err
	})
	wantErr(t, "second consume", err, store.ErrAlreadyUsed)
	equal(t, "token returned with ErrAlreadyUsed", got, used)

	other, err := s.RefreshToken(t.Context(), hash("other"))
	must(t, "read other", err)
	equal(t, "other token", other, liveRefreshToken("other", "grant"))
}

// testRevokeAccessTokenKeepsTheFirstTime: revocation (RFC 7009) marks the
// token; revoking it again changes nothing.
func testRevokeAccessTokenKeepsTheFirstTime(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "token", tx.CreateAccessToken(ctx, liveAccessToken("at", "grant")))
		return tx.CreateAccessToken(ctx, liveAccessToken("other", "grant"))
	})
	for _, when := range []time.Time{t0, at(time.Hour)} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeAccessToken(ctx, hash("at"), when) })
	}
	want := liveAccessToken("at", "grant")
	want.RevokedAt = t0
	got, err := s.AccessToken(t.Context(), hash("at"))
	must(t, "read", err)
	equal(t, "revoked token", got, want)
	other, err := s.AccessToken(t.Context(), hash("other"))
	must(t, "read other", err)
	equal(t, "other token", other, liveAccessToken("other", "grant"))
}

// testRevokeRefreshTokenKeepsTheFirstTime: as for access tokens.
func testRevokeRefreshTokenKeepsTheFirstTime(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "token", tx.CreateRefreshToken(ctx, liveRefreshToken("rt", "grant")))
		return tx.CreateRefreshToken(ctx, liveRefreshToken("other", "grant"))
	})
	for _, when := range []time.Time{t0, at(time.Hour)} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeRefreshToken(ctx, hash("rt"), when) })
	}
	want := liveRefreshToken("rt", "grant")
	want.RevokedAt = t0
	got, err := s.RefreshToken(t.Context(), hash("rt"))
	must(t, "read", err)
	equal(t, "revoked token", got, want)
	other, err := s.RefreshToken(t.Context(), hash("other"))
	must(t, "read other", err)
	equal(t, "other token", other, liveRefreshToken("other", "grant"))
}

// expiringJTI is a jti that leads with exp (store.JTILen), as Sesame's are.
func expiringJTI(exp time.Time, value string) string {
	b := binary.BigEndian.AppendUint32(nil, uint32(exp.Unix()))
	return base64.RawURLEncoding.EncodeToString(append(b, hash(value)[:16]...))
}
