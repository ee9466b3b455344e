package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var tokenTests = []test{
	{"UseAuthCodeWorksOnce", testUseAuthCodeWorksOnce},
	{"ConsumeRefreshTokenWorksOnce", testConsumeRefreshTokenWorksOnce},
	{"RevokeAccessTokenKeepsTheFirstTime", testRevokeAccessTokenKeepsTheFirstTime},
	{"RevokeRefreshTokenKeepsTheFirstTime", testRevokeRefreshTokenKeepsTheFirstTime},
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
