package backchannel

import "time"

// SetQueueClock makes d read the queue's clock (due times, leases) from
// now instead of the wall clock, so a test can say when a retry is due
// and make a delivery due without waiting. Call it before d is used.
func SetQueueClock(d *Deliverer, now func() time.Time) { d.queueClock = now }

// SetPoll makes w look for due deliveries every d when nothing wakes it,
// instead of every PollEvery. Call it before Run.
func SetPoll(w *Worker, d time.Duration) { w.poll = d }
