package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var concurrencyTests = []test{
	{"ConcurrentUseAuthCodeHasOneWinner", testConcurrentUseAuthCodeHasOneWinner},
	{"ConcurrentConsumeRefreshTokenHasOneWinner", testConcurrentConsumeRefreshTokenHasOneWinner},
	{"ConcurrentWritersAndReadersDontFail", testConcurrentWritersAndReadersDontFail},
}

// racers is how many goroutines race for one code or token: more than any
// pool has connections, so some wait for others.
const racers = 32

// race runs fn in n goroutines released at the same instant and returns
// their errors, by goroutine.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner fails the test unless exactly one error is nil and every other
// is store.ErrAlreadyUsed.
func oneWinner(t *testing.T, errs []error) {
	t.Helper()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, store.ErrAlreadyUsed):
			t.Errorf("racer %d: %v, want nil or ErrAlreadyUsed", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d racers consumed it, want exactly 1", winners)
	}
}

// testConcurrentUseAuthCodeHasOneWinner: however many requests redeem
// one code at once, one gets tokens (spec T4); the rest see the replay.
func testConcurrentUseAuthCodeHasOneWinner(t *testing.T, s store.Store) {
	ctx := t.Context()
	errs := race(racers, func(i int) error {
		return s.InTx(ctx, store.Durable, func(tx store.Tx) error {
			return tx.UseAuthCode(ctx, hash("contested"), at(time.Minute))
		})
	})
	oneWinner(t, errs)
}

// testConcurrentConsumeRefreshTokenHasOneWinner: of concurrent rotations
// of one refresh token one wins; the rest are reuse (design G4).
func testConcurrentConsumeRefreshTokenHasOneWinner(t *testing.T, s store.Store) {
	rt := liveRefreshToken("contested", "grant")
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateRefreshToken(ctx, rt) })
	ctx := t.Context()
	errs := race(racers, func(i int) error {
		return s.InTx(ctx, store.Durable, func(tx store.Tx) error {
			if err := tx.ConsumeRefreshToken(ctx, rt.Hash, at(0)); err != nil {
				return err
			}
			// The winner rotates, as package token does.
			return tx.CreateRefreshToken(ctx, liveRefreshToken(fmt.Sprint("rotated ", i), "grant"))
		})
	})
	oneWinner(t, errs)
	used := rt
	used.UsedAt = at(0)
	got, err := s.RefreshToken(ctx, rt.Hash)
	must(t, "read the contested token", err)
	equal(t, "the contested token, used once", got, used)
}

// testConcurrentWritersAndReadersDontFail: many requests writing and
// reading at once all succeed; none sees "database is locked" or a
// serialization failure.
func testConcurrentWritersAndReadersDontFail(t *testing.T, s store.Store) {
	const writers, perWriter, readers = 16, 20, 8
	ctx := t.Context()
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateSession(ctx, fullSession("shared", "acct"))
	})

	done := make(chan struct{})
	readErrs := make(chan error, readers)
	var readersWG sync.WaitGroup
	for range readers {
		readersWG.Add(1)
		go func() {
			defer readersWG.Done()
			for {
				select {
				case <-done:
					readErrs <- nil
					return
				default:
				}
				if _, err := s.SessionByCookie(ctx, fullSession("shared", "acct").CookieHash); err != nil {
					readErrs <- err
					return
				}
				if _, err := s.SessionsByAccount(ctx, "acct"); err != nil {
					readErrs <- err
					return
				}
			}
		}()
	}

	errs := race(writers, func(w int) error {
		for i := range perWriter {
			id := fmt.Sprintf("w%02d-%02d", w, i)
			err := s.InTx(ctx, store.Durable, func(tx store.Tx) error {
				if err := tx.CreateSession(ctx, fullSession(id, "acct")); err != nil {
					return err
				}
				if err := tx.PutAuthorization(ctx, fullAuthorization("shared", id)); err != nil {
					return err
				}
				th, err := tx.LockThrottle(ctx, "addr:192.0.2.1")
				if err != nil {
					return err
				}
				th.Failures++
				if err := tx.PutThrottle(ctx, th); err != nil {
					return err
				}
				_, err = tx.Session(ctx, id)
				return err
			})
			if err != nil {
				return fmt.Errorf("transaction %s: %w", id, err)
			}
		}
		return nil
	})
	close(done)
	readersWG.Wait()
	close(readErrs)
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for err := range readErrs {
		if err != nil {
			t.Errorf("reader: %v", err)
		}
	}

	list, err := s.SessionsByAccount(ctx, "acct")
	must(t, "list", err)
	if len(list) != writers*perWriter+1 {
		t.Errorf("%d sessions, want %d", len(list), writers*perWriter+1)
	}
	shared, err := s.Session(ctx, "shared")
	must(t, "shared session", err)
	if len(shared.Authorizations) != writers*perWriter {
		t.Errorf("shared session has %d authorizations, want %d", len(shared.Authorizations), writers*perWriter)
	}
	th, err := s.Throttle(ctx, "addr:192.0.2.1")
	must(t, "failures", err)
	if th.Failures != writers*perWriter {
		t.Errorf("%d failures counted, want %d", th.Failures, writers*perWriter)
	}
}
