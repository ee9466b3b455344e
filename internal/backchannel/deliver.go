package backchannel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sesame-id/sesame/internal/activity"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// RetryFor is how long failed deliveries are retried (B2).
const RetryFor = 24 * time.Hour

// MaxBackoff is the longest wait between two attempts (B2).
const MaxBackoff = time.Hour

// FirstRetry is the wait after a first failed attempt (B2: first retry
// within 2 s). A retry is made by the first claim after it is due, and a
// Worker with a free slot claims at least every PollEvery (its ticker
// keeps time whatever woke it in between), so the retry starts at most
// FirstRetry + PollEvery = 1.5 s after the failure, leaving half a second
// for the claim's transaction and a busy machine. A first wait of 1 s
// would reach the full 2 s before the claim had even begun. The bound
// needs a free slot: a worker with all Concurrency attempts under way
// claims again as soon as one of them ends.
const FirstRetry = 500 * time.Millisecond

// Backoff is the wait after the n-th failed attempt: FirstRetry, then
// twice as long each time (0.5 s, 1 s, 2 s, 4 s...), at most MaxBackoff
// (B2). Nothing is added at random on top: a jitter would push the first
// retry past the bound FirstRetry keeps.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 14 { // FirstRetry<<13, at n = 14, already exceeds an hour
		return MaxBackoff
	}
	return min(FirstRetry<<(n-1), MaxBackoff)
}

// Deliverer makes delivery attempts.
type Deliverer struct {
	Store store.Store
	// Clients reads the client of a delivery (package client's cached
	// Registry in the server).
	Clients interface {
		Get(ctx context.Context, id string) (store.Client, error)
	}
	Signer Signer
	Issuer string
	HTTP   *http.Client
	Now    func() time.Time
	Logger *slog.Logger
	// Metrics counts attempts; nil counts nothing.
	Metrics *Metrics
	// Activity counts attempts and their latency for the console's
	// charts; nil counts nothing.
	Activity *activity.Recorder

	// queueClock replaces the wall clock of the queue in tests (set by
	// export_test.go before any attempt); nil is time.Now.
	queueClock func() time.Time
}

// queueNow is the clock of the queue: due times and leases. It is the
// wall clock whatever clock the domain reads (Deliverer.Now, which dates
// deliveries and bounds their 24 hours), since workers wait in real time.
func (d *Deliverer) queueNow() time.Time {
	if d.queueClock != nil {
		return d.queueClock()
	}
	return time.Now()
}

// Queued is a delivery Enqueue wrote in the caller's transaction, leased
// from the start to the first attempt that the caller makes once that
// transaction has committed (AttemptQueued): that attempt needs no
// transaction of its own to take the delivery.
type Queued struct{ store.Delivery }

// Queue makes the delivery of a logout token to c for (sub, sid), for
// the sign-out of receiptID, that Enqueue then writes: its id is known
// before, so the sign-out's receipt can name it. The row is leased for
// LeaseFor to the caller's first attempt (AttemptQueued, right after the
// commit), and due when that lease ends, so no worker races that attempt
// and none is woken for it; if the instance dies before making it, the
// delivery goes out from the queue once the lease ends (B3: within
// LeaseFor plus a PollEvery of the commit, as for a crash in the middle of
// any attempt).
func (d *Deliverer) Queue(receiptID string, c store.Client, sub, sid string) Queued {
	now := d.Now()
	lease := d.queueNow().Add(LeaseFor)
	return Queued{store.Delivery{
		ID: token.NewID(), ReceiptID: receiptID, ClientID: c.ID, URI: c.BackchannelLogoutURI,
		Subject: sub, SID: sid, State: store.DeliveryPending, CreatedAt: now, UpdatedAt: now,
		DueAt: lease, LeaseUntil: lease,
	}}
}

// Enqueue records the deliveries qs inside tx (B3), in one call to the
// store: the rows are the queue entries, so they commit or roll back with
// the sign-out.
func (d *Deliverer) Enqueue(ctx context.Context, tx store.Tx, qs ...Queued) error {
	if len(qs) == 0 {
		return nil
	}
	ds := make([]store.Delivery, len(qs))
	for i, q := range qs {
		ds[i] = q.Delivery
	}
	if err := tx.EnqueueDeliveries(ctx, ds...); err != nil {
		return fmt.Errorf("enqueue back-channel logouts: %w", err)
	}
	return nil
}

// Outcome of one attempt.
type Outcome int

// Outcomes of an attempt.
const (
	Delivered Outcome = iota
	// Retry: a recoverable failure (no answer, 5xx, 408, 429).
	Retry
	// Failed: the app rejected the token, or 24 hours passed.
	Failed
)

// attempt makes one attempt at del, which this caller has leased, and
// records its outcome, with the other attempts of rec when it is not nil.
func (d *Deliverer) attempt(ctx context.Context, del store.Delivery, rec *recorder) error {
	c, err := d.Clients.Get(ctx, del.ClientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		if rec != nil {
			rec.drop()
		}
		return fmt.Errorf("read client %s: %w", del.ClientID, err)
	}
	attempt := store.DeliveryAttempt{}
	var took time.Duration // of the exchange with the app; none when there was none
	if errors.Is(err, store.ErrNotFound) {
		attempt.State, attempt.Error = store.DeliveryFailed, "client no longer exists"
	} else {
		start := time.Now()
		attempt = d.post(ctx, del, c.IDTokenSignedResponseAlg)
		took = time.Since(start)
	}
	// The same measure as the activity charts' latency, kept with the
	// attempt in the delivery's history.
	attempt.At, attempt.Took, attempt.Lease = d.Now(), took, del.LeaseUntil
	if attempt.State == store.DeliveryPending && attempt.At.Sub(del.CreatedAt) >= RetryFor {
		attempt.State = store.DeliveryFailed
		attempt.Error = "gave up after 24 hours: " + attempt.Error
	}
	if attempt.State == store.DeliveryPending {
		attempt.RetryAt = d.queueNow().Add(Backoff(del.Attempts + 1))
	}
	// The outcome must be recorded even if the caller's context ended (a
	// person's request that stopped waiting).
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	o := outcome{del: del, attempt: attempt}
	if rec != nil {
		err = rec.record(rctx, &o)
	} else {
		err = d.record(rctx, []*outcome{&o})
	}
	if err != nil {
		return fmt.Errorf("record attempt on delivery %s: %w", del.ID, err)
	}
	if o.lost {
		// Its outcome is on the delivery already (a commit that reported
		// an error after all, then recorded again), or the lease ended
		// and another attempt holds the delivery, whose outcome counts.
		d.Logger.LogAttrs(ctx, slog.LevelInfo, "back-channel logout attempt not recorded: the delivery's lease is no longer this attempt's",
			slog.String("jti", del.ID), slog.String("client_id", del.ClientID))
	}
	del.Attempts++
	out := outcomeOf(attempt.State)
	d.Metrics.observe(out)
	observeActivity(d.Activity, out, took)
	d.Logger.LogAttrs(ctx, levelOf(out), "back-channel logout attempt",
		slog.String("jti", del.ID), slog.String("receipt_id", del.ReceiptID), slog.String("client_id", del.ClientID),
		slog.String("state", string(attempt.State)), slog.Int("status", attempt.Status), slog.Int("attempt", del.Attempts),
		slog.String("error", attempt.Error))
	return nil
}

// outcome is one attempt's outcome, to be recorded.
type outcome struct {
	del     store.Delivery
	attempt store.DeliveryAttempt
	// done receives the error of its recording (recorder).
	done chan error
	// lost is set when the recording found the delivery no longer under
	// the attempt's lease, and so recorded nothing (store.ErrLeaseLost).
	lost bool
}

// record stores the outcomes of attempts in one transaction: each one's
// result on its delivery, its row in the delivery's history and, when it
// failed for good, an event. An outcome whose delivery is no longer under
// its attempt's lease is left out (lost), not a failure of the others.
func (d *Deliverer) record(ctx context.Context, outs []*outcome) error {
	return d.Store.InTx(ctx, store.Routine, func(tx store.Tx) error {
		for _, o := range outs {
			id, a := o.del.ID, o.attempt
			o.lost = false // a transaction retried on its own decides again
			err := tx.RecordDeliveryAttempt(ctx, id, a)
			if errors.Is(err, store.ErrLeaseLost) {
				o.lost = true
				continue
			}
			if err != nil {
				return err
			}
			if a.State != store.DeliveryFailed {
				continue
			}
			if err := tx.AddEvent(ctx, store.Event{At: a.At, Kind: store.EventDeliveryFailed, AccountID: o.del.Subject,
				ClientID: o.del.ClientID, Detail: "delivery " + id + ": " + a.Error}); err != nil {
				return err
			}
		}
		return nil
	})
}

// gatherFor is how long the first outcome of attempts made together waits
// for the others before it is recorded (recorder): the four attempts of a
// sign-out end within a millisecond of each other on a loaded machine.
// The wait costs the person nothing, who waits for the last attempt
// anyway; an outcome that comes later than gatherFor waits at most for
// the transaction under way when it arrives.
const gatherFor = 2 * time.Millisecond

// recorder records the outcomes of first attempts made together
// (AttemptAll, AttemptQueued), several in one transaction: the first
// outcome waits up to gather for the others, and an outcome that arrives
// while others are being recorded waits for that transaction and goes in
// the next (group commit). The single writer then begins and commits once
// for a sign-out's four apps, where four transactions one behind the
// other held the person's redirect (and the CPU the apps' answers need)
// three transactions longer. The Worker's attempts, claimed one by one,
// are recorded one by one.
type recorder struct {
	d      *Deliverer
	gather time.Duration
	// allEnded is closed when the last attempt ends, with an outcome or
	// without one: the first outcome waits for it, up to gather.
	allEnded chan struct{}

	mu      sync.Mutex
	queue   []*outcome
	left    int  // attempts still to end
	leading bool // a caller of record is recording the queue
}

// newRecorder returns a recorder for n attempts.
func newRecorder(d *Deliverer, n int, gather time.Duration) *recorder {
	return &recorder{d: d, gather: gather, left: n, allEnded: make(chan struct{})}
}

// end counts an attempt as ended, with r.mu held.
func (r *recorder) end() {
	r.left--
	if r.left == 0 {
		close(r.allEnded)
	}
}

// drop tells r that an attempt ended with nothing to record.
func (r *recorder) drop() {
	r.mu.Lock()
	r.end()
	r.mu.Unlock()
}

// record records o, alone or with others, and returns the error of its
// transaction. The caller that finds nobody recording records, for
// itself and for whoever queues meanwhile, until the queue is empty.
func (r *recorder) record(ctx context.Context, o *outcome) error {
	o.done = make(chan error, 1)
	r.mu.Lock()
	r.queue = append(r.queue, o)
	r.end()
	if r.leading {
		r.mu.Unlock()
		return <-o.done
	}
	r.leading = true
	if r.gather > 0 && r.left > 0 {
		r.waitOthers()
		r.gather = 0 // only the first outcome waits
	}
	for len(r.queue) > 0 {
		batch := r.queue
		r.queue = nil
		r.mu.Unlock()
		err := r.d.record(ctx, batch)
		if err != nil && len(batch) > 1 {
			// One outcome that cannot be stored must not lose the others:
			// each is recorded on its own.
			for _, o := range batch {
				o.done <- r.d.record(ctx, []*outcome{o})
			}
		} else {
			for _, o := range batch {
				o.done <- err
			}
		}
		r.mu.Lock()
	}
	r.leading = false
	r.mu.Unlock()
	return <-o.done
}

// waitOthers waits, with r.mu held on entry and on return, until every
// attempt has ended or gather has passed.
func (r *recorder) waitOthers() {
	t := time.NewTimer(r.gather)
	r.mu.Unlock()
	select {
	case <-r.allEnded:
	case <-t.C:
	}
	t.Stop()
	r.mu.Lock()
}

// post sends one signed logout token and classifies the answer (B2, spec
// B9, B10).
func (d *Deliverer) post(ctx context.Context, del store.Delivery, alg string) store.DeliveryAttempt {
	tok, err := signToken(d.Signer, alg, d.Issuer, del.ClientID, del.ID, del.Subject, del.SID, d.Now())
	if err != nil {
		return store.DeliveryAttempt{State: store.DeliveryPending, Error: err.Error()}
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	body := url.Values{"logout_token": {tok}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, del.URI, strings.NewReader(body))
	if err != nil {
		return store.DeliveryAttempt{State: store.DeliveryFailed, Error: "bad back-channel URI: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := d.HTTP.Do(req)
	if err != nil {
		if errors.Is(err, ErrForbiddenAddress) {
			return store.DeliveryAttempt{State: store.DeliveryFailed, Error: err.Error()}
		}
		return store.DeliveryAttempt{State: store.DeliveryPending, Error: err.Error()}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	a := store.DeliveryAttempt{Status: resp.StatusCode}
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent:
		a.State = store.DeliveryDelivered
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
		a.State, a.Error = store.DeliveryPending, resp.Status
	default:
		a.State, a.Error = store.DeliveryFailed, "the app rejected the logout token: "+resp.Status
	}
	return a
}

// AttemptAll makes the first attempts of deliveries at once and in
// parallel, and waits for them up to wait (B3); what is still under way then
// goes on in the background, and what failed is retried from the queue
// (Worker). The deliveries are leased in one transaction; one that a
// worker holds already is watched until that attempt ends.
func (d *Deliverer) AttemptAll(ctx context.Context, ids []string, wait time.Duration) {
	if len(ids) == 0 {
		return
	}
	bg := context.WithoutCancel(ctx)
	now := d.queueNow()
	var leased, busy []store.Delivery
	err := d.Store.InTx(bg, store.Routine, func(tx store.Tx) error {
		leased, busy = leased[:0], busy[:0]
		for _, id := range ids {
			del, ok, err := tx.LeaseDelivery(bg, id, now, now.Add(LeaseFor))
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue
			case err != nil:
				return err
			case ok:
				leased = append(leased, del)
			case del.State == store.DeliveryPending:
				busy = append(busy, del)
			}
		}
		return nil
	})
	if err != nil {
		// The queue attempts them once they are due.
		d.Logger.WarnContext(bg, "lease back-channel logouts", "deliveries", len(ids), "err", err)
		return
	}
	d.attemptAll(ctx, leased, busy, wait)
}

// AttemptQueued makes the first attempts of deliveries that Enqueue wrote
// in the caller's transaction, now committed, as AttemptAll does, but
// under the leases Enqueue took: no transaction comes between the
// sign-out's commit and the requests to the apps. Call it once per
// commit. A delivery whose lease has too little left to cover an attempt
// (a commit that took seconds) is left to the queue, which claims it when
// that lease ends, and watched as AttemptAll watches a busy one.
func (d *Deliverer) AttemptQueued(ctx context.Context, qs []Queued, wait time.Duration) {
	if len(qs) == 0 {
		return
	}
	// An attempt takes at most Timeout, and reading the client, signing
	// and recording the outcome take attemptMargin at most, all within
	// the lease, or a worker could claim the delivery meanwhile.
	held := d.queueNow().Add(Timeout + attemptMargin)
	var fresh, late []store.Delivery
	for _, q := range qs {
		if q.LeaseUntil.After(held) {
			fresh = append(fresh, q.Delivery)
		} else {
			late = append(late, q.Delivery)
		}
	}
	d.attemptAll(ctx, fresh, late, wait)
}

// attemptMargin is what an attempt's lease must hold beyond Timeout when
// the attempt starts (AttemptQueued): the client's read, the token's
// signature and the outcome's record.
const attemptMargin = time.Second

// attemptAll makes the attempts of leased at once, each on its own
// goroutine, watches busy, and waits for both up to wait.
func (d *Deliverer) attemptAll(ctx context.Context, leased, busy []store.Delivery, wait time.Duration) {
	bg := context.WithoutCancel(ctx)
	watch, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	rec := newRecorder(d, len(leased), gatherFor)
	var wg sync.WaitGroup
	for _, del := range leased {
		wg.Go(func() {
			if err := d.attempt(bg, del, rec); err != nil {
				d.Logger.WarnContext(bg, "back-channel logout attempt", "jti", del.ID, "err", err)
			}
		})
	}
	for _, del := range busy {
		wg.Go(func() { d.watch(watch, del.ID, del.Attempts) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-watch.Done():
	}
}

// watch waits until another attempt at delivery id ends, or ctx does.
func (d *Deliverer) watch(ctx context.Context, id string, attempts int) {
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		del, err := d.Store.Delivery(ctx, id)
		if err != nil || del.State != store.DeliveryPending || del.Attempts > attempts {
			return
		}
	}
}

func levelOf(o Outcome) slog.Level {
	switch o {
	case Failed:
		return slog.LevelWarn
	case Retry:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// outcomeOf names what an attempt's recorded state means.
func outcomeOf(state store.DeliveryState) Outcome {
	switch state {
	case store.DeliveryDelivered:
		return Delivered
	case store.DeliveryPending:
		return Retry
	}
	return Failed
}
