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
	{"RevokeFamilyRevokesOnlyThatFamily", testRevokeFamilyRevokesOnlyThatFamily},
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
		_, err := tx.Sweep(ctx, exp.Add(time.Second), 100)
		return err
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UseAuthCode(ctx, hash("code"), exp) })
}

// testConsumeRefreshTokenWorksOnce: a refresh token rotates once; a second
// use gets the token back with store.ErrAlreadyUsed (design G4: reuse).
func testConsumeRefreshTokenWorksOnce(t *testing.T, s store.Store) {
	rt := liveRefreshToken("rt", "grant", "family")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "token", tx.CreateRefreshToken(ctx, rt))
		return tx.CreateRefreshToken(ctx, liveRefreshToken("other", "grant", "family"))
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
	equal(t, "other token", other, liveRefreshToken("other", "grant", "family"))
}

// testRevokeAccessTokenKeepsTheFirstTime: revocation (RFC 7009) marks the
// token; revoking it again changes nothing.
func testRevokeAccessTokenKeepsTheFirstTime(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "token", tx.CreateAccessToken(ctx, liveAccessToken("at", "grant", "family")))
		return tx.CreateAccessToken(ctx, liveAccessToken("other", "grant", "family"))
	})
	for _, when := range []time.Time{t0, at(time.Hour)} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeAccessToken(ctx, hash("at"), when) })
	}
	want := liveAccessToken("at", "grant", "family")
	want.RevokedAt = t0
	got, err := s.AccessToken(t.Context(), hash("at"))
	must(t, "read", err)
	equal(t, "revoked token", got, want)
	other, err := s.AccessToken(t.Context(), hash("other"))
	must(t, "read other", err)
	equal(t, "other token", other, liveAccessToken("other", "grant", "family"))
}

// testRevokeRefreshTokenKeepsTheFirstTime: as for access tokens.
func testRevokeRefreshTokenKeepsTheFirstTime(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "token", tx.CreateRefreshToken(ctx, liveRefreshToken("rt", "grant", "family")))
		return tx.CreateRefreshToken(ctx, liveRefreshToken("other", "grant", "family"))
	})
	for _, when := range []time.Time{t0, at(time.Hour)} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeRefreshToken(ctx, hash("rt"), when) })
	}
	want := liveRefreshToken("rt", "grant", "family")
	want.RevokedAt = t0
	got, err := s.RefreshToken(t.Context(), hash("rt"))
	must(t, "read", err)
	equal(t, "revoked token", got, want)
	other, err := s.RefreshToken(t.Context(), hash("other"))
	must(t, "read other", err)
	equal(t, "other token", other, liveRefreshToken("other", "grant", "family"))
}

// testRevokeFamilyRevokesOnlyThatFamily: a replayed code revokes every
// token issued from it, access and refresh, used or not (spec T5), and no
// other token, even of the same grant, nor another grant's tokens that
// happen to carry the same family id.
func testRevokeFamilyRevokesOnlyThatFamily(t *testing.T, s store.Store) {
	earlier := at(-time.Hour)
	usedRefresh := liveRefreshToken("f-rt-used", "grant", "F")
	usedRefresh.UsedAt = at(-time.Minute)
	revokedBefore := liveAccessToken("f-at-revoked", "grant", "F")
	revokedBefore.RevokedAt = earlier
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "f-at", tx.CreateAccessToken(ctx, liveAccessToken("f-at", "grant", "F")))
		must(t, "f-at-revoked", tx.CreateAccessToken(ctx, revokedBefore))
		must(t, "f-rt", tx.CreateRefreshToken(ctx, liveRefreshToken("f-rt", "grant", "F")))
		must(t, "f-rt-used", tx.CreateRefreshToken(ctx, usedRefresh))
		must(t, "g-at", tx.CreateAccessToken(ctx, liveAccessToken("g-at", "grant", "G")))
		must(t, "o-at", tx.CreateAccessToken(ctx, liveAccessToken("o-at", "other grant", "F")))
		must(t, "o-rt", tx.CreateRefreshToken(ctx, liveRefreshToken("o-rt", "other grant", "F")))
		return tx.CreateRefreshToken(ctx, liveRefreshToken("g-rt", "grant", "G"))
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeFamily(ctx, "grant", "F", t0) })

	ctx := t.Context()
	for _, c := range []struct {
		value       string
		wantRevoked time.Time
	}{
		{"f-at", t0}, {"f-at-revoked", earlier}, {"g-at", time.Time{}}, {"o-at", time.Time{}},
	} {
		got, err := s.AccessToken(ctx, hash(c.value))
		must(t, "read "+c.value, err)
		equal(t, c.value+" revoked at", got.RevokedAt, c.wantRevoked)
	}
	for _, c := range []struct {
		value       string
		wantRevoked time.Time
	}{
		{"f-rt", t0}, {"f-rt-used", t0}, {"g-rt", time.Time{}}, {"o-rt", time.Time{}},
	} {
		got, err := s.RefreshToken(ctx, hash(c.value))
		must(t, "read "+c.value, err)
		equal(t, c.value+" revoked at", got.RevokedAt, c.wantRevoked)
	}
}
