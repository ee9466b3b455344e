package sqlite_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sqlite"
)

// BenchmarkMemoryWithMillionSessions fills a database with a million
// sessions and reports the process's memory while it serves session
// lookups (design §5: under 150 MB, not growing with stored sessions). Run
// it alone: go test ./internal/store/sqlite/ -run '^$' -bench MillionSessions -benchtime 1x
func BenchmarkMemoryWithMillionSessions(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "big.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const total, batch = 1_000_000, 20_000
	now := time.Now()
	hash := func(i int) []byte { h := sha256.Sum256([]byte(fmt.Sprint(i))); return h[:] }
	for start := 0; start < total; start += batch {
		err := st.InTx(ctx, func(tx store.Tx) error {
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
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(rssMB(b), "MB-RSS")
	b.ReportMetric(float64(m.Sys)/(1<<20), "MB-Go-from-OS")
	b.ReportMetric(float64(m.HeapInuse)/(1<<20), "MB-heap-in-use")
	size, _ := st.DBSize(ctx)
	b.ReportMetric(float64(size)/total, "bytes/session-row")
}

// rssMB is the process's resident memory (Linux), which counts SQLite's
// own allocations too, unlike the Go runtime's statistics.
func rssMB(b *testing.B) float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
