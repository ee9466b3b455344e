package storetest

import (
	"context"
	"strings"
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
	{"TokensWithLegacyKeysAreStillFound", testTokensByLegacyKey},
}

// testTokensByExpiringKey: tokens stored under keys that lead with their
// expiry (store.NewTokenKey) are found, consumed, revoked and joined with
// their grant by that key, and swept at that expiry; the same digest with
// another expiry finds nothing. Tokens of older releases, keyed by the
// whole digest of their value (legacy keys, on purpose here), are still
// found beside them.
func testTokensByExpiringKey(t *testing.T, s store.Store) {
	exp := tokenExpiry(time.Hour)
	g := liveGrant("grant", "acct", "client")
	access := liveAccessToken("at", g.ID)
	access.Hash, access.ExpiresAt = tokenKey("at", exp), exp
	refresh := liveRefreshToken("rt", g.ID)
	refresh.Hash, refresh.ExpiresAt = tokenKey("rt", exp.Add(time.Hour)), exp.Add(time.Hour)
	older := liveAccessToken("older", g.ID)
	older.Hash, older.ExpiresAt = legacyTokenKey("older"), at(time.Hour)
	jwt, olderJWT := fullJWTAccessToken("jwt"), fullJWTAccessToken("older jwt")
	jwt.JTI, jwt.ExpiresAt = jti("jwt", exp), exp
	olderJWT.JTI, olderJWT.ExpiresAt = legacyJTI("older jwt"), at(time.Hour)
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
	_, err := s.JWTAccessToken(ctx, jti("jwt", exp.Add(time.Second)))
	wantErr(t, "JWT access token by another expiry", err, store.ErrNotFound)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteJWTAccessToken(ctx, jwt.JTI) })
	_, err = s.JWTAccessToken(ctx, jwt.JTI)
	wantErr(t, "deleted JWT access token", err, store.ErrNotFound)
	jwt.JTI = jti("jwt swept", exp)
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
		"another expiry":    tokenKey("at", exp.Add(time.Second)),
		"the bare digest":   legacyTokenKey("at"),
		"a digest's prefix": hash("at")[:store.TokenDigestLen],
	} {
		_, err := s.AccessToken(ctx, key)
		wantErr(t, "access token by "+what, err, store.ErrNotFound)
	}

	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ConsumeRefreshToken(ctx, refresh.Hash, at(time.Second))
	})
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ConsumeRefreshToken(ctx, refresh.Hash, at(2*time.Second))
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

// testTokensByLegacyKey: tokens issued before keys carried their expiry,
// stored under the whole digest of their value (legacy keys, on purpose
// here: the rest of the suite keys tokens as Sesame issues them now), go
// through statements of their own until they expire: they are found and
// joined with their grant by that key, which is theirs alone (a second
// token under it is ErrConflict), a refresh token rotates once, a
// revocation keeps its first time, a JWT access token's record is deleted
// alone, and each is swept at its expiry. Their expiry keeps its
// fraction of a second, since no key carries it. The same digest under a
// key that carries the expiry finds nothing.
func testTokensByLegacyKey(t *testing.T, s store.Store) {
	g := liveGrant("grant", "acct", "client")
	access := liveAccessToken("at", g.ID)
	access.Hash, access.ExpiresAt = legacyTokenKey("at"), at(time.Hour)
	refresh := liveRefreshToken("rt", g.ID)
	refresh.Hash, refresh.ExpiresAt = legacyTokenKey("rt"), at(2*time.Hour)
	jwt, otherJWT := fullJWTAccessToken("jwt"), fullJWTAccessToken("other jwt")
	jwt.JTI, jwt.ExpiresAt = legacyJTI("jwt"), at(time.Hour)
	otherJWT.JTI, otherJWT.ExpiresAt = legacyJTI("other jwt"), at(time.Hour)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "grant", tx.CreateGrant(ctx, g))
		must(t, "access token", tx.CreateAccessToken(ctx, access))
		must(t, "JWT access token", tx.CreateJWTAccessToken(ctx, jwt))
		must(t, "other JWT access token", tx.CreateJWTAccessToken(ctx, otherJWT))
		return tx.CreateRefreshToken(ctx, refresh)
	})
	for what, create := range map[string]func(context.Context, store.Tx) error{
		"access token":     func(ctx context.Context, tx store.Tx) error { return tx.CreateAccessToken(ctx, access) },
		"refresh token":    func(ctx context.Context, tx store.Tx) error { return tx.CreateRefreshToken(ctx, refresh) },
		"JWT access token": func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, jwt) },
	} {
		wantErr(t, what+" created twice", inTx(t, s, create), store.ErrConflict)
	}
	ctx := t.Context()
	gotAccess, err := s.AccessToken(ctx, access.Hash)
	must(t, "access token", err)
	equal(t, "access token", gotAccess, access)
	gotAccess, gotGrant, err := s.AccessTokenGrant(ctx, access.Hash)
	must(t, "access token with grant", err)
	equal(t, "access token with grant", gotAccess, access)
	equal(t, "its grant", gotGrant.ID, g.ID)
	gotRefresh, err := s.RefreshToken(ctx, refresh.Hash)
	must(t, "refresh token", err)
	equal(t, "refresh token", gotRefresh, refresh)
	gotRefresh, gotGrant, err = s.RefreshTokenGrant(ctx, refresh.Hash)
	must(t, "refresh token with grant", err)
	equal(t, "refresh token with grant", gotRefresh, refresh)
	equal(t, "its grant", gotGrant.ID, g.ID)
	gotJWT, err := s.JWTAccessToken(ctx, jwt.JTI)
	must(t, "JWT access token", err)
	equal(t, "JWT access token", gotJWT, jwt)
	_, err = s.AccessToken(ctx, tokenKey("at", access.ExpiresAt))
	wantErr(t, "access token by a key with its expiry", err, store.ErrNotFound)
	_, err = s.RefreshToken(ctx, tokenKey("rt", refresh.ExpiresAt))
	wantErr(t, "refresh token by a key with its expiry", err, store.ErrNotFound)
	_, err = s.JWTAccessToken(ctx, jti("jwt", jwt.ExpiresAt))
	wantErr(t, "JWT access token by a jti with its expiry", err, store.ErrNotFound)

	used := refresh
	used.UsedAt = at(time.Second)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ConsumeRefreshToken(ctx, refresh.Hash, at(time.Second))
	})
	gotRefresh, err = s.RefreshToken(ctx, refresh.Hash)
	must(t, "read after the first rotation", err)
	equal(t, "first rotation", gotRefresh, used)
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ConsumeRefreshToken(ctx, refresh.Hash, at(2*time.Second))
	})
	wantErr(t, "second rotation", err, store.ErrAlreadyUsed)
	gotRefresh, err = s.RefreshToken(ctx, refresh.Hash)
	must(t, "read after the second rotation", err)
	equal(t, "the second rotation changed nothing", gotRefresh, used)
	for _, when := range []time.Time{at(3 * time.Second), at(4 * time.Second)} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
			must(t, "revoke access token", tx.RevokeAccessToken(ctx, access.Hash, when))
			return tx.RevokeRefreshToken(ctx, refresh.Hash, when)
		})
	}
	gotAccess, err = s.AccessToken(ctx, access.Hash)
	must(t, "revoked access token", err)
	equal(t, "access token revoked at", gotAccess.RevokedAt, at(3*time.Second))
	gotRefresh, err = s.RefreshToken(ctx, refresh.Hash)
	must(t, "revoked refresh token", err)
	equal(t, "refresh token used at", gotRefresh.UsedAt, at(time.Second))
	equal(t, "refresh token revoked at", gotRefresh.RevokedAt, at(3*time.Second))
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteJWTAccessToken(ctx, jwt.JTI) })
	_, err = s.JWTAccessToken(ctx, jwt.JTI)
	wantErr(t, "deleted JWT access token", err, store.ErrNotFound)
	gotJWT, err = s.JWTAccessToken(ctx, otherJWT.JTI)
	must(t, "the other JWT access token", err)
	equal(t, "the other JWT access token", gotJWT, otherJWT)

	sweep(t, s, access.ExpiresAt, 100)
	_, err = s.AccessToken(ctx, access.Hash)
	must(t, "access token at its expiry", err)
	_, err = s.JWTAccessToken(ctx, otherJWT.JTI)
	must(t, "JWT access token at its expiry", err)
	sweep(t, s, access.ExpiresAt.Add(time.Second), 100)
	_, err = s.AccessToken(ctx, access.Hash)
	wantErr(t, "access token swept", err, store.ErrNotFound)
	_, err = s.JWTAccessToken(ctx, otherJWT.JTI)
	wantErr(t, "JWT access token swept", err, store.ErrNotFound)
	_, err = s.RefreshToken(ctx, refresh.Hash)
	must(t, "refresh token before its expiry", err)
	sweep(t, s, refresh.ExpiresAt.Add(time.Second), 100)
	_, err = s.RefreshToken(ctx, refresh.Hash)
	wantErr(t, "refresh token swept", err, store.ErrNotFound)
}

// testTokenKeysMustMatchTheirExpiry: a key leads the table with its
// expiry, so a key whose expiry is not the token's ExpiresAt is refused,
// as is a token that never expires, whether its key carries an expiry or
// is an older token's (legacy keys, on purpose here). A key carries whole
// seconds, so an ExpiresAt a fraction past its key's second is refused
// too, and nothing is stored under that key: the row could hold only one
// of the two expiries, and a lookup, which knows only the key's, would
// read back another ExpiresAt than was written or not find the token.
func testTokenKeysMustMatchTheirExpiry(t *testing.T, s store.Store) {
	exp := tokenExpiry(time.Hour)
	access := liveAccessToken("at", "grant")
	access.Hash, access.ExpiresAt = tokenKey("at", exp), exp.Add(time.Second)
	refresh := liveRefreshToken("rt", "grant")
	refresh.Hash = tokenKey("rt", exp) // the fixture expires in 14 days
	forever := liveRefreshToken("forever", "grant")
	forever.ExpiresAt = time.Time{}
	legacyForever := liveRefreshToken("legacy forever", "grant")
	legacyForever.Hash, legacyForever.ExpiresAt = legacyTokenKey("legacy forever"), time.Time{}
	jwt := fullJWTAccessToken("jwt")
	jwt.JTI, jwt.ExpiresAt = jti("jwt", exp), exp.Add(time.Second)
	foreverJWT := fullJWTAccessToken("forever jwt")
	foreverJWT.ExpiresAt = time.Time{}
	legacyForeverJWT := fullJWTAccessToken("legacy forever jwt")
	legacyForeverJWT.JTI, legacyForeverJWT.ExpiresAt = legacyJTI("legacy forever jwt"), time.Time{}
	fraction := exp.Add(300 * time.Millisecond)
	fractionAccess := liveAccessToken("fraction at", "grant")
	fractionAccess.ExpiresAt = fraction
	fractionRefresh := liveRefreshToken("fraction rt", "grant")
	fractionRefresh.Hash, fractionRefresh.ExpiresAt = tokenKey("fraction rt", exp), fraction
	fractionJWT := fullJWTAccessToken("fraction jwt")
	fractionJWT.ExpiresAt = fraction
	for what, create := range map[string]func(context.Context, store.Tx) error{
		"access token with another expiry":  func(ctx context.Context, tx store.Tx) error { return tx.CreateAccessToken(ctx, access) },
		"refresh token with another expiry": func(ctx context.Context, tx store.Tx) error { return tx.CreateRefreshToken(ctx, refresh) },
		"refresh token without an expiry":   func(ctx context.Context, tx store.Tx) error { return tx.CreateRefreshToken(ctx, forever) },
		"legacy refresh token without an expiry": func(ctx context.Context, tx store.Tx) error {
			return tx.CreateRefreshToken(ctx, legacyForever)
		},
		"JWT with another expiry":      func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, jwt) },
		"JWT without an expiry":        func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, foreverJWT) },
		"legacy JWT without an expiry": func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, legacyForeverJWT) },
		"access token a fraction past its key's second": func(ctx context.Context, tx store.Tx) error {
			return tx.CreateAccessToken(ctx, fractionAccess)
		},
		"refresh token a fraction past its key's second": func(ctx context.Context, tx store.Tx) error {
			return tx.CreateRefreshToken(ctx, fractionRefresh)
		},
		"JWT a fraction past its jti's second": func(ctx context.Context, tx store.Tx) error {
			return tx.CreateJWTAccessToken(ctx, fractionJWT)
		},
	} {
		if err := inTx(t, s, create); err == nil {
			t.Errorf("%s: stored", what)
		}
	}
	ctx := t.Context()
	_, err := s.AccessToken(ctx, fractionAccess.Hash)
	wantErr(t, "access token a fraction past its key's second", err, store.ErrNotFound)
	_, err = s.RefreshToken(ctx, fractionRefresh.Hash)
	wantErr(t, "refresh token a fraction past its key's second", err, store.ErrNotFound)
	_, err = s.JWTAccessToken(ctx, fractionJWT.JTI)
	wantErr(t, "JWT a fraction past its jti's second", err, store.ErrNotFound)
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
// use is store.ErrAlreadyUsed naming its grant (design G4: reuse), and
// changes nothing; a token never stored is store.ErrNotFound.
func testConsumeRefreshTokenWorksOnce(t *testing.T, s store.Store) {
	rt := liveRefreshToken("rt", "grant")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "token", tx.CreateRefreshToken(ctx, rt))
		return tx.CreateRefreshToken(ctx, liveRefreshToken("other", "grant"))
	})
	used := rt
	used.UsedAt = t0

	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ConsumeRefreshToken(ctx, rt.Hash, t0)
	})
	stored, err := s.RefreshToken(t.Context(), rt.Hash)
	must(t, "read", err)
	equal(t, "stored after consume", stored, used)

	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ConsumeRefreshToken(ctx, rt.Hash, at(time.Second))
	})
	wantErr(t, "second consume", err, store.ErrAlreadyUsed)
	if !strings.Contains(err.Error(), rt.GrantID) {
		t.Errorf("ErrAlreadyUsed does not name the grant %s: %v", rt.GrantID, err)
	}
	stored, err = s.RefreshToken(t.Context(), rt.Hash)
	must(t, "read after the second consume", err)
	equal(t, "the second consume changed nothing", stored, used)

	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ConsumeRefreshToken(ctx, liveRefreshToken("never stored", "grant").Hash, at(time.Second))
	})
	wantErr(t, "consume of a token never stored", err, store.ErrNotFound)

	other, err := s.RefreshToken(t.Context(), liveRefreshToken("other", "grant").Hash)
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
	want := liveAccessToken("at", "grant")
	for _, when := range []time.Time{t0, at(time.Hour)} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeAccessToken(ctx, want.Hash, when) })
	}
	want.RevokedAt = t0
	got, err := s.AccessToken(t.Context(), want.Hash)
	must(t, "read", err)
	equal(t, "revoked token", got, want)
	other, err := s.AccessToken(t.Context(), liveAccessToken("other", "grant").Hash)
	must(t, "read other", err)
	equal(t, "other token", other, liveAccessToken("other", "grant"))
}

// testRevokeRefreshTokenKeepsTheFirstTime: as for access tokens.
func testRevokeRefreshTokenKeepsTheFirstTime(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "token", tx.CreateRefreshToken(ctx, liveRefreshToken("rt", "grant")))
		return tx.CreateRefreshToken(ctx, liveRefreshToken("other", "grant"))
	})
	want := liveRefreshToken("rt", "grant")
	for _, when := range []time.Time{t0, at(time.Hour)} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeRefreshToken(ctx, want.Hash, when) })
	}
	want.RevokedAt = t0
	got, err := s.RefreshToken(t.Context(), want.Hash)
	must(t, "read", err)
	equal(t, "revoked token", got, want)
	other, err := s.RefreshToken(t.Context(), liveRefreshToken("other", "grant").Hash)
	must(t, "read other", err)
	equal(t, "other token", other, liveRefreshToken("other", "grant"))
}
