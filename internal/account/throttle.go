package account

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// ErrThrottled: too many recent failures (A3); see ThrottledError.
var ErrThrottled = errors.New("too many failed attempts")

// ThrottledError says how long to wait; it wraps ErrThrottled. Nothing
// was evaluated: the answer is 429 with Retry-After, never a request held
// open.
type ThrottledError struct{ RetryAfter time.Duration }

// Error says the attempt is throttled and for how long.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; retry after %v", ErrThrottled, e.RetryAfter)
}

// Unwrap lets errors.Is see ErrThrottled.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// Rule is how the failures of one throttle key slow the attempts that
// follow (A3). The first Free failures cost nothing; the attempt after the
// Free-th waits Delay, and each further failure doubles the wait, up to
// MaxDelay. Failures decay: one is forgotten every Forget, so a key that
// stops failing is free again, and one that keeps failing is held near
// one attempt per Forget.
type Rule struct {
	Free            int
	Delay, MaxDelay time.Duration
	Forget          time.Duration
}

// Throttle holds the rules of sign-in throttling (A3). A zero Rule takes
// its default from DefaultThrottle.
type Throttle struct {
	// Account counts the failures of one account from one source
	// address: the key a guesser of one password runs into, which never
	// locks the account for anyone else.
	Account Rule
	// Address counts the failures of one source address whatever the
	// account: the much higher ceiling that stops one address spraying
	// every account, and that a busy office's honest typos stay under.
	Address Rule
}

// DefaultThrottle is Sesame's sign-in throttling.
//
//   - Account and source: five failures free, then 1 s, 2 s, 4 s... up to
//     15 minutes between attempts; one failure forgotten every 15
//     minutes. A guesser from one address gets about a hundred tries a
//     day at one account; a person who mistyped five times waits a second.
//   - Source address: a hundred failures free (one forgotten every 9 s: a
//     hundred per 15 minutes, sustained), then the same doubling wait.
//     A successful sign-in gives its attempt back, so only failures count.
var DefaultThrottle = Throttle{
	Account: Rule{Free: 5, Delay: time.Second, MaxDelay: 15 * time.Minute, Forget: 15 * time.Minute},
	Address: Rule{Free: 100, Delay: time.Second, MaxDelay: 15 * time.Minute, Forget: 9 * time.Second},
}

// DefaultClientRule throttles failed client authentication per client
// and source address (C3): the account rule, since one client from one
// address is, like one account, the target of a guesser.
var DefaultClientRule = DefaultThrottle.Account

// eventEvery is the least time between two failure events of one key:
// failures are counted, and a flood of them writes one event a minute,
// not one each (A3).
const eventEvery = time.Minute

func (t Throttle) withDefaults() Throttle {
	t.Account = t.Account.or(DefaultThrottle.Account)
	t.Address = t.Address.or(DefaultThrottle.Address)
	return t
}

// or is r, or def when r is zero.
func (r Rule) or(def Rule) Rule {
	if r == (Rule{}) {
		return def
	}
	return r
}

// delay is the wait after the n-th failure.
func (r Rule) delay(n int) time.Duration {
	if n < r.Free || r.Delay <= 0 {
		return 0
	}
	d := r.Delay
	for i := r.Free; i < n && d < r.MaxDelay; i++ {
		d *= 2
	}
	return min(d, r.MaxDelay)
}

// decay forgets the failures of th that r lets go by now: one per Forget
// since DecayFrom, which moves on by the periods spent, so no part of a
// period is lost between two failures.
func (r Rule) decay(th store.Throttle, now time.Time) store.Throttle {
	if th.Failures == 0 || r.Forget <= 0 || !now.After(th.DecayFrom) {
		return th
	}
	gone := now.Sub(th.DecayFrom) / r.Forget
	if gone >= time.Duration(th.Failures) {
		th.Failures, th.DecayFrom = 0, time.Time{}
		return th
	}
	th.Failures -= int(gone)
	th.DecayFrom = th.DecayFrom.Add(gone * r.Forget)
	return th
}

// fail counts one failure of th at now and sets the wait it earns. With
// events, it also claims the key's failure event when none was written in
// the last minute, and reports whether it did.
func (r Rule) fail(th store.Throttle, now time.Time, events bool) (store.Throttle, bool) {
	th = r.decay(th, now)
	if th.Failures == 0 {
		th.DecayFrom = now
	}
	th.Failures++
	if d := r.delay(th.Failures); d > 0 && now.Add(d).After(th.BlockedUntil) {
		th.BlockedUntil = now.Add(d)
	}
	due := events && (th.EventAt.IsZero() || now.Sub(th.EventAt) >= eventEvery)
	if due {
		th.EventAt = now
	}
	th.ExpiresAt = th.DecayFrom.Add(time.Duration(th.Failures) * r.Forget)
	for _, t := range []time.Time{th.BlockedUntil, th.EventAt.Add(eventEvery)} {
		if t.After(th.ExpiresAt) {
			th.ExpiresAt = t
		}
	}
	return th, due
}

// Source is the source address of a request as throttling counts it
// (A3): an IPv4 address, or the /64 of an IPv6 address, since one
// subscriber is commonly given a whole /64. An address that does not
// parse is kept as given; none is "".
func Source(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
}

// The throttle keys. The source comes first and never holds "|", so no
// username or client id can make one key read as another.
func accountKey(source, canonicalUsername string) string {
	return "acct:" + source + "|" + canonicalUsername
}

func addressKey(source string) string { return "addr:" + source }

func clientKey(source, clientID string) string { return "client:" + source + "|" + clientID }

// limit is one key an attempt is counted against.
type limit struct {
	key  string
	rule Rule
	// events: the key writes failure events (at most one a minute).
	events bool
}

// counted is one key as an admitted attempt left it.
type counted struct {
	limit
	before, after store.Throttle
	eventDue      bool
}

// admit decides whether an attempt may be evaluated and, when it may,
// counts it as a failure against every key in the same transaction, each
// key locked (A3): pessimistically, before the hash runs, so of a burst
// only as many as the keys allow are evaluated, and the rest are refused
// with a *ThrottledError without hashing. A success gives the count back
// (SignedIn), as does an attempt that could not be evaluated (refund).
func admit(ctx context.Context, st store.Store, now time.Time, limits []limit) ([]counted, error) {
	// A read first: a key already blocked is refused without a write
	// transaction, so a flood against a blocked key costs reads only.
	var wait time.Duration
	for _, l := range limits {
		th, err := st.Throttle(ctx, l.key)
		if err != nil {
			return nil, fmt.Errorf("read throttle: %w", err)
		}
		wait = max(wait, th.BlockedUntil.Sub(now))
	}
	if wait > 0 {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	// Keys are locked in ascending order, as every transaction that locks
	// several does, so two of them never wait for each other.
	limits = slices.Clone(limits)
	slices.SortFunc(limits, func(a, b limit) int { return strings.Compare(a.key, b.key) })
	var out []counted
	err := st.InTx(ctx, store.Routine, func(tx store.Tx) error {
		out, wait = nil, 0
		for _, l := range limits {
			th, err := tx.LockThrottle(ctx, l.key)
			if err != nil {
				return err
			}
			wait = max(wait, th.BlockedUntil.Sub(now))
			out = append(out, counted{limit: l, before: th})
		}
		if wait > 0 {
			return nil // refused: nothing to write
		}
		for i := range out {
			c := &out[i]
			c.after, c.eventDue = c.rule.fail(c.before, now, c.events)
			if err := tx.PutThrottle(ctx, c.after); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count attempt: %w", err)
	}
	if wait > 0 {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	return out, nil
}

// refund gives back the failure an admitted attempt was counted as, when
// it could not be evaluated (the hashing pool was full, the request
// ended): an overloaded server must not throttle the people it turned
// away. The wait the attempt set is lifted unless a later failure set
// another.
func refund(ctx context.Context, st store.Store, cs []counted) error {
	err := st.InTx(ctx, store.Routine, func(tx store.Tx) error {
		for _, c := range cs {
			th, err := tx.LockThrottle(ctx, c.key)
			if err != nil {
				return err
			}
			if th.BlockedUntil.Equal(c.after.BlockedUntil) {
				th.BlockedUntil = c.before.BlockedUntil
			}
			if err := giveBack(ctx, tx, th); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("give back an attempt: %w", err)
	}
	return nil
}

// giveBack stores th less one failure. A key with no row has nothing to
// give back.
func giveBack(ctx context.Context, tx store.Tx, th store.Throttle) error {
	if th == (store.Throttle{Key: th.Key}) {
		return nil
	}
	if th.Failures > 0 {
		th.Failures--
	}
	return tx.PutThrottle(ctx, th)
}
