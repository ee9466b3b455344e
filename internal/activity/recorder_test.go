package activity

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
)

// t0 is the tests' "now": 15:09:26 UTC, inside the hour of 15:00.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// clock is a fake clock the tests move.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// countingStore is a SQLite store that counts its write transactions and
// fails the next ones when told to.
type countingStore struct {
	store.Store
	txs  atomic.Int64
	fail atomic.Int64 // how many of the next transactions fail
}

var errDown = errors.New("database down")

func (s *countingStore) InTx(ctx context.Context, d store.Durability, fn func(tx store.Tx) error) error {
	if s.fail.Add(-1) >= 0 {
		return errDown
	}
	s.fail.Store(0)
	s.txs.Add(1)
	return s.Store.InTx(ctx, d, fn)
}

// newStore opens an empty SQLite store, closed when t ends.
func newStore(t *testing.T) *countingStore {
	t.Helper()
	return &countingStore{Store: sqltest.Open(t)}
}

// newRecorder is a Recorder on a new store, reading c.
func newRecorder(t *testing.T, c *clock) (*Recorder, *countingStore) {
	st := newStore(t)
	return &Recorder{Store: st, Now: c.Now}, st
}

// rows lists every counter row of the day around t0.
func rows(t *testing.T, st store.Reader) []store.HourlyCounter {
	t.Helper()
	got, err := st.HourlyCounters(t.Context(), t0.Add(-48*time.Hour), t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func wantRows(t *testing.T, got, want []store.HourlyCounter) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got  %+v\n want %+v", got, want)
	}
}

// A sign-in pays for no write: counts wait in memory, by the hour they
// happened in, and one flush writes them in one transaction, adding to
// what earlier flushes wrote.
func TestRecorderFlushesBatchedCountsInOneTransaction(t *testing.T) {
	c := &clock{now: t0}
	r, st := newRecorder(t, c)
	h := t0.Truncate(time.Hour)
	for range 3 {
		r.Count(SignInPassword)
	}
	r.Count(SignInSSO)
	r.Observe(DeliveryLatency, 1500)
	r.Observe(DeliveryLatency, 500)
	c.set(t0.Add(time.Hour))
	r.Count(SignInPassword)
	if n := st.txs.Load(); n != 0 {
		t.Fatalf("counting wrote %d transactions before any flush", n)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := st.txs.Load(); n != 1 {
		t.Errorf("one flush took %d transactions, want 1", n)
	}
	r.Count(SignInPassword)
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(t.Context()); err != nil { // nothing new: no transaction
		t.Fatal(err)
	}
	if n := st.txs.Load(); n != 2 {
		t.Errorf("three flushes, one with nothing to write, took %d transactions, want 2", n)
	}
	wantRows(t, rows(t, st), []store.HourlyCounter{
		{Hour: h, Measure: string(DeliveryLatency), Count: 2, Sum: 2000},
		{Hour: h, Measure: string(SignInPassword), Count: 3},
		{Hour: h, Measure: string(SignInSSO), Count: 1},
		{Hour: h.Add(time.Hour), Measure: string(SignInPassword), Count: 2},
	})
}

// Counts made from many goroutines while flushes run are all written,
// each once.
func TestRecorderConcurrentCountsAreExact(t *testing.T) {
	const goroutines, each = 32, 250
	r, st := newRecorder(t, &clock{now: t0})
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for i := range each {
				r.Count(SignInSSO)
				r.Observe(DeliveryLatency, int64(i))
			}
		})
	}
	flushes := make(chan error, 1)
	go func() {
		var err error
		for range 20 {
			err = errors.Join(err, r.Flush(t.Context()))
		}
		flushes <- err
	}()
	wg.Wait()
	if err := <-flushes; err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := t0.Truncate(time.Hour)
	wantRows(t, rows(t, st), []store.HourlyCounter{
		{Hour: h, Measure: string(DeliveryLatency), Count: goroutines * each, Sum: goroutines * (each * (each - 1) / 2)},
		{Hour: h, Measure: string(SignInSSO), Count: goroutines * each},
	})
}

// A flush the database refuses keeps its counts for the next one, which
// writes them once; hours older than the counters are kept are dropped
// rather than held forever.
func TestRecorderKeepsCountsAFailedFlushCouldNotWrite(t *testing.T) {
	c := &clock{now: t0.Add(-store.CounterRetention - 2*time.Hour)}
	r, st := newRecorder(t, c)
	r.Count(SignInSSO) // an hour the sweeper would delete by the time of the retry
	c.set(t0)
	r.Count(SignInPassword)
	st.fail.Store(1)
	if err := r.Flush(t.Context()); !errors.Is(err, errDown) {
		t.Fatalf("flush with the database down: %v", err)
	}
	r.Count(SignInPassword)
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := st.HourlyCounters(t.Context(), t0.Add(-60*24*time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, got, []store.HourlyCounter{{Hour: t0.Truncate(time.Hour), Measure: string(SignInPassword), Count: 2}})
}

// A backlog of many rows (the database was away for hours) is written in
// transactions of at most flushRows rows, so none holds the writer long.
func TestRecorderFlushesABacklogInSmallTransactions(t *testing.T) {
	const hours = 2*flushRows + 10
	c := &clock{}
	r, st := newRecorder(t, c)
	start := t0.Truncate(time.Hour).Add(-hours * time.Hour)
	for i := range hours {
		c.set(start.Add(time.Duration(i) * time.Hour))
		r.Count(SignInPassword)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := st.txs.Load(); n != 3 {
		t.Errorf("%d rows took %d transactions, want 3", hours, n)
	}
	got, err := st.HourlyCounters(t.Context(), start, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != hours {
		t.Errorf("%d rows written, want %d", len(got), hours)
	}
}

// Start samples the live sessions at once and flushes on its own; Close
// flushes what is left and stops the loop. A second sample in the same
// hour is not taken, and a second Start starts no second loop.
func TestRecorderStartSamplesAndFlushesCloseFlushesTheRest(t *testing.T) {
	c := &clock{now: t0}
	r, st := newRecorder(t, c)
	r.FlushEvery = 5 * time.Millisecond
	err := st.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
		for i, expires := range []time.Duration{time.Hour, 2 * time.Hour, -time.Minute} {
			err := tx.CreateSession(t.Context(), store.Session{ID: fmt.Sprint("s", i), CookieHash: []byte{byte(i)}, AccountID: "a",
				CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(expires), MaxExpiresAt: t0.Add(expires)})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(t.Context())
	r.Start(t.Context()) // no second loop
	h := t0.Truncate(time.Hour)
	sample := store.HourlyCounter{Hour: h, Measure: string(ActiveSessions), Count: 1, Sum: 2}
	deadline := time.Now().Add(10 * time.Second)
	for !reflect.DeepEqual(rows(t, st), []store.HourlyCounter{sample}) {
		if time.Now().After(deadline) {
			t.Fatalf("the loop never flushed its sample: %+v", rows(t, st))
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.Count(SignInPassword)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	closed := []store.HourlyCounter{sample, {Hour: h, Measure: string(SignInPassword), Count: 1}}
	wantRows(t, rows(t, st), closed)
	// Closed, nothing flushes on its own any more: no loop was left
	// running.
	r.Count(SignInSSO)
	time.Sleep(50 * time.Millisecond)
	wantRows(t, rows(t, st), closed)
}

// A nil Recorder counts nothing and never fails: services built without
// one work as before.
func TestNilRecorderCountsNothing(t *testing.T) {
	var r *Recorder
	r.Count(SignInPassword)
	r.Observe(DeliveryLatency, 1)
	r.Start(t.Context())
	if err := r.SampleSessions(t.Context()); err != nil {
		t.Error(err)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Error(err)
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
}
