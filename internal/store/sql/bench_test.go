package sql

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// benchEachDialect runs fn as one sub-benchmark per dialect, on a fresh
// store (the PostgreSQL one skips when SESAME_TEST_POSTGRES is unset).
func benchEachDialect(b *testing.B, fn func(b *testing.B, s *Store)) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) { fn(b, openTest(b, d, Options{})) })
	}
}

func benchHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// seedSessions stores n sessions with two authorizations each, as the
// cookie lookup meets them in production.
func seedSessions(b *testing.B, s store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	err := s.InTx(ctx, store.Routine, func(tx store.Tx) error {
		for i := range n {
			id := fmt.Sprint("session-", i)
			err := tx.CreateSession(ctx, store.Session{
				ID: id, CookieHash: benchHash(id), AccountID: fmt.Sprint("account-", i%100),
				AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, LastSeenAt: now,
				ExpiresAt: now.Add(14 * 24 * time.Hour), MaxExpiresAt: now.Add(90 * 24 * time.Hour),
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", IP: "192.0.2.1",
			})
			if err != nil {
				return err
			}
			for _, c := range []string{"app-a", "app-b"} {
				err := tx.PutAuthorization(ctx, store.Authorization{
					SessionID: id, ClientID: c, SID: id + c, GrantID: "grant-" + id + c, CreatedAt: now,
				})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSessionByCookie is the lookup every request with a cookie
// makes, on the reader pool.
func BenchmarkSessionByCookie(b *testing.B) {
	benchEachDialect(b, func(b *testing.B, s *Store) {
		const n = 10_000
		seedSessions(b, s, n)
		ctx := context.Background()
		hashes := make([][]byte, n)
		for i := range hashes {
			hashes[i] = benchHash(fmt.Sprint("session-", i))
		}
		i := 0
		for b.Loop() {
			sess, err := s.SessionByCookie(ctx, hashes[i%n])
			if err != nil || len(sess.Authorizations) != 2 {
				b.Fatal(sess, err)
			}
			i++
		}
	})
}

// BenchmarkSessionByCookieParallel is the same lookup from many requests
// at once: the reader pool serves them side by side.
func BenchmarkSessionByCookieParallel(b *testing.B) {
	benchEachDialect(b, func(b *testing.B, s *Store) {
		const n = 10_000
		seedSessions(b, s, n)
		ctx := context.Background()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.SessionByCookie(ctx, benchHash(fmt.Sprint("session-", i%n))); err != nil {
					b.Error(err)
					return
				}
				i += 7
			}
		})
	})
}

// BenchmarkConsumeRefreshToken is the store's share of a refresh (design
// G4, G5): one transaction that consumes the presented token and stores
// its successor and a new access token. A refresh is routine (design §2);
// the durable variant shows what the durability key strict costs it: on
// SQLite (synchronous=FULL) the difference is the WAL fsync at each
// commit, I/O wait rather than CPU.
func BenchmarkConsumeRefreshToken(b *testing.B) {
	benchEachDialect(b, func(b *testing.B, s *Store) {
		for _, dur := range []store.Durability{store.Routine, store.Durable} {
			b.Run(name(dur), func(b *testing.B) { benchRefresh(b, s, dur) })
		}
	})
}

func benchRefresh(b *testing.B, s *Store, dur store.Durability) {
	ctx := context.Background()
	now := time.Now()
	// Tokens of its own for each run: the sub-benchmarks share the store.
	prefix := fmt.Sprint(name(dur), time.Now().UnixNano(), "-")
	token := func(i int) store.RefreshToken {
		return store.RefreshToken{
			Hash: benchHash(fmt.Sprint(prefix, "refresh-", i)), GrantID: "grant", ClientID: "app", AccountID: "account",
			SID: "sid", AuthTime: now, AMR: []string{"pwd"}, Scopes: []string{"openid", "offline_access"},
			CreatedAt: now, ExpiresAt: now.Add(14 * 24 * time.Hour),
		}
	}
	if err := s.InTx(ctx, dur, func(tx store.Tx) error { return tx.CreateRefreshToken(ctx, token(0)) }); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		err := s.InTx(ctx, dur, func(tx store.Tx) error {
			if err := tx.ConsumeRefreshToken(ctx, benchHash(fmt.Sprint(prefix, "refresh-", i)), now); err != nil {
				return err
			}
			if err := tx.CreateAccessToken(ctx, store.AccessToken{
				Hash: benchHash(fmt.Sprint(prefix, "access-", i)), GrantID: "grant", ClientID: "app", AccountID: "account",
				Scopes: []string{"openid"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
			}); err != nil {
				return err
			}
			return tx.CreateRefreshToken(ctx, token(i+1))
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkStatementRoundTrip is the floor under every statement: one
// point read through the store's reader (SQLite: a query on a reader
// connection in this process; PostgreSQL: a round trip to the server,
// whose own CPU cpu-ns/op leaves out). On PostgreSQL it is why an
// operation cannot come near its SQLite CPU statement by statement
// (DEVELOPERS.md):
//
//	SESAME_TEST_POSTGRES=... go test -run '^$' -bench StatementRoundTrip ./internal/store/sql/
func BenchmarkStatementRoundTrip(b *testing.B) {
	benchEachDialect(b, func(b *testing.B, s *Store) {
		ctx := b.Context()
		q := s.e.reads()
		var n int64
		cpu0 := processCPU()
		for b.Loop() {
			if err := q.queryRow(ctx, "SELECT $1::bigint", int64(1)).Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	})
}
