package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// Run runs the whole suite. Every sub-test calls open once for a store of
// its own; open must return it empty and migrated, and close it when t
// ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, group := range [][]test{
		roundTripTests, errorTests, accountTests, sessionTests, grantTests, authRequestTests,
		tokenTests, keyTests, txTests, sweepTests, concurrencyTests, signoutTests, queueTests, adminTests, changeTests,
		clientGrantTests, throttleTests, searchTests, auditTests, resourceTests, roleHolderTests, counterTests, receiptListTests, attemptTests,
		consoleReadTests,
	} {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				tc.fn(t, open(t))
			})
		}
	}
}

// test is one sub-test of the suite, named after the behaviour it shows.
type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// t0 is the suite's "now". Microseconds, not nanoseconds: PostgreSQL keeps
// no more, and a backend that kept only milliseconds would still fail.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535_897_000, time.UTC)

// at is t0 moved by d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// hash is the SHA-256 of s, as the domain stores cookies, codes and tokens.
func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// mustTx runs fn in one durable transaction and fails the test if it fails.
func mustTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.InTx(ctx, store.Durable, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("transaction: %v", err)
	}
}

// inTx runs fn in one durable transaction and returns what InTx returns.
func inTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) error {
	t.Helper()
	ctx := t.Context()
	return s.InTx(ctx, store.Durable, func(tx store.Tx) error { return fn(ctx, tx) })
}

// sweep runs one Sweep of at most limit rows, in a transaction of its
// own, with the default retention, and returns how many rows went.
func sweep(t *testing.T, s store.Store, now time.Time, limit int) int64 {
	t.Helper()
	return sweepKeeping(t, s, now, store.DefaultAuditRetention, limit)
}

// sweepKeeping is sweep keeping receipts, finished deliveries and events
// for retention.
func sweepKeeping(t *testing.T, s store.Store, now time.Time, retention time.Duration, limit int) int64 {
	t.Helper()
	var n int64
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		n, err = tx.Sweep(ctx, now, retention, limit)
		return err
	})
	return n
}

// equal fails the test unless got and want are deeply equal.
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// must fails the test at once on an unexpected error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr fails the test unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// ids lists the IDs of records, for comparing orders.
func ids[T any](list []T, id func(T) string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		out = append(out, id(v))
	}
	return out
}

func name(prefix string, i int) string { return fmt.Sprintf("%s-%02d", prefix, i) }
