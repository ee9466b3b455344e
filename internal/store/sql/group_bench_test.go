package sql

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// BenchmarkGroupedCommit measures what grouping concurrent writers into
// one commit could save (issue 12): the writes of a refresh (consume one
// token, store its successor and an access token), group refreshes to a
// transaction. Group 1 is today's one commit per refresh; 4 is what four
// concurrent clients could share, 16 a busy server. It reports CPU and
// wall time per refresh, not per transaction, so the saving is read
// across the group sizes. It is an upper bound: a real group commit would
// add the wait to fill a group and the hand-over between goroutines.
func BenchmarkGroupedCommit(b *testing.B) {
	benchEachDialect(b, func(b *testing.B, s *Store) {
		for _, dur := range []store.Durability{store.Routine, store.Durable} {
			for _, group := range []int{1, 4, 16} {
				b.Run(fmt.Sprintf("%s/group-%d", name(dur), group), func(b *testing.B) { benchGroup(b, s, dur, group) })
			}
		}
	})
}

func benchGroup(b *testing.B, s *Store, dur store.Durability, group int) {
	ctx := context.Background()
	now := time.Now()
	prefix := fmt.Sprint(name(dur), group, time.Now().UnixNano(), "-")
	token := func(chain, i int) store.RefreshToken {
		return store.RefreshToken{
			Hash: benchHash(fmt.Sprint(prefix, chain, "-refresh-", i)), GrantID: "grant", ClientID: "app", AccountID: "account",
			SID: "sid", AuthTime: now, AMR: []string{"pwd"}, Scopes: []string{"openid", "offline_access"},
			CreatedAt: now, ExpiresAt: now.Add(14 * 24 * time.Hour),
		}
	}
	err := s.InTx(ctx, dur, func(tx store.Tx) error {
		for c := range group {
			if err := tx.CreateRefreshToken(ctx, token(c, 0)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	i, refreshes := 0, 0
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		err := s.InTx(ctx, dur, func(tx store.Tx) error {
			for c := range group {
				if err := tx.ConsumeRefreshToken(ctx, token(c, i).Hash, now); err != nil {
					return err
				}
				if err := tx.CreateAccessToken(ctx, store.AccessToken{
					Hash: benchHash(fmt.Sprint(prefix, c, "-access-", i)), GrantID: "grant", ClientID: "app", AccountID: "account",
					Scopes: []string{"openid"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
				}); err != nil {
					return err
				}
				if err := tx.CreateRefreshToken(ctx, token(c, i+1)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
		refreshes += group
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(refreshes), "cpu-ns/refresh")
	b.ReportMetric(float64(b.Elapsed())/float64(refreshes), "ns/refresh")
}

// processCPU is the process's CPU time (user + system): SQLite runs in
// it; PostgreSQL's own CPU is not counted.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
