package signout_test

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

var fourApps = []string{sesametest.AppA, sesametest.AppB, sesametest.AppC, sesametest.AppD}

// BenchmarkGlobalSignOutCommit: the O4 transaction alone for a session with
// 4 apps (revocations, 4 queued deliveries, receipt, session deleted), up to
// the commit, deliveries excluded (design §5).
func BenchmarkGlobalSignOutCommit(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	ctx := b.Context()
	b.ReportAllocs()
	// The commit's own CPU: this goroutine stays on one thread and that
	// thread's time is read, so the queue's worker delivering earlier
	// sign-outs in the background is not counted.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
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
		b.StartTimer()
		start := cpuTime()
		err = s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
			_, err := s.Signout.Global(ctx, tx, signout.Request{Session: cur.Session, ClientID: sesametest.AppA, Cause: signout.CauseEndSession})
			return err
		})
		cpu += cpuTime() - start
		n++
		if err != nil {
			b.Fatal(err)
		}
	}
	// What design §5 budgets: CPU, not the wait for the fsync.
	b.ReportMetric(float64(cpu)/float64(n), "cpu-ns/op")
}

// cpuTime is the calling thread's CPU time (user + system).
func cpuTime() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	var ru syscall.Rusage
	_ = syscall.Getrusage(rusageThread, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
