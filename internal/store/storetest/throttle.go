package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var throttleTests = []test{
	{"ThrottleRoundTrips", testThrottleRoundTrips},
	{"LockThrottleCountsABurstExactly", testLockThrottleCountsABurstExactly},
	{"DeleteThrottleForgetsOneKey", testDeleteThrottleForgetsOneKey},
}

// fullThrottle is a throttle key with every field set.
func fullThrottle(key string) store.Throttle {
	return store.Throttle{Key: key, Failures: 7, DecayFrom: at(-time.Minute), BlockedUntil: at(time.Second),
		EventAt: at(-30 * time.Second), ExpiresAt: at(time.Hour)}
}

// testThrottleRoundTrips: a key with no failures reads as zero, without
// an error (A3: a check that finds nothing writes nothing); a stored count
// reads back whole, in and out of a transaction, and a new one replaces
// it.
func testThrottleRoundTrips(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.Throttle(ctx, "acct:192.0.2.1|alice")
	must(t, "read a key never stored", err)
	equal(t, "key never stored", got, store.Throttle{Key: "acct:192.0.2.1|alice"})

	want := fullThrottle("acct:192.0.2.1|alice")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		locked, err := tx.LockThrottle(ctx, want.Key)
		must(t, "lock a key never stored", err)
		equal(t, "locked key never stored", locked, store.Throttle{Key: want.Key})
		must(t, "put", tx.PutThrottle(ctx, want))
		locked, err = tx.LockThrottle(ctx, want.Key)
		must(t, "lock again", err)
		equal(t, "the transaction's own write", locked, want)
		return nil
	})
	got, err = s.Throttle(ctx, want.Key)
	must(t, "read", err)
	equal(t, "stored", got, want)

	next := store.Throttle{Key: want.Key, Failures: 1, DecayFrom: t0, ExpiresAt: at(time.Minute)}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutThrottle(ctx, next) })
	got, err = s.Throttle(ctx, want.Key)
	must(t, "read replaced", err)
	equal(t, "replaced, zero times included", got, next)
}

// testLockThrottleCountsABurstExactly: the check and the count of an
// attempt are one step (A3). Fifty transactions at once each lock two
// keys, as a sign-in does (account and source, then source), and count an
// attempt only while both are under five: exactly five are admitted, on
// SQLite's single writer and across PostgreSQL's connections alike. A
// check that read the count and wrote it later would admit more.
func testLockThrottleCountsABurstExactly(t *testing.T, s store.Store) {
	const racers, allowed = 50, 5
	keys := []string{"acct:192.0.2.1|alice", "addr:192.0.2.1"}
	errRefused := errors.New("refused")
	// Open the connections first: racers that wait for a new connection
	// to be dialled come one after the other, and would race nobody.
	for _, err := range race(16, func(int) error {
		return s.InTx(t.Context(), store.Durable, func(store.Tx) error { time.Sleep(5 * time.Millisecond); return nil })
	}) {
		must(t, "warm up", err)
	}
	errs := race(racers, func(int) error {
		return s.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
			var locked []store.Throttle
			for _, k := range keys {
				th, err := tx.LockThrottle(t.Context(), k)
				if err != nil {
					return err
				}
				if th.Failures >= allowed {
					return errRefused
				}
				locked = append(locked, th)
			}
			// A pause between the check and the count, where a store
			// that read the count and wrote it later would let the other
			// racers in.
			time.Sleep(2 * time.Millisecond)
			for _, th := range locked {
				th.Failures++
				th.ExpiresAt = at(time.Hour)
				if err := tx.PutThrottle(t.Context(), th); err != nil {
					return err
				}
			}
			return nil
		})
	})
	admitted := 0
	for i, err := range errs {
		switch {
		case err == nil:
			admitted++
		case !errors.Is(err, errRefused):
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if admitted != allowed {
		t.Errorf("%d attempts admitted, want exactly %d", admitted, allowed)
	}
	for _, k := range keys {
		th, err := s.Throttle(t.Context(), k)
		must(t, k, err)
		if th.Failures != allowed {
			t.Errorf("%s counts %d failures, want %d", k, th.Failures, allowed)
		}
	}
}

// testDeleteThrottleForgetsOneKey: a successful sign-in forgets its own
// key only, and forgetting a key with no row is no error.
func testDeleteThrottleForgetsOneKey(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 3 {
			must(t, "put", tx.PutThrottle(ctx, fullThrottle(fmt.Sprint("acct:192.0.2.1|user", i))))
		}
		return nil
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "delete", tx.DeleteThrottle(ctx, "acct:192.0.2.1|user1"))
		return tx.DeleteThrottle(ctx, "acct:192.0.2.1|nobody")
	})
	for i, wantKept := range []bool{true, false, true} {
		key := fmt.Sprint("acct:192.0.2.1|user", i)
		got, err := s.Throttle(t.Context(), key)
		must(t, key, err)
		if kept := got.Failures != 0; kept != wantKept {
			t.Errorf("%s: %+v, kept %v, want %v", key, got, kept, wantKept)
		}
	}
}
