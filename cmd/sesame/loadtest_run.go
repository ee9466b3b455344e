package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sesame-id/sesame/internal/web"
)

// loadResult is the figures of one workload.
type loadResult struct {
	name     string
	ops      int
	elapsed  time.Duration
	p50, p99 time.Duration
	errors   map[string]int // by kind
	cpu      float64        // server CPU seconds over the run; <0: unknown
	cpuWhy   string         // why it is unknown
	note     string
}

// String is the workload's figures line (and its note, when it has one).
func (r loadResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %7d ops  %9.1f ops/s  p50 %-9s  p99 %-9s  errors %d", r.name, r.ops,
		float64(r.ops)/r.elapsed.Seconds(), fmtDur(r.p50), fmtDur(r.p99), r.errorCount())
	if len(r.errors) > 0 {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(r.errors)) {
			kinds = append(kinds, fmt.Sprintf("%s: %d", k, r.errors[k]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(kinds, ", "))
	}
	switch {
	case r.cpu < 0:
		fmt.Fprintf(&b, "  server CPU/op n/a (%s)", r.cpuWhy)
	case r.ops == 0:
		b.WriteString("  server CPU/op n/a (no operation)")
	default:
		fmt.Fprintf(&b, "  server CPU/op %s", fmtDur(time.Duration(r.cpu/float64(r.ops)*float64(time.Second))))
	}
	if r.note != "" {
		fmt.Fprintf(&b, "\n%16s (%s)", "", r.note)
	}
	return b.String()
}

func (r loadResult) errorCount() int {
	n := 0
	for _, c := range r.errors {
		n += c
	}
	return n
}

// fmtDur shows a duration with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3gµs", float64(d)/float64(time.Microsecond))
	}
}

// run runs one workload for the configured duration with the configured
// concurrency: each worker's setup first, unmeasured, then operations in a
// loop until the duration ends. An operation under way then finishes.
func (lt *loadTester) run(ctx context.Context, name string) (loadResult, error) {
	wl := lt.workload(name)
	workers := make([]*worker, lt.opts.Concurrency)
	for i := range workers {
		workers[i] = &worker{}
		if wl.setup != nil {
			if err := wl.setup(ctx, workers[i]); err != nil {
				return loadResult{}, fmt.Errorf("setup: %w", err)
			}
		}
	}
	res := loadResult{name: name, errors: map[string]int{}, note: wl.note}
	cpu0, err := lt.cpuSeconds(ctx)
	if err != nil {
		res.cpu, res.cpuWhy = -1, err.Error()
		fmt.Fprintf(lt.stderr, "warning: no server CPU figure: %v\n", err)
	}

	var ops, errCount atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	deadline := start.Add(lt.opts.Duration)
	stopProgress := lt.progress(name, start, &ops, &errCount)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			var mine []time.Duration
			errs := map[string]int{}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				d, err := wl.op(ctx, w)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					errCount.Add(1)
					errs[errKind(err)]++
					if wl.setup != nil {
						// A broken refresh chain or a revoked token: start
						// a new one, unmeasured.
						_ = wl.setup(ctx, w)
					}
					continue
				}
				if d == 0 {
					d = time.Since(t0)
				}
				mine = append(mine, d)
				ops.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			for k, n := range errs {
				res.errors[k] += n
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	stopProgress()
	if ctx.Err() != nil {
		return res, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	res.ops = len(lat)
	if res.cpu >= 0 {
		cpu1, err := lt.cpuSeconds(ctx)
		if err != nil {
			res.cpu, res.cpuWhy = -1, err.Error()
		} else {
			res.cpu = cpu1 - cpu0
		}
	}
	slices.Sort(lat)
	res.p50, res.p99 = percentile(lat, 50), percentile(lat, 99)
	return res, nil
}

// percentile is the p-th percentile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

// progress prints one line a second on stderr while a workload runs; the
// function it returns stops it.
func (lt *loadTester) progress(name string, start time.Time, ops, errs *atomic.Int64) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				el := now.Sub(start)
				n := ops.Load()
				fmt.Fprintf(lt.stderr, "%-16s %4.0fs %7d ops  %9.1f ops/s  errors %d\n", name, el.Seconds(), n, float64(n)/el.Seconds(), errs.Load())
			}
		}
	}()
	return func() { close(stop); <-done }
}

// cpuSeconds reads process_cpu_seconds_total from Sesame's /metrics.
func (lt *loadTester) cpuSeconds(ctx context.Context) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, lt.opts.MetricsURL, nil)
	if err != nil {
		return 0, fmt.Errorf("--metrics-url: %w", err)
	}
	resp, err := (&http.Client{Transport: lt.transport, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", lt.opts.MetricsURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s answered %d (set --metrics-url when metrics_listen moves it)", lt.opts.MetricsURL, resp.StatusCode)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("%s: process_cpu_seconds_total %q: %w", lt.opts.MetricsURL, v, err)
			}
			return f, nil
		}
	}
	return 0, fmt.Errorf("%s has no process_cpu_seconds_total", lt.opts.MetricsURL)
}

// opError is a failed operation; its message is its kind, as the figures
// count them.
type opError struct{ kind string }

func (e *opError) Error() string { return e.kind }

func opErr(kind string) error { return &opError{kind: kind} }

// statusErr is an answer a flow did not expect at step.
func statusErr(step string, p page) error {
	if p.location != "" {
		return opErr(fmt.Sprintf("%s: http %d to an unexpected place", step, p.status))
	}
	return opErr(fmt.Sprintf("%s: http %d", step, p.status))
}

// transportErr names a failure to talk to Sesame by its kind.
func transportErr(err error) error {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return &opError{kind: "timeout"}
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, syscall.ECONNREFUSED):
		return &opError{kind: "connection refused"}
	case errors.Is(err, syscall.ECONNRESET):
		return &opError{kind: "connection reset"}
	}
	return &opError{kind: "connection"}
}

// errKind is the kind an error counts under.
func errKind(err error) string {
	var oe *opError
	if errors.As(err, &oe) {
		return oe.kind
	}
	return "other"
}

func newJar() (http.CookieJar, error) { return cookiejar.New(nil) }

// firstForm reads the first form of a page as a browser would post it:
// its absolute action and its hidden inputs (the browser-bound csrf token
// among them).
func firstForm(p page) (string, url.Values, error) {
	raw, form, ok := web.FirstForm(p.body)
	if !ok {
		return "", nil, opErr(fmt.Sprintf("no form on the page (http %d)", p.status))
	}
	action, err := p.url.Parse(raw)
	if err != nil {
		return "", nil, opErr("bad form action")
	}
	return action.String(), form, nil
}
