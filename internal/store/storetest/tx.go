package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var txTests = []test{
	{"InTxRollsBackOnError", testInTxRollsBackOnError},
	{"InTxRollsBackOnPanic", testInTxRollsBackOnPanic},
	{"TxReadsSeeItsOwnWrites", testTxReadsSeeItsOwnWrites},
	{"RoutineTxCommitsAndRollsBackLikeADurableOne", testRoutineTx},
	{"CancelledContextStopsQueries", testCancelledContextStopsQueries},
}

// writeSome writes one record of several kinds, so a rollback that missed
// one table would show.
func writeSome(ctx context.Context, tx store.Tx, id string) error {
	return errors.Join(
		tx.UpsertAccount(ctx, fullAccount(id)),
		tx.CreateSession(ctx, fullSession(id, id)),
		tx.CreateGrant(ctx, liveGrant(id, id, "app")),
		tx.CreateRefreshToken(ctx, liveRefreshToken(id, id)),
	)
}

// nothingWritten fails the test if any record writeSome(id) makes exists.
func nothingWritten(t *testing.T, s store.Store, id string) {
	t.Helper()
	ctx := t.Context()
	_, err := s.Account(ctx, id)
	wantErr(t, "account", err, store.ErrNotFound)
	_, err = s.Session(ctx, id)
	wantErr(t, "session", err, store.ErrNotFound)
	_, err = s.Grant(ctx, id)
	wantErr(t, "grant", err, store.ErrNotFound)
	_, err = s.RefreshToken(ctx, liveRefreshToken(id, id).Hash)
	wantErr(t, "refresh token", err, store.ErrNotFound)
}

// testInTxRollsBackOnError: a transaction whose function fails writes
// nothing (design O4: all of a sign-out or none of it), and the error
// comes back for errors.Is.
func testInTxRollsBackOnError(t *testing.T, s store.Store) {
	errBoom := errors.New("boom")
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "write", writeSome(ctx, tx, "doomed"))
		return errBoom
	})
	wantErr(t, "InTx", err, errBoom)
	nothingWritten(t, s, "doomed")

	// A failed store call rolls back the writes before it too.
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "write", writeSome(ctx, tx, "doomed"))
		return tx.CreateGrant(ctx, liveGrant("doomed", "x", "y")) // taken id
	})
	wantErr(t, "InTx with a conflict", err, store.ErrConflict)
	nothingWritten(t, s, "doomed")
}

// testInTxRollsBackOnPanic: a panic in the function rolls back, goes on
// to the caller unchanged, and leaves the store usable.
func testInTxRollsBackOnPanic(t *testing.T, s store.Store) {
	type boom struct{ n int }
	func() {
		defer func() {
			got := recover()
			if got != (boom{42}) {
				t.Errorf("recovered %#v, want the panic value boom{42}", got)
			}
		}()
		_ = s.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
			must(t, "write", writeSome(t.Context(), tx, "doomed"))
			panic(boom{42})
		})
		t.Error("InTx returned instead of panicking")
	}()
	nothingWritten(t, s, "doomed")

	// A backend that kept the transaction open would block here.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := s.InTx(ctx, store.Durable, func(tx store.Tx) error { return writeSome(ctx, tx, "after") })
	must(t, "write after the panic", err)
	_, err = s.Account(ctx, "after")
	must(t, "read after the panic", err)
}

// testTxReadsSeeItsOwnWrites: inside a transaction, reads see its writes;
// outside it, nobody does until it commits.
func testTxReadsSeeItsOwnWrites(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "write", writeSome(ctx, tx, "new"))
		must(t, "put authorization", tx.PutAuthorization(ctx, fullAuthorization("new", "app")))
		_, err := tx.Account(ctx, "new")
		must(t, "account in tx", err)
		sess, err := tx.Session(ctx, "new")
		must(t, "session in tx", err)
		equal(t, "authorizations in tx", sess.Authorizations, []store.Authorization{fullAuthorization("new", "app")})
		key := liveRefreshToken("new", "new").Hash
		_, err = tx.RefreshToken(ctx, key)
		must(t, "refresh token in tx", err)
		consumeErr := tx.ConsumeRefreshToken(ctx, key, t0)
		must(t, "consume in tx", consumeErr)
		rt, err := tx.RefreshToken(ctx, key)
		must(t, "refresh token after consume", err)
		equal(t, "used at, in tx", rt.UsedAt, t0)

		// Store reads see committed data only.
		_, err = s.Account(ctx, "new")
		wantErr(t, "account outside the tx before commit", err, store.ErrNotFound)
		return nil
	})
	_, err := s.Account(t.Context(), "new")
	must(t, "account after commit", err)
}

// testRoutineTx: a routine transaction differs from a durable one only in
// how its commit meets a power cut, never in what it commits: its writes
// are read back once it returns nil, and none of them survive when it
// fails. Routine and durable transactions follow one another on one store
// (SQLite switches its writer's synchronous setting between them).
func testRoutineTx(t *testing.T, s store.Store) {
	ctx := t.Context()
	err := s.InTx(ctx, store.Routine, func(tx store.Tx) error { return writeSome(ctx, tx, "routine") })
	must(t, "routine transaction", err)
	got, err := s.Account(ctx, "routine")
	must(t, "account written by a routine transaction", err)
	equal(t, "account", got, fullAccount("routine"))
	_, err = s.RefreshToken(ctx, liveRefreshToken("routine", "routine").Hash)
	must(t, "refresh token written by a routine transaction", err)

	errBoom := errors.New("boom")
	err = s.InTx(ctx, store.Routine, func(tx store.Tx) error {
		must(t, "write", writeSome(ctx, tx, "doomed"))
		return errBoom
	})
	wantErr(t, "failed routine transaction", err, errBoom)
	nothingWritten(t, s, "doomed")

	// A durable transaction after routine ones, and a routine one after
	// it, still commit.
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAccount(ctx, fullAccount("durable")) })
	err = s.InTx(ctx, store.Routine, func(tx store.Tx) error { return tx.UpsertAccount(ctx, fullAccount("routine-2")) })
	must(t, "routine transaction after a durable one", err)
	for _, id := range []string{"durable", "routine-2"} {
		_, err := s.Account(ctx, id)
		must(t, "account "+id, err)
	}
}

// testCancelledContextStopsQueries: the context reaches the database: a
// cancelled one fails reads and transactions with its error, not with
// ErrNotFound.
func testCancelledContextStopsQueries(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAccount(ctx, fullAccount("a")) })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Account(ctx, "a")
	wantErr(t, "read", err, context.Canceled)
	err = s.InTx(ctx, store.Durable, func(tx store.Tx) error { return tx.UpsertAccount(ctx, fullAccount("b")) })
	wantErr(t, "InTx", err, context.Canceled)
	_, err = s.Account(t.Context(), "b")
	wantErr(t, "account written with a cancelled context", err, store.ErrNotFound)
}
