package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sesame-id/sesame/internal/store"
)

var attemptTests = []test{
	{"AttemptsRecordedWithTheirOutcome", testAttemptsRecordedWithTheirOutcome},
	{"AttemptsGoWithARolledBackOutcome", testAttemptsGoWithARolledBackOutcome},
	{"DeliveryAttemptsReadsTheLatest", testDeliveryAttemptsReadsTheLatest},
	{"AttemptErrorIsBounded", testAttemptErrorIsBounded},
	{"AttemptsSweptWithTheirDelivery", testAttemptsSweptWithTheirDelivery},
}

// record records attempts on delivery id, each in a transaction of its
// own, as the Deliverer does.
func record(t *testing.T, s store.Store, id string, as ...store.DeliveryAttempt) {
	t.Helper()
	for _, a := range as {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RecordDeliveryAttempt(ctx, id, a) })
	}
}

// testAttemptsRecordedWithTheirOutcome: each attempt recorded on a
// delivery is a row of its history, numbered from 1, started Took before
// its outcome, with its status and error; they read back oldest first,
// per delivery, and a delivery with none, or unknown, has no entry.
func testAttemptsRecordedWithTheirOutcome(t *testing.T, s store.Store) {
	enqueue(t, s, delivery("d1", "app", t0), delivery("d2", "app", t0), delivery("quiet", "app", t0))
	record(t, s, "d1",
		store.DeliveryAttempt{At: at(time.Second), State: store.DeliveryPending, RetryAt: at(2 * time.Second),
			Status: 503, Error: "503 Service Unavailable", Took: 1500 * time.Microsecond},
		store.DeliveryAttempt{At: at(3 * time.Second), State: store.DeliveryPending, RetryAt: at(4 * time.Second),
			Error: "dial tcp 192.0.2.1:443: i/o timeout", Took: 5 * time.Second},
		store.DeliveryAttempt{At: at(5 * time.Second), State: store.DeliveryDelivered, Status: 200, Took: 12 * time.Millisecond})
	record(t, s, "d2", store.DeliveryAttempt{At: at(time.Minute), State: store.DeliveryFailed, Error: "client no longer exists"})
	got, err := s.DeliveryAttempts(t.Context(), []string{"d1", "d2", "quiet", "nope"}, 0)
	must(t, "read", err)
	equal(t, "attempts", got, map[string][]store.AttemptRecord{
		"d1": {
			{DeliveryID: "d1", N: 1, StartedAt: at(time.Second - 1500*time.Microsecond), Took: 1500 * time.Microsecond,
				Status: 503, Error: "503 Service Unavailable"},
			{DeliveryID: "d1", N: 2, StartedAt: at(-2 * time.Second), Took: 5 * time.Second,
				Error: "dial tcp 192.0.2.1:443: i/o timeout"},
			{DeliveryID: "d1", N: 3, StartedAt: at(5*time.Second - 12*time.Millisecond), Took: 12 * time.Millisecond, Status: 200},
		},
		"d2": {{DeliveryID: "d2", N: 1, StartedAt: at(time.Minute), Error: "client no longer exists"}},
	})
	d1, err := s.Delivery(t.Context(), "d1")
	must(t, "read d1", err)
	if d1.Attempts != 3 || d1.State != store.DeliveryDelivered || d1.LastStatus != 200 {
		t.Errorf("the delivery after its attempts: %+v", d1)
	}
	// An attempt on an unknown delivery is refused and leaves no history.
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RecordDeliveryAttempt(ctx, "nope", store.DeliveryAttempt{At: t0, State: store.DeliveryFailed, Status: 400})
	})
	wantErr(t, "attempt on an unknown delivery", err, store.ErrNotFound)
	if got, err := s.DeliveryAttempts(t.Context(), []string{"nope"}, 0); err != nil || len(got) != 0 {
		t.Errorf("history of an unknown delivery: %+v %v", got, err)
	}
}

// testAttemptsGoWithARolledBackOutcome: the history is written in the
// transaction that records the outcome, so an outcome that is rolled back
// leaves neither the count nor the row.
func testAttemptsGoWithARolledBackOutcome(t *testing.T, s store.Store) {
	enqueue(t, s, delivery("d1", "app", t0))
	boom := errors.New("boom")
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.RecordDeliveryAttempt(ctx, "d1", store.DeliveryAttempt{At: at(time.Second), State: store.DeliveryDelivered,
			Status: 200, Took: time.Millisecond}); err != nil {
			return err
		}
		// Inside, the transaction sees its own row.
		got, err := tx.DeliveryAttempts(ctx, []string{"d1"}, 0)
		if err != nil {
			return err
		}
		if len(got["d1"]) != 1 || got["d1"][0].N != 1 {
			t.Errorf("inside the transaction: %+v", got)
		}
		return boom
	})
	wantErr(t, "rolled back", err, boom)
	if got, err := s.DeliveryAttempts(t.Context(), []string{"d1"}, 0); err != nil || len(got) != 0 {
		t.Errorf("history after a rollback: %+v %v", got, err)
	}
	record(t, s, "d1", store.DeliveryAttempt{At: at(2 * time.Second), State: store.DeliveryDelivered, Status: 204})
	got, err := s.DeliveryAttempts(t.Context(), []string{"d1"}, 0)
	must(t, "read", err)
	if len(got["d1"]) != 1 || got["d1"][0].N != 1 || got["d1"][0].Status != 204 {
		t.Errorf("the attempt after the rollback is the first: %+v", got)
	}
}

// testDeliveryAttemptsReadsTheLatest: a delivery retried many times reads
// back its latest attempts, at most AttemptsShown, oldest first; a smaller
// limit gives fewer, a larger one no more.
func testDeliveryAttemptsReadsTheLatest(t *testing.T, s store.Store) {
	enqueue(t, s, delivery("d1", "app", t0))
	const n = store.AttemptsShown + 5
	for i := 1; i <= n; i++ {
		record(t, s, "d1", store.DeliveryAttempt{At: at(time.Duration(i) * time.Minute), State: store.DeliveryPending,
			RetryAt: at(time.Duration(i)*time.Minute + time.Second), Status: 500 + i, Took: time.Duration(i) * time.Millisecond})
	}
	nums := func(list []store.AttemptRecord) []int {
		var out []int
		for _, a := range list {
			out = append(out, a.N)
		}
		return out
	}
	for _, c := range []struct {
		limit, from int
	}{{0, 6}, {n, 6}, {3, n - 2}} {
		got, err := s.DeliveryAttempts(t.Context(), []string{"d1"}, c.limit)
		must(t, "read", err)
		var want []int
		for i := c.from; i <= n; i++ {
			want = append(want, i)
		}
		equal(t, fmt.Sprintf("attempt numbers read with a limit of %d", c.limit), nums(got["d1"]), want)
		for _, a := range got["d1"] {
			if a.Status != 500+a.N || a.Took != time.Duration(a.N)*time.Millisecond {
				t.Errorf("attempt %d: %+v", a.N, a)
			}
		}
	}
}

// testAttemptErrorIsBounded: an attempt's error is kept to
// MaxAttemptError bytes, cut between characters; the delivery's last
// error is as given.
func testAttemptErrorIsBounded(t *testing.T, s store.Store) {
	enqueue(t, s, delivery("d1", "app", t0))
	long := strings.Repeat("é", store.MaxAttemptError) // two bytes each, so a cut at an odd byte would split one
	long = "x" + long
	record(t, s, "d1", store.DeliveryAttempt{At: at(time.Second), State: store.DeliveryFailed, Status: 400, Error: long})
	got, err := s.DeliveryAttempts(t.Context(), []string{"d1"}, 0)
	must(t, "read", err)
	if len(got["d1"]) != 1 {
		t.Fatalf("attempts: %+v", got)
	}
	e := got["d1"][0].Error
	if len(e) > store.MaxAttemptError || len(e) < store.MaxAttemptError-3 || !utf8.ValidString(e) || !strings.HasPrefix(long, e) {
		t.Errorf("bounded error: %d bytes, valid %v: %q", len(e), utf8.ValidString(e), e)
	}
	if d, err := s.Delivery(t.Context(), "d1"); err != nil || d.LastError != long {
		t.Errorf("the delivery's last error: %v %d bytes", err, len(d.LastError))
	}
}

// testAttemptsSweptWithTheirDelivery: the attempts of a finished delivery
// past the retention go with it; those of a fresh one and of a pending
// one stay.
func testAttemptsSweptWithTheirDelivery(t *testing.T, s store.Store) {
	enqueue(t, s, delivery("old", "app", t0), delivery("fresh", "app", t0), delivery("pending", "app", t0))
	record(t, s, "old",
		store.DeliveryAttempt{At: at(time.Second), State: store.DeliveryPending, RetryAt: at(2 * time.Second), Status: 503},
		store.DeliveryAttempt{At: at(3 * time.Second), State: store.DeliveryDelivered, Status: 200})
	record(t, s, "fresh", store.DeliveryAttempt{At: at(40 * 24 * time.Hour), State: store.DeliveryFailed, Status: 400})
	record(t, s, "pending", store.DeliveryAttempt{At: at(time.Second), State: store.DeliveryPending, RetryAt: at(time.Hour), Status: 503})
	sweepKeeping(t, s, at(45*24*time.Hour), 30*24*time.Hour, 100)
	got, err := s.DeliveryAttempts(t.Context(), []string{"old", "fresh", "pending"}, 0)
	must(t, "read", err)
	if _, ok := got["old"]; ok {
		t.Errorf("the swept delivery's attempts stayed: %+v", got["old"])
	}
	if len(got["fresh"]) != 1 || len(got["pending"]) != 1 {
		t.Errorf("kept deliveries' attempts: %+v", got)
	}
	if _, err := s.Delivery(t.Context(), "old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old delivery: %v", err)
	}
}
