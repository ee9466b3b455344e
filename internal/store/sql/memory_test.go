package sql

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// BenchmarkMemoryWithMillionSessions fills a database with a million
// sessions and reports this process's memory while it serves session
// lookups (design §5: under 150 MB, not growing with stored sessions),
// and the bytes a session row takes in the database. One sub-benchmark
// per dialect; RSS is the whole process's, so run one at a time:
//
//	go test ./internal/store/sql/ -run '^$' -bench 'MillionSessions/sqlite' -benchtime 1x
//
// (PostgreSQL's own memory is the server's, not counted here.)
func BenchmarkMemoryWithMillionSessions(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) { benchMillionSessions(b, openTest(b, d, Options{})) })
	}
}

func benchMillionSessions(b *testing.B, st *Store) {
	ctx := context.Background()
	const total, batch = 1_000_000, 20_000
	now := time.Now()
	hash := func(i int) []byte { h := sha256.Sum256([]byte(fmt.Sprint(i))); return h[:] }
	for start := 0; start < total; start += batch {
		err := st.InTx(ctx, store.Routine, func(tx store.Tx) error {
			for i := start; i < start+batch; i++ {
				s := store.Session{ID: fmt.Sprintf("s%07d", i), CookieHash: hash(i), AccountID: fmt.Sprintf("a%d", i%1000),
					AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), MaxExpiresAt: now.Add(time.Hour)}
				if err := tx.CreateSession(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range 100_000 {
			if _, err := st.SessionByCookie(ctx, hash((i*100_000+j*7919)%total)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(rssMB(b), "MB-RSS")
	b.ReportMetric(float64(m.Sys)/(1<<20), "MB-Go-from-OS")
	b.ReportMetric(float64(m.HeapInuse)/(1<<20), "MB-heap-in-use")
	// Live rows only: PostgreSQL's size counts what deleted rows left
	// until compacted.
	if err := st.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	size, err := st.DBSize(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size)/total, "bytes/session-row")
}

// rssMB is the process's resident memory (Linux), which counts SQLite's
// own allocations too, unlike the Go runtime's statistics.
func rssMB(b *testing.B) float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
