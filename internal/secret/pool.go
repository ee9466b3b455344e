package secret

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// ErrBusy means a hashing pool had no room: the request was refused before
// any hash was computed (A4).
var ErrBusy = errors.New("too many sign-ins at once")

// BusyError says when to try again; it wraps ErrBusy.
type BusyError struct {
	// Pool names the pool that refused ("passwords", "client secrets").
	Pool       string
	RetryAfter time.Duration
}

// Error names the pool and the wait.
func (e *BusyError) Error() string {
	return fmt.Sprintf("%v (%s); retry after %v", ErrBusy, e.Pool, e.RetryAfter)
}

// Unwrap lets errors.Is see ErrBusy.
func (e *BusyError) Unwrap() error { return ErrBusy }

// Pool admits slow hashes (argon2id) a bounded number at a time, with a
// short bounded queue behind them (A4). Each argon2id hash holds its
// memory (19 MiB by default) while it runs, so the number running at once
// is what bounds the process's memory under a flood, and the queue bounds
// how long an honest request waits behind one. What does not fit is
// refused at once, before any hash is computed: a refusal costs nothing.
type Pool struct {
	name string
	// slots holds a token per running hash; queue a token per admitted
	// call, running or waiting, so it bounds both together.
	slots chan struct{}
	queue chan struct{}
	wait  time.Duration
}

// NewPool returns a pool named name that runs at most size hashes at once
// and lets at most queue more wait, each for at most wait. Zero size or
// queue take the defaults: one hash per CPU Go may use (GOMAXPROCS: a
// hash is CPU-bound, so more at once would only share the CPUs and hold
// more memory), and a queue of four per slot, about a hundred milliseconds
// of waiting at OWASP's cost. Zero wait is two seconds.
func NewPool(name string, size, queue int, wait time.Duration) *Pool {
	if size <= 0 {
		size = runtime.GOMAXPROCS(0)
	}
	if queue <= 0 {
		queue = 4 * size
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	return &Pool{name: name, slots: make(chan struct{}, size), queue: make(chan struct{}, size+queue), wait: wait}
}

// Limits returns how many hashes run at once and how many more may wait.
func (p *Pool) Limits() (size, queue int) { return cap(p.slots), cap(p.queue) - cap(p.slots) }

// Run runs fn when a slot is free. It returns a *BusyError without running
// fn when the queue is full or no slot frees within the pool's wait, and
// ctx's error when ctx ends first. A nil Pool runs fn at once (tests and
// tools that hash one thing).
func (p *Pool) Run(ctx context.Context, fn func()) error {
	place, err := p.Join()
	if err != nil {
		return err
	}
	return place.Run(ctx, fn)
}

// Place is a place in a pool's queue. A caller that must do some work
// before it hashes (count the attempt for the throttle, A3) takes its
// place first, so a request the pool would refuse costs none of that
// work.
type Place struct {
	p    *Pool
	left bool
}

// Join takes a place in the queue, or returns a *BusyError at once when
// the queue is full. The place is given back by Run or Leave.
func (p *Pool) Join() (*Place, error) {
	if p == nil {
		return &Place{}, nil
	}
	select {
	case p.queue <- struct{}{}:
		return &Place{p: p}, nil
	default:
		return nil, p.busy()
	}
}

// Leave gives the place back without hashing; after Run it does nothing.
func (pl *Place) Leave() {
	if pl.p != nil && !pl.left {
		pl.left = true
		<-pl.p.queue
	}
}

// Run waits for a slot (at most the pool's wait, else a *BusyError), runs
// fn, and gives the place back.
func (pl *Place) Run(ctx context.Context, fn func()) error {
	defer pl.Leave()
	p := pl.p
	if p == nil {
		fn()
		return nil
	}
	select {
	case p.slots <- struct{}{}: // a free slot: no timer to make
	default:
		if err := p.await(ctx); err != nil {
			return err
		}
	}
	defer func() { <-p.slots }()
	fn()
	return nil
}

// await waits for a slot, at most the pool's wait. Blocked senders on a
// channel are served in arrival order, so the queue is first come, first
// served.
func (p *Pool) await(ctx context.Context) error {
	timer := time.NewTimer(p.wait)
	defer timer.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return p.busy()
	case <-ctx.Done():
		return fmt.Errorf("wait for %s hashing: %w", p.name, ctx.Err())
	}
}

// busy is the refusal: one second is more than a full queue takes to
// drain (four hashes per slot of 20-30 ms each), so a client that waits
// that long finds room.
func (p *Pool) busy() error { return &BusyError{Pool: p.name, RetryAfter: time.Second} }
