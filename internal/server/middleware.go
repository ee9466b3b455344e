package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sesame-id/sesame/internal/logs"
	"github.com/sesame-id/sesame/internal/ui"
)

// maxBody bounds every request body: no legitimate request to Sesame is
// larger, and reading more would let one client exhaust memory (W2).
const maxBody = 64 << 10

// maxQuery bounds every query string (W2, spec S9): the longest legitimate
// one, an authorization request at its parameters' limits, is well under
// it.
const maxQuery = 8 << 10

// RequestID returns the id middleware gave the request (its X-Request-Id),
// which a logger made by package logs adds to every record logged with
// the request's context.
func RequestID(ctx context.Context) string { return logs.RequestID(ctx) }

// middleware wraps every route: a request id, a body limit, panic recovery
// (never a bare 500 without a log line), an access log and metrics. The
// access log is one line per request at info: its id, method, path,
// status and duration. The path is logged without its query string, which
// can carry codes and tokens; no header is logged.
func (s *Server) middleware(next http.Handler) http.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sesame_http_requests_total", Help: "HTTP requests by route pattern and status.",
	}, []string{"method", "route", "status"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sesame_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route"})
	s.Registry.MustRegister(requests, latency)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		ctx := logs.WithRequestID(r.Context(), id)
		if s.Config.RequestTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.Config.RequestTimeout)
			defer cancel()
		}
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rec.Header().Set("X-Request-Id", id)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.ErrorContext(r.Context(), "panic serving request", "request_id", id, "path", r.URL.Path, "panic", fmt.Sprint(v))
				if !rec.wrote {
					rec.Header().Set("Content-Type", "text/plain; charset=utf-8")
					rec.WriteHeader(http.StatusInternalServerError)
					_, _ = rec.Write([]byte("Sesame hit an internal error (request " + id + "). Please try again.\n"))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			requests.WithLabelValues(r.Method, route, strconv.Itoa(rec.status)).Inc()
			latency.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
			// request_id is named here, not left to the handler that
			// adds it, so the line has it with any logger. Probes of a
			// load balancer and a metrics scraper, every few seconds,
			// would drown the rest: they log at debug unless they fail.
			level := slog.LevelInfo
			if (route == "GET /healthz" || route == "GET /metrics") && rec.status < 400 {
				level = slog.LevelDebug
			}
			s.Logger.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
		}()
		next.ServeHTTP(rec, r)
	})
}

// limitQuery refuses a query string longer than maxQuery with 414 before
// any handler reads it, so nothing of it is parsed or stored (W2): an error
// page for a browser, a JSON error for anything else.
func limitQuery(pages *ui.Pages, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) <= maxQuery {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		msg := "The address is too long: its query string is over " + strconv.Itoa(maxQuery) + " bytes."
		if strings.Contains(r.Header.Get("Accept"), "text/html") {
			pages.Error(w, http.StatusRequestURITooLong, ui.ErrorData{Title: "Request refused", Message: msg, Code: "invalid_request", NoRedirect: true})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestURITooLong)
		b, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": msg})
		_, _ = w.Write(b)
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// cors lets browser apps (SPAs) call the back-channel endpoints. It is never
// applied to the authorization endpoint (spec A19); no credentials are
// allowed, so a page cannot ride on the person's Sesame cookie.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// postOnly answers anything but POST (and a CORS preflight) with 405 and a
// JSON error, as these endpoints speak JSON.
func postOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"use POST"}`))
			return
		}
		h(w, r)
	})
}
