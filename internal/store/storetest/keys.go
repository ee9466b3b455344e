package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var keyTests = []test{
	{"SigningKeysOldestFirst", testSigningKeysOldestFirst},
	{"LoginFailuresCountWithinTheWindow", testLoginFailuresCountWithinTheWindow},
	{"ClearLoginFailuresForgetsOneKey", testClearLoginFailuresForgetsOneKey},
}

// testSigningKeysOldestFirst: keys come back in the order they were made,
// whatever order they were stored in, so package keys can tell the current
// one from the ones being retired.
func testSigningKeysOldestFirst(t *testing.T, s store.Store) {
	keys, err := s.SigningKeys(t.Context())
	must(t, "list of none", err)
	if len(keys) != 0 {
		t.Fatalf("SigningKeys on an empty store = %v", keys)
	}
	var want []store.SigningKey
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i, age := range []time.Duration{2, 30, 7} {
			k := fullSigningKey(name("kid", i))
			k.CreatedAt = at(-age * 24 * time.Hour)
			must(t, "key", tx.CreateSigningKey(ctx, k))
			want = append(want, k)
		}
		return nil
	})
	want = []store.SigningKey{want[1], want[2], want[0]}
	got, err := s.SigningKeys(t.Context())
	must(t, "list", err)
	equal(t, "keys", got, want)
}

// testLoginFailuresCountWithinTheWindow: throttling counts the failures of
// one key at or after a time (design A3).
func testLoginFailuresCountWithinTheWindow(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, d := range []time.Duration{-2 * time.Hour, -time.Hour, -30 * time.Minute, 0, 0} {
			must(t, "alice", tx.AddLoginFailure(ctx, "user:alice", at(d)))
		}
		return tx.AddLoginFailure(ctx, "ip:192.0.2.1", t0)
	})
	for _, c := range []struct {
		key   string
		since time.Time
		want  int
	}{
		{"user:alice", at(-3 * time.Hour), 5},
		{"user:alice", at(-time.Hour), 4}, // at or after: the boundary counts
		{"user:alice", at(-time.Hour + time.Microsecond), 3},
		{"user:alice", t0, 2},
		{"user:alice", at(time.Microsecond), 0},
		{"ip:192.0.2.1", at(-time.Hour), 1},
		{"user:bob", at(-time.Hour), 0},
	} {
		got, err := s.LoginFailures(t.Context(), c.key, c.since)
		must(t, "count", err)
		if got != c.want {
			t.Errorf("LoginFailures(%q, t0%+v) = %d, want %d", c.key, c.since.Sub(t0), got, c.want)
		}
	}
}

// testClearLoginFailuresForgetsOneKey: a successful sign-in clears its own
// key's failures only.
func testClearLoginFailuresForgetsOneKey(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "alice", tx.AddLoginFailure(ctx, "user:alice", t0))
		must(t, "alice", tx.AddLoginFailure(ctx, "user:alice", t0))
		return tx.AddLoginFailure(ctx, "ip:192.0.2.1", t0)
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.ClearLoginFailures(ctx, "user:alice") })
	since := at(-time.Hour)
	if n, err := s.LoginFailures(t.Context(), "user:alice", since); err != nil || n != 0 {
		t.Errorf("cleared key: %d, %v; want 0", n, err)
	}
	if n, err := s.LoginFailures(t.Context(), "ip:192.0.2.1", since); err != nil || n != 1 {
		t.Errorf("other key: %d, %v; want 1", n, err)
	}
}
