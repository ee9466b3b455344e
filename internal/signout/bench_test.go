package signout_test

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

var fourApps = []string{sesametest.AppA, sesametest.AppB, sesametest.AppC, sesametest.AppD}

// BenchmarkGlobalSignOutCommit: the O4 transaction alone for a session with
// 4 apps (revocations, 4 queued deliveries, receipt, session deleted), up to
// the commit, deliveries excluded (design §5). It runs twice:
//
//   - own: the sign-ins that set each session up are flushed to disk
//     before the timer starts, so the figure is the sign-out's own work
//     and its own pages' fsync. This is the budget's figure.
//   - after-sign-ins: they are not, so the sign-out's fsync also writes
//     the pages of those routine commits (synchronous=NORMAL leaves them
//     to the next fsync: this one, or the checkpointer's within a second).
//     That is their durability's cost, paid late, shown for comparison.
func BenchmarkGlobalSignOutCommit(b *testing.B) {
	for _, flush := range []struct {
		name  string
		flush bool
	}{{"own", true}, {"after-sign-ins", false}} {
		b.Run(flush.name, func(b *testing.B) { globalSignOutCommit(b, flush.flush) })
	}
}

func globalSignOutCommit(b *testing.B, flush bool) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	ctx := b.Context()
	b.ReportAllocs()
	// The commit's own CPU: this goroutine stays on one thread and that
	// thread's time is read, so the queue's worker delivering earlier
	// sign-outs in the background is not counted.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu, statements time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		br := s.NewBrowser(b)
		for _, app := range fourApps {
			br.SignIn(app, "alice", nil)
		}
		cur, err := s.Sessions.FromCookie(ctx, br.SessionCookie())
		if err != nil || len(cur.Session.Authorizations) != 4 {
			b.Fatalf("session %+v %v", cur.Session, err)
		}
		if flush {
			syscall.Sync()
		}
		b.StartTimer()
		start := threadCPU()
		var before time.Duration
		err = s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
			_, err := s.Signout.Global(ctx, tx, signout.Request{Session: cur.Session, ClientID: sesametest.AppA, Cause: signout.CauseEndSession})
			before = threadCPU()
			return err
		})
		end := threadCPU()
		cpu += end - start
		statements += before - start
		n++
		if err != nil {
			b.Fatal(err)
		}
	}
	// What design §5 budgets: CPU, not the wait for the fsync; and of it,
	// what the statements took before the commit.
	b.ReportMetric(float64(cpu)/float64(n), "cpu-ns/op")
	b.ReportMetric(float64(statements)/float64(n), "statements-cpu-ns/op")
}

// threadCPU is the calling thread's CPU time (user + system), to the
// nanosecond: getrusage(RUSAGE_THREAD) counts only what the scheduler has
// accounted at its last tick or switch, so around one transaction it
// also charged whatever ran on the thread before it (the setup's tail).
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}
