package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var errorTests = []test{
	{"LookupsOfMissingRowsAreNotFound", testLookupsOfMissingRowsAreNotFound},
	{"ChangesToMissingRowsAreNotFound", testChangesToMissingRowsAreNotFound},
	{"DeletingMissingRowsIsNoError", testDeletingMissingRowsIsNoError},
	{"DuplicateKeysConflict", testDuplicateKeysConflict},
}

// testLookupsOfMissingRowsAreNotFound: every single-record lookup that
// matches nothing is store.ErrNotFound, on Store and on Tx alike. A token
// is looked up by a key that carries its expiry and, through statements of
// their own, by a legacy key (the digest of an older token's value).
func testLookupsOfMissingRowsAreNotFound(t *testing.T, s store.Store) {
	// One row of each kind exists, so a backend that returned "the first
	// row" would be caught; a token of each key form, and the missing
	// tokens' keys carry the present ones' expiry.
	legacyAccess, legacyRefresh := fullAccessToken("present legacy"), fullRefreshToken("present legacy")
	legacyAccess.Hash, legacyRefresh.Hash = legacyTokenKey("present legacy"), legacyTokenKey("present legacy")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "legacy access token", tx.CreateAccessToken(ctx, legacyAccess))
		must(t, "legacy refresh token", tx.CreateRefreshToken(ctx, legacyRefresh))
		must(t, "account", tx.UpsertAccount(ctx, fullAccount("present")))
		must(t, "client", tx.UpsertClient(ctx, fullClient("present")))
		must(t, "session", tx.CreateSession(ctx, fullSession("present", "present")))
		must(t, "grant", tx.CreateGrant(ctx, fullGrant("present", "present", "present")))
		must(t, "auth request", tx.CreateAuthRequest(ctx, fullAuthRequest("present")))
		must(t, "access token", tx.CreateAccessToken(ctx, fullAccessToken("present")))
		return tx.CreateRefreshToken(ctx, fullRefreshToken("present"))
	})
	lookups := []struct {
		name string
		get  func(ctx context.Context, r store.Reader) error
	}{
		{"Account", func(ctx context.Context, r store.Reader) error { _, err := r.Account(ctx, "missing"); return err }},
		{"AccountByUsername", func(ctx context.Context, r store.Reader) error {
			_, err := r.AccountByUsername(ctx, "missing")
			return err
		}},
		{"Client", func(ctx context.Context, r store.Reader) error { _, err := r.Client(ctx, "missing"); return err }},
		{"Session", func(ctx context.Context, r store.Reader) error { _, err := r.Session(ctx, "missing"); return err }},
		{"SessionByCookie", func(ctx context.Context, r store.Reader) error {
			_, err := r.SessionByCookie(ctx, hash("missing"))
			return err
		}},
		{"Grant", func(ctx context.Context, r store.Reader) error { _, err := r.Grant(ctx, "missing"); return err }},
		{"AuthRequest", func(ctx context.Context, r store.Reader) error {
			_, err := r.AuthRequest(ctx, "missing")
			return err
		}},
		{"AccessToken", func(ctx context.Context, r store.Reader) error {
			_, err := r.AccessToken(ctx, fullAccessToken("missing").Hash)
			return err
		}},
		{"AccessToken by a legacy key", func(ctx context.Context, r store.Reader) error {
			_, err := r.AccessToken(ctx, legacyTokenKey("missing"))
			return err
		}},
		{"RefreshToken", func(ctx context.Context, r store.Reader) error {
			_, err := r.RefreshToken(ctx, fullRefreshToken("missing").Hash)
			return err
		}},
		{"RefreshToken by a legacy key", func(ctx context.Context, r store.Reader) error {
			_, err := r.RefreshToken(ctx, legacyTokenKey("missing"))
			return err
		}},
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			wantErr(t, "on Store", l.get(t.Context(), s), store.ErrNotFound)
			mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
				wantErr(t, "on Tx", l.get(ctx, tx), store.ErrNotFound)
				return nil
			})
		})
	}
	// Lists of nothing are empty, not an error.
	ctx := t.Context()
	if list, err := s.SessionsByAccount(ctx, "missing"); err != nil || len(list) != 0 {
		t.Errorf("SessionsByAccount(missing) = %v, %v; want none", list, err)
	}
	if list, err := s.GrantsByAccount(ctx, "missing"); err != nil || len(list) != 0 {
		t.Errorf("GrantsByAccount(missing) = %v, %v; want none", list, err)
	}
}

// testChangesToMissingRowsAreNotFound: a change aimed at a row that does
// not exist is store.ErrNotFound, not a silent success. A token is aimed
// at by a key that carries its expiry and, through statements of their
// own, by a legacy key (the digest of an older token's value).
func testChangesToMissingRowsAreNotFound(t *testing.T, s store.Store) {
	access, refresh := fullAccessToken("missing").Hash, fullRefreshToken("missing").Hash
	changes := []struct {
		name   string
		change func(ctx context.Context, tx store.Tx) error
	}{
		{"TouchSession", func(ctx context.Context, tx store.Tx) error {
			return tx.TouchSession(ctx, "missing", t0, at(time.Hour))
		}},
		{"PutAuthorization", func(ctx context.Context, tx store.Tx) error {
			return tx.PutAuthorization(ctx, fullAuthorization("missing", "client"))
		}},
		{"UpdateGrantScopes", func(ctx context.Context, tx store.Tx) error {
			return tx.UpdateGrantScopes(ctx, "missing", []string{"openid"})
		}},
		{"RevokeGrant", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.RevokeGrant(ctx, "missing", t0, "test")
			return err
		}},
		{"UpdateAuthRequest", func(ctx context.Context, tx store.Tx) error {
			return tx.UpdateAuthRequest(ctx, fullAuthRequest("missing"))
		}},
		{"RevokeAccessToken", func(ctx context.Context, tx store.Tx) error {
			return tx.RevokeAccessToken(ctx, access, t0)
		}},
		{"RevokeAccessToken by a legacy key", func(ctx context.Context, tx store.Tx) error {
			return tx.RevokeAccessToken(ctx, legacyTokenKey("missing"), t0)
		}},
		{"ConsumeRefreshToken", func(ctx context.Context, tx store.Tx) error {
			err := tx.ConsumeRefreshToken(ctx, refresh, t0)
			return err
		}},
		{"ConsumeRefreshToken by a legacy key", func(ctx context.Context, tx store.Tx) error {
			err := tx.ConsumeRefreshToken(ctx, legacyTokenKey("missing"), t0)
			return err
		}},
		{"RevokeRefreshToken", func(ctx context.Context, tx store.Tx) error {
			return tx.RevokeRefreshToken(ctx, refresh, t0)
		}},
		{"RevokeRefreshToken by a legacy key", func(ctx context.Context, tx store.Tx) error {
			return tx.RevokeRefreshToken(ctx, legacyTokenKey("missing"), t0)
		}},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			err := inTx(t, s, c.change)
			wantErr(t, c.name, err, store.ErrNotFound)
		})
	}
}

// testDeletingMissingRowsIsNoError: deletes are idempotent, so two
// sign-outs racing for one session both succeed (design O3: signing out
// twice is not an error).
func testDeletingMissingRowsIsNoError(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		deleted, err := tx.DeleteSession(ctx, "missing")
		must(t, "DeleteSession", err)
		if deleted {
			t.Error("DeleteSession of a missing session reported true")
		}
		must(t, "DeleteAuthorization", tx.DeleteAuthorization(ctx, "missing", "client"))
		must(t, "DeleteAuthRequest", tx.DeleteAuthRequest(ctx, "missing"))
		must(t, "DeleteThrottle", tx.DeleteThrottle(ctx, "missing"))
		return nil
	})
}

// testDuplicateKeysConflict: creating a record whose key is taken is
// store.ErrConflict, and the first record is untouched.
func testDuplicateKeysConflict(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "account", tx.UpsertAccount(ctx, fullAccount("taken")))
		must(t, "session", tx.CreateSession(ctx, fullSession("taken", "acct")))
		must(t, "grant", tx.CreateGrant(ctx, fullGrant("taken", "acct", "client")))
		must(t, "auth request", tx.CreateAuthRequest(ctx, fullAuthRequest("taken")))
		must(t, "access token", tx.CreateAccessToken(ctx, fullAccessToken("taken")))
		must(t, "refresh token", tx.CreateRefreshToken(ctx, fullRefreshToken("taken")))
		return tx.CreateSigningKey(ctx, fullSigningKey("taken"))
	})
	sameCookie := fullSession("other", "acct")
	sameCookie.CookieHash = fullSession("taken", "acct").CookieHash
	otherName := fullAccount("other")
	otherName.Username = fullAccount("taken").Username
	creates := []struct {
		name   string
		create func(ctx context.Context, tx store.Tx) error
	}{
		{"UpsertAccount with another account's username", func(ctx context.Context, tx store.Tx) error {
			return tx.UpsertAccount(ctx, otherName)
		}},
		{"CreateSession with a taken id", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateSession(ctx, fullSession("taken", "someone else"))
		}},
		{"CreateSession with a taken cookie hash", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateSession(ctx, sameCookie)
		}},
		{"CreateGrant", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateGrant(ctx, fullGrant("taken", "someone else", "client"))
		}},
		{"CreateAuthRequest", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateAuthRequest(ctx, fullAuthRequest("taken"))
		}},
		{"CreateAccessToken", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateAccessToken(ctx, fullAccessToken("taken"))
		}},
		{"CreateRefreshToken", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateRefreshToken(ctx, fullRefreshToken("taken"))
		}},
		{"CreateSigningKey", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateSigningKey(ctx, fullSigningKey("taken"))
		}},
	}
	for _, c := range creates {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, c.name, inTx(t, s, c.create), store.ErrConflict)
		})
	}
	ctx := t.Context()
	if _, err := s.Account(ctx, "other"); err == nil {
		t.Error("the account with a taken username was written")
	}
	got, err := s.Session(ctx, "taken")
	must(t, "read session", err)
	equal(t, "session after conflicting creates", got, fullSession("taken", "acct"))
}
