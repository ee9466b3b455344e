package sql

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// BenchmarkSweepBatch measures how long one sweep batch holds the writer:
// the transaction store.Sweeper.Once runs again and again, SweepBatch rows
// at a time, while requests wait for the writer between batches (the
// budget store.SweepBatch names: at most 10 ms a batch). Each iteration is
// one such transaction, timed from InTx to its commit; the benchmark
// reports the slowest batch, the median and the 99th percentile, and the
// rows each batch deleted. It reports; it never fails on a time.
//
// The expired rows are swept from among live ones that must survive, at
// two sizes of the live database (live=20k, live=200k: as many live
// sessions, each with two authorizations, and as many grants, access and
// refresh tokens, and a tenth as many used codes), so that a batch pays
// for indexes as deep as they are in use. Each kind of row has a
// sub-benchmark of its own, since Sweep takes the kinds one after another
// and a run of a few hundred batches would otherwise meet only the first
// ones: a backlog of 100 batches of that kind is stored before the timer,
// and again, with the timer stopped, each time the batches have taken it
// all. After the batches every remaining row is counted: the live ones
// must all be there, and nothing else.
//
// The expired rows' expiries are scattered over the hour before now, in
// random order, as the live rows' are over their lifetimes. They are
// stored together, after the live rows, as tokens and grants of a fixed
// lifetime are in a real database (those that expire first were made
// first); sessions, whose expiry moves with use, would in a real table lie
// scattered among live ones, on more pages.
func BenchmarkSweepBatch(b *testing.B) {
	benchEachDialect(b, func(b *testing.B, s *Store) {
		sd := &sweepSeeder{
			s:    s,
			now:  time.Now().UTC(),
			rng:  rand.New(rand.NewPCG(1, 2)),
			live: map[*sweepKind]int{},
		}
		for _, sessions := range []int{20_000, 200_000} {
			b.Run(fmt.Sprintf("live=%dk", sessions/1000), func(b *testing.B) {
				start := time.Now()
				sd.topUp(b, sessions)
				b.Logf("%d live sessions and their rows stored (%v to store what was missing)", sessions, time.Since(start).Round(time.Second))
				for _, k := range sweepKinds {
					b.Run(k.name, func(b *testing.B) { benchSweepKind(b, sd, k) })
				}
			})
		}
	})
}

// benchSweepKind times batches sweeping a backlog of k's rows.
func benchSweepKind(b *testing.B, sd *sweepSeeder, k *sweepKind) {
	ctx := context.Background()
	backlog := 100 * store.SweepBatch
	remaining := 0
	var times []time.Duration
	var rows int64
	for b.Loop() {
		if remaining == 0 {
			b.StopTimer()
			sd.seed(b, k, backlog, sweepDue)
			remaining = backlog
			b.StartTimer()
		}
		n, took, err := sweepBatch(ctx, sd.s, sd.now)
		if err != nil {
			b.Fatal(err)
		}
		// Only the backlog is due: a batch that takes more took live
		// rows, one that takes less left due rows behind.
		if want := min(store.SweepBatch, remaining); n != int64(want) {
			b.Fatalf("a batch swept %d rows with %d of %s due, want %d", n, remaining, k.name, want)
		}
		times = append(times, took)
		rows += n
		remaining -= int(n)
	}
	b.StopTimer()
	// The rest of the backlog, and then a batch that must find nothing:
	// were a live row taken in place of a due one, the one left behind
	// shows here, and the live one is missing from the count.
	for {
		n, _, err := sweepBatch(ctx, sd.s, sd.now)
		if err != nil {
			b.Fatal(err)
		}
		if want := min(store.SweepBatch, remaining); n != int64(want) {
			b.Fatalf("a batch swept %d rows with %d of %s due, want %d", n, remaining, k.name, want)
		}
		if n == 0 {
			break
		}
		remaining -= int(n)
	}
	sd.checkLive(b)

	slices.Sort(times)
	b.ReportMetric(sweepMillis(times[len(times)-1]), "max-ms/batch")
	b.ReportMetric(sweepMillis(sweepPercentile(times, 0.50)), "p50-ms/batch")
	b.ReportMetric(sweepMillis(sweepPercentile(times, 0.99)), "p99-ms/batch")
	b.ReportMetric(float64(rows)/float64(len(times)), "rows/batch")
}

// sweepBatch runs the transaction store.Sweeper.Once runs for each batch,
// and returns how many rows it swept and how long it held the writer.
func sweepBatch(ctx context.Context, s *Store, now time.Time) (int64, time.Duration, error) {
	var n int64
	start := time.Now()
	err := s.InTx(ctx, store.Routine, func(tx store.Tx) error {
		ok, err := tx.TryLock(ctx, "sweep")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("another sweeper holds the lock")
		}
		n, err = tx.Sweep(ctx, now, store.DefaultAuditRetention, store.SweepBatch)
		return err
	})
	return n, time.Since(start), err
}

// sweepPercentile is the nearest-rank p-th percentile of sorted.
func sweepPercentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func sweepMillis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Whether seed stores rows already due for the sweeper, or live ones.
const (
	sweepLive = false
	sweepDue  = true
)

// sweepKind is one kind of row the sweeper deletes.
type sweepKind struct {
	name string
	// perSession is how many live units of this kind the database holds
	// per live session.
	perSession float64
	// rows are the rows one unit puts in each table.
	rows map[string]int
	// put stores unit i, due for the sweeper or live.
	put func(ctx context.Context, tx store.Tx, sd *sweepSeeder, i int, due bool) error
}

// sweepKinds in the order Sweep takes them (sweepSteps), for reading the
// results; each is benchmarked on its own.
var sweepKinds = []*sweepKind{
	{
		name: "sessions", perSession: 1,
		// Sweep counts the session; its authorizations go with it.
		rows: map[string]int{"sessions": 1, "authorizations": 2},
		put: func(ctx context.Context, tx store.Tx, sd *sweepSeeder, i int, due bool) error {
			id := fmt.Sprint("session-", i)
			expires := sd.expiry(due, 14*24*time.Hour)
			created := expires.Add(-14 * 24 * time.Hour)
			err := tx.CreateSession(ctx, store.Session{
				ID: id, CookieHash: benchHash(id), AccountID: fmt.Sprint("account-", i%1000),
				AuthTime: created, AMR: []string{"pwd"}, CreatedAt: created, LastSeenAt: created,
				ExpiresAt: expires, MaxExpiresAt: created.Add(90 * 24 * time.Hour),
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", IP: "192.0.2.1",
			})
			if err != nil {
				return err
			}
			for _, c := range []string{"app-a", "app-b"} {
				err := tx.PutAuthorization(ctx, store.Authorization{
					SessionID: id, ClientID: c, SID: id + c, GrantID: fmt.Sprint("grant-", i, c), CreatedAt: created,
				})
				if err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		name: "used-codes", perSession: 0.1,
		rows: map[string]int{"used_codes": 1},
		put: func(ctx context.Context, tx store.Tx, sd *sweepSeeder, i int, due bool) error {
			// A code lives a minute; its used key is 128 bits (token.usedKey).
			return tx.UseAuthCode(ctx, benchHash(fmt.Sprint("code-", i))[:16], sd.expiry(due, time.Minute))
		},
	},
	{
		name: "access-tokens", perSession: 1,
		rows: map[string]int{"access_tokens": 1},
		put: func(ctx context.Context, tx store.Tx, sd *sweepSeeder, i int, due bool) error {
			expires := sd.expiry(due, time.Hour)
			return tx.CreateAccessToken(ctx, store.AccessToken{
				Hash: benchHash(fmt.Sprint("access-", i)), GrantID: fmt.Sprint("grant-", i), ClientID: "app-a",
				AccountID: fmt.Sprint("account-", i%1000), Scopes: []string{"openid", "profile"},
				CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires,
			})
		},
	},
	{
		name: "refresh-tokens", perSession: 1,
		rows: map[string]int{"refresh_tokens": 1},
		put: func(ctx context.Context, tx store.Tx, sd *sweepSeeder, i int, due bool) error {
			expires := sd.expiry(due, 14*24*time.Hour)
			created := expires.Add(-14 * 24 * time.Hour)
			return tx.CreateRefreshToken(ctx, store.RefreshToken{
				Hash: benchHash(fmt.Sprint("refresh-", i)), GrantID: fmt.Sprint("grant-", i), ClientID: "app-a",
				AccountID: fmt.Sprint("account-", i%1000), SID: fmt.Sprint("sid-", i), AuthTime: created,
				AMR: []string{"pwd"}, Scopes: []string{"openid", "offline_access"}, CreatedAt: created, ExpiresAt: expires,
			})
		},
	},
	{
		// Expired grants, and grants revoked more than the day they are
		// kept; every twentieth live one was revoked within that day.
		name: "grants", perSession: 1,
		rows: map[string]int{"grants": 1},
		put: func(ctx context.Context, tx store.Tx, sd *sweepSeeder, i int, due bool) error {
			const ttl = 30 * 24 * time.Hour
			g := store.Grant{
				ID: fmt.Sprint("grant-", i), AccountID: fmt.Sprint("account-", i%1000), ClientID: "app-a",
				SessionID: fmt.Sprint("session-", i), Scopes: []string{"openid", "offline_access"},
			}
			switch {
			case due && i%2 == 0:
				g.ExpiresAt = sd.expiry(due, ttl)
			case due:
				g.ExpiresAt = sd.expiry(sweepLive, ttl)
				g.RevokedAt = sd.expiry(due, 0).Add(-revokedGrantKeep)
				g.RevokeReason = "bench"
			default:
				g.ExpiresAt = sd.expiry(sweepLive, ttl)
				if i%20 == 0 {
					g.RevokedAt = sd.now.Add(-revokedGrantKeep / 2)
					g.RevokeReason = "bench"
				}
			}
			g.CreatedAt = g.ExpiresAt.Add(-ttl)
			return tx.CreateGrant(ctx, g)
		},
	},
}

// sweepSeeder stores rows for BenchmarkSweepBatch and keeps count of the
// live ones.
type sweepSeeder struct {
	s *Store
	// now is the sweeper's now: rows before it are due.
	now time.Time
	rng *rand.Rand
	// next numbers units, so every id and hash is new.
	next int
	// live counts the live units of each kind.
	live map[*sweepKind]int
}

// expiry is a time in the hour before now for a due row, or within
// lifetime after now for a live one; never within a second of now, so the
// stored precision (microseconds on PostgreSQL) cannot move it across.
func (sd *sweepSeeder) expiry(due bool, lifetime time.Duration) time.Time {
	if due {
		return sd.now.Add(-time.Second - time.Duration(sd.rng.Int64N(int64(time.Hour))))
	}
	return sd.now.Add(time.Second + time.Duration(sd.rng.Int64N(int64(max(lifetime, time.Second)))))
}

// topUp stores live rows of every kind until the database holds sessions
// live sessions and the other kinds in proportion.
func (sd *sweepSeeder) topUp(b *testing.B, sessions int) {
	for _, k := range sweepKinds {
		if n := int(float64(sessions)*k.perSession) - sd.live[k]; n > 0 {
			sd.seed(b, k, n, sweepLive)
		}
	}
}

// seed stores n units of k, in transactions of a few thousand rows.
func (sd *sweepSeeder) seed(b *testing.B, k *sweepKind, n int, due bool) {
	b.Helper()
	ctx := context.Background()
	const perTx = 2000
	for done := 0; done < n; {
		m := min(perTx, n-done)
		err := sd.s.InTx(ctx, store.Routine, func(tx store.Tx) error {
			for j := range m {
				if err := k.put(ctx, tx, sd, sd.next+j, due); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("seed %s: %v", k.name, err)
		}
		sd.next += m
		done += m
	}
	if !due {
		sd.live[k] += n
	}
}

// checkLive fails b unless each table holds exactly its live rows: the
// sweeper took every due row and no live one.
func (sd *sweepSeeder) checkLive(b *testing.B) {
	b.Helper()
	want := map[string]int{}
	for _, k := range sweepKinds {
		for table, rows := range k.rows {
			want[table] += rows * sd.live[k]
		}
	}
	for table, w := range want {
		var n int64
		if err := sd.s.e.reads().queryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			b.Fatalf("count %s: %v", table, err)
		}
		if n != int64(w) {
			b.Errorf("%s holds %d rows after the sweep, want the %d live ones", table, n, w)
		}
	}
}
