package activity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// DefaultFlushEvery is how often a Recorder writes what it counted: the
// most a crash can lose.
const DefaultFlushEvery = time.Minute

// flushRows is how many rows one flush transaction adds to at most. A
// minute's counts are a dozen rows; only a backlog (the database was
// away for hours) needs several transactions, each holding SQLite's one
// writer well under the sweeper's 10 ms.
const flushRows = 64

// Recorder counts events in memory and adds them to the store's hourly
// counters once a minute, so the hot paths never write for it. Its
// methods are safe for concurrent use, and a nil *Recorder counts
// nothing, so a service built without one works as before.
//
// Counts are kept by the hour of the event (Now at the call), not of the
// flush. A flush that fails keeps its counts for the next one; what was
// counted since the last flush is lost if the process dies, at most
// FlushEvery of it.
type Recorder struct {
	Store store.Store
	// Now is the clock that dates the counts; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// FlushEvery is how often Start's loop flushes; zero is
	// DefaultFlushEvery.
	FlushEvery time.Duration

	mu      sync.Mutex
	pending map[slot]figures
	// sampled is the hour whose live sessions this instance last sampled.
	sampled time.Time
	// stop ends Start's loop; done is closed when it has.
	stop context.CancelFunc
	done chan struct{}
}

// slot is one row of the hourly counters: an hour (unix seconds of its
// start, UTC) and a measure.
type slot struct {
	hour    int64
	measure Measure
}

// figures are what is added to one slot.
type figures struct{ count, sum int64 }

// Count adds one to m in the current hour.
func (r *Recorder) Count(m Measure) {
	if r == nil {
		return
	}
	r.add(r.now(), m, figures{count: 1})
}

// Observe records one observation of m worth v (a latency, a sample):
// one more in the hour's count, v more in its sum.
func (r *Recorder) Observe(m Measure, v int64) {
	if r == nil {
		return
	}
	r.add(r.now(), m, figures{count: 1, sum: v})
}

func (r *Recorder) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Recorder) add(at time.Time, m Measure, f figures) {
	k := slot{hour: at.UTC().Truncate(time.Hour).Unix(), measure: m}
	r.mu.Lock()
	if r.pending == nil {
		r.pending = map[slot]figures{}
	}
	p := r.pending[k]
	r.pending[k] = figures{count: p.count + f.count, sum: p.sum + f.sum}
	r.mu.Unlock()
}

// SampleSessions counts the live sessions now and records the count as
// one sample of ActiveSessions. Start's loop calls it once an hour.
func (r *Recorder) SampleSessions(ctx context.Context) error {
	if r == nil {
		return nil
	}
	now := r.now()
	n, err := r.Store.LiveSessions(ctx, now)
	if err != nil {
		return fmt.Errorf("sample active sessions: %w", err)
	}
	r.add(now, ActiveSessions, figures{count: 1, sum: n})
	return nil
}

// Flush adds what was counted since the last flush to the store, in
// transactions of at most flushRows rows, in key order (so instances
// flushing at once on PostgreSQL lock rows in one order and never
// deadlock). What a failed transaction held is kept for the next flush,
// unless its hour is already older than the counters are kept.
func (r *Recorder) Flush(ctx context.Context) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.mu.Unlock()
	keys := slices.SortedFunc(maps.Keys(batch), func(a, b slot) int {
		return cmp.Or(cmp.Compare(a.hour, b.hour), cmp.Compare(a.measure, b.measure))
	})
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), flushRows)]
		// Routine: a power cut may undo the last flush, as a crash loses
		// the counts not yet flushed.
		err := r.Store.InTx(ctx, store.Routine, func(tx store.Tx) error {
			for _, k := range chunk {
				f := batch[k]
				c := store.HourlyCounter{Hour: time.Unix(k.hour, 0).UTC(), Measure: string(k.measure), Count: f.count, Sum: f.sum}
				if err := tx.AddHourlyCounter(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			r.keep(batch, keys)
			return fmt.Errorf("flush activity counters: %w", err)
		}
		keys = keys[len(chunk):]
	}
	return nil
}

// keep puts back the counts of keys that a failed flush did not write,
// dropping the hours the sweeper would delete anyway.
func (r *Recorder) keep(batch map[slot]figures, keys []slot) {
	oldest := r.now().Add(-store.CounterRetention).Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[slot]figures{}
	}
	for _, k := range keys {
		if k.hour < oldest {
			continue
		}
		f, p := batch[k], r.pending[k]
		r.pending[k] = figures{count: p.count + f.count, sum: p.sum + f.sum}
	}
}

// Start runs the Recorder's loop until Close: it samples the live
// sessions at once and then in every new hour, and flushes every
// FlushEvery. A Recorder already started is left as it is.
func (r *Recorder) Start(ctx context.Context) {
	if r == nil {
		return
	}
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	r.mu.Lock()
	if r.stop != nil {
		r.mu.Unlock()
		stop()
		return
	}
	r.stop, r.done = stop, done
	r.mu.Unlock()
	every := r.FlushEvery
	if every <= 0 {
		every = DefaultFlushEvery
	}
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			r.sampleOncePerHour(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			r.flushLogged(ctx)
		}
	}()
}

// Close stops Start's loop and flushes what is left, waiting up to ten
// seconds for the database. Without Start it only flushes. Counts made
// after Close stay in memory until a Flush.
func (r *Recorder) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	stop, done := r.stop, r.done
	r.stop, r.done = nil, nil
	r.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.Flush(ctx)
}

// sampleOncePerHour samples the live sessions unless this instance has
// sampled in the current hour already.
func (r *Recorder) sampleOncePerHour(ctx context.Context) {
	hour := r.now().UTC().Truncate(time.Hour)
	r.mu.Lock()
	due := !r.sampled.Equal(hour)
	r.mu.Unlock()
	if !due {
		return
	}
	if err := r.SampleSessions(ctx); err != nil {
		r.warn(ctx, err) // tried again at the next tick
		return
	}
	r.mu.Lock()
	r.sampled = hour
	r.mu.Unlock()
}

func (r *Recorder) flushLogged(ctx context.Context) {
	if err := r.Flush(ctx); err != nil {
		r.warn(ctx, err)
	}
}

func (r *Recorder) warn(ctx context.Context, err error) {
	if r.Logger != nil && !errors.Is(err, context.Canceled) {
		r.Logger.WarnContext(ctx, "activity counters", "err", err)
	}
}
