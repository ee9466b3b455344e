package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
	"github.com/sesame-id/sesame/internal/token"
)

// FuzzFromCookie gives Service.FromCookie arbitrary cookie values (S1,
// S4). It must never panic nor fail but with ErrNoSession (the store
// works), and it finds a session for exactly one value: the cookie of the
// one live session of an enabled account. The expired session's cookie
// and the disabled account's are refused like any other.
func FuzzFromCookie(f *testing.F) {
	ctx := context.Background()
	st := sqltest.Open(f)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	svc := &session.Service{Store: st, Now: func() time.Time { return now }, TTL: time.Hour, MaxTTL: 24 * time.Hour}

	// The cookie values are constants, as long as real ones, so that the
	// coordinator and the workers of go test -fuzz (each with its own
	// store) share them, and seeds from one run stay meaningful.
	live := strings.Repeat("L", 40) + "ive"
	expired := strings.Repeat("E", 36) + "xpired0"
	disabled := strings.Repeat("D", 35) + "isabled0"
	err := st.InTx(ctx, store.Durable, func(tx store.Tx) error {
		for _, a := range []store.Account{
			{ID: "acct-alice", Username: "alice", CreatedAt: now, UpdatedAt: now},
			{ID: "acct-bob", Username: "bob", Disabled: true, CreatedAt: now, UpdatedAt: now},
		} {
			if err := tx.UpsertAccount(ctx, a); err != nil {
				return err
			}
		}
		for _, c := range []struct {
			account, cookie string
			expires         time.Duration
		}{
			{"acct-alice", live, time.Hour},
			{"acct-alice", expired, -time.Second},
			{"acct-bob", disabled, time.Hour},
		} {
			sess, _ := svc.New(c.account, []string{"pwd"}, session.Device{})
			sess.CookieHash, sess.ExpiresAt = token.Hash(c.cookie), now.Add(c.expires)
			if err := tx.CreateSession(ctx, sess); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}

	for _, seed := range []string{
		live, expired, disabled,
		live[:len(live)-1], live + "=", live + " ", strings.ToUpper(live), " " + live,
		`"` + live + `"`, live + "; " + live, strings.Repeat(live, 3),
		"", "\x00", strings.Repeat("A", 43), strings.Repeat("\xff", 64),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		cur, err := svc.FromCookie(ctx, value)
		switch {
		case err != nil && !errors.Is(err, session.ErrNoSession):
			t.Fatalf("FromCookie(%q): %v", value, err)
		case err == nil && value != live:
			t.Fatalf("FromCookie(%q) found session %s of %s", value, cur.Session.ID, cur.Account.Username)
		case err != nil && value == live:
			t.Fatalf("FromCookie refused the live session's cookie: %v", err)
		}
	})
}
