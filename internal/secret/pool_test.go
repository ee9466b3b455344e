package secret

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// holdPool fills p's slots with calls that block until release is closed,
// and returns once all of them are running.
func holdPool(t *testing.T, p *Pool, n int, release <-chan struct{}, done *sync.WaitGroup) {
	t.Helper()
	started := make(chan struct{}, n)
	for range n {
		done.Go(func() {
			if err := p.Run(t.Context(), func() { started <- struct{}{}; <-release }); err != nil {
				t.Errorf("holding call refused: %v", err)
			}
		})
	}
	for range n {
		<-started
	}
}

// waitFor polls cond until it holds: the calls under test block inside
// the pool, where only its channels show them.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// A4: at most size run, at most queue wait, the rest is refused at once
// without running, and the waiting ones run as slots free.
func TestPoolBoundsRunningAndWaiting(t *testing.T) {
	for _, tc := range []struct {
		name        string
		size, queue int
	}{
		{"one slot, one waiting", 1, 1},
		{"two slots, three waiting", 2, 3},
		{"four slots, sixteen waiting", 4, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPool("test", tc.size, tc.queue, time.Minute)
			if size, queue := p.Limits(); size != tc.size || queue != tc.queue {
				t.Fatalf("Limits() = %d, %d; want %d, %d", size, queue, tc.size, tc.queue)
			}
			release := make(chan struct{})
			var done sync.WaitGroup
			holdPool(t, p, tc.size, release, &done)

			var ran atomic.Int32
			for range tc.queue {
				done.Go(func() {
					if err := p.Run(t.Context(), func() { ran.Add(1) }); err != nil {
						t.Errorf("queued call refused: %v", err)
					}
				})
			}
			waitFor(t, "the queue fills", func() bool { return len(p.queue) == tc.size+tc.queue })

			// Full: refused at once, fn never runs.
			err := p.Run(t.Context(), func() { t.Error("a refused call ran") })
			var busy *BusyError
			if !errors.As(err, &busy) || !errors.Is(err, ErrBusy) || busy.Pool != "test" || busy.RetryAfter <= 0 {
				t.Fatalf("full pool answered %v, want a *BusyError", err)
			}
			if ran.Load() != 0 {
				t.Fatalf("%d queued calls ran while every slot was held", ran.Load())
			}
			close(release)
			done.Wait()
			if int(ran.Load()) != tc.queue {
				t.Errorf("%d queued calls ran, want %d", ran.Load(), tc.queue)
			}
			if len(p.slots) != 0 || len(p.queue) != 0 {
				t.Errorf("tokens left behind: %d slots, %d queued", len(p.slots), len(p.queue))
			}
		})
	}
}

// A4: under many concurrent callers, never more than size run at once, and
// everything admitted runs.
func TestPoolNeverRunsMoreThanSize(t *testing.T) {
	const size, callers = 3, 200
	p := NewPool("test", size, callers, time.Minute)
	var running, peak, ran atomic.Int32
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			err := p.Run(t.Context(), func() {
				n := running.Add(1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				runtime.Gosched()
				running.Add(-1)
				ran.Add(1)
			})
			if err != nil {
				t.Errorf("admitted call refused: %v", err)
			}
		})
	}
	wg.Wait()
	if peak.Load() > size {
		t.Errorf("%d ran at once, want at most %d", peak.Load(), size)
	}
	if ran.Load() != callers {
		t.Errorf("%d of %d calls ran", ran.Load(), callers)
	}
}

// A4: a queued call that finds no slot within the pool's wait is refused
// with Retry-After, and its place in the queue is given back.
func TestPoolRefusesAfterItsWait(t *testing.T) {
	p := NewPool("test", 1, 1, 10*time.Millisecond)
	release := make(chan struct{})
	var done sync.WaitGroup
	holdPool(t, p, 1, release, &done)
	err := p.Run(t.Context(), func() { t.Error("ran without a slot") })
	if !errors.Is(err, ErrBusy) {
		t.Errorf("waited past the pool's wait: got %v, want ErrBusy", err)
	}
	if len(p.queue) != 1 {
		t.Errorf("the refused call kept its place: %d queued", len(p.queue))
	}
	close(release)
	done.Wait()
}

// A4: a request that goes away (the client disconnected) stops waiting,
// with ctx's error rather than a refusal, and gives its place back.
func TestPoolStopsWaitingWhenContextEnds(t *testing.T) {
	p := NewPool("test", 1, 1, time.Minute)
	release := make(chan struct{})
	var done sync.WaitGroup
	holdPool(t, p, 1, release, &done)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx, func() { t.Error("ran without a slot") }) }()
	waitFor(t, "the call waits", func() bool { return len(p.queue) == 2 })
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrBusy) {
		t.Errorf("cancelled wait: got %v, want context.Canceled", err)
	}
	if len(p.queue) != 1 {
		t.Errorf("the cancelled call kept its place: %d queued", len(p.queue))
	}
	close(release)
	done.Wait()
}

// A call that panics still gives back its slot and its place.
func TestPoolReleasesOnPanic(t *testing.T) {
	p := NewPool("test", 1, 1, time.Minute)
	func() {
		defer func() { _ = recover() }()
		_ = p.Run(t.Context(), func() { panic("boom") })
	}()
	if len(p.slots) != 0 || len(p.queue) != 0 {
		t.Errorf("a panicking call kept its tokens: %d slots, %d queued", len(p.slots), len(p.queue))
	}
}

// A4: the defaults size the pool to the machine.
func TestPoolDefaults(t *testing.T) {
	p := NewPool("test", 0, 0, 0)
	size, queue := p.Limits()
	if size != runtime.GOMAXPROCS(0) || queue != 4*size || p.wait != 2*time.Second {
		t.Errorf("defaults: size %d, queue %d, wait %v", size, queue, p.wait)
	}
	var nilPool *Pool
	ran := false
	if err := nilPool.Run(t.Context(), func() { ran = true }); err != nil || !ran {
		t.Errorf("a nil pool: ran %v, err %v", ran, err)
	}
}

// A4: a place is taken before any work, so a full queue refuses at Join,
// before the caller counts anything; Leave gives the place back once, and
// after Run it does nothing.
func TestPoolPlacesAreTakenBeforeTheWork(t *testing.T) {
	p := NewPool("test", 1, 1, time.Second)
	a, err := p.Join()
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Join()
	if err != nil {
		t.Fatal(err)
	}
	var busy *BusyError
	if _, err := p.Join(); !errors.As(err, &busy) {
		t.Fatalf("a third place in a pool of 1 + 1: %v, want a BusyError", err)
	}
	b.Leave()
	b.Leave() // twice gives back once
	ran := false
	if err := a.Run(t.Context(), func() { ran = true }); err != nil || !ran {
		t.Fatalf("Run of a held place: %v, ran %v", err, ran)
	}
	a.Leave() // after Run: nothing
	for range 2 {
		pl, err := p.Join()
		if err != nil {
			t.Fatalf("the places were not all given back: %v", err)
		}
		defer pl.Leave()
	}
	var nilPool *Pool
	pl, err := nilPool.Join()
	if err != nil || pl.Run(t.Context(), func() {}) != nil {
		t.Fatalf("a nil pool: %v", err)
	}
}
