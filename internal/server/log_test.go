package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/logs"
)

// logged runs one request through the middleware to the handler h makes,
// logging JSON at info, and returns the response and the log records. h
// gets the server's logger, as every service gets Deps.Logger.
func logged(t *testing.T, h func(*slog.Logger) http.HandlerFunc, req *http.Request) (*httptest.ResponseRecorder, []map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	s := &Server{Config: config.Default(), Registry: prometheus.NewRegistry(),
		Logger: logs.New(&buf, logs.Options{Format: logs.JSON, Level: slog.LevelInfo})}
	rec := httptest.NewRecorder()
	s.middleware(h(s.Logger)).ServeHTTP(rec, req)
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a log line is not JSON: %q", line)
		}
		records = append(records, m)
	}
	return rec, records
}

// Each request is one info line with its request id (the response's
// X-Request-Id), method, path, status and duration; the path has no query
// string, and no header reaches the log. A record a handler logs during
// the request carries the same request id.
func TestOneLinePerRequestWithItsID(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/oidc/auth?code=hunter2-code&access_token=hunter2-token&state=s", nil)
	req.Header.Set("Authorization", "Bearer hunter2-bearer")
	req.Header.Set("Cookie", "sesame_session=hunter2-cookie")
	rec, records := logged(t, func(log *slog.Logger) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			log.InfoContext(r.Context(), "handler event", "client_id", "app-a")
			w.WriteHeader(http.StatusTeapot)
		}
	}, req)
	id := rec.Header().Get("X-Request-Id")
	if id == "" {
		t.Fatal("no X-Request-Id")
	}
	if len(records) != 2 {
		t.Fatalf("want the handler's record and one request line, got %d: %v", len(records), records)
	}
	event, line := records[0], records[1]
	if event["msg"] != "handler event" || event["request_id"] != id {
		t.Errorf("the handler's record does not carry the request id %s: %v", id, event)
	}
	want := map[string]any{"level": "INFO", "msg": "request", "request_id": id, "method": "GET", "path": "/oidc/auth", "status": float64(418)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("request line %s = %v, want %v (%v)", k, line[k], v, line)
		}
	}
	if d, ok := line["duration"].(float64); !ok || d < 0 {
		t.Errorf("request line has no duration: %v", line)
	}
	b, _ := json.Marshal(records)
	if strings.Contains(string(b), "hunter2") {
		t.Errorf("a query value or header reached the log: %s", b)
	}
}

// A panic is logged once, as an error with the request id, besides the
// request line with status 500.
func TestPanicIsLoggedWithTheRequestID(t *testing.T) {
	rec, records := logged(t, func(*slog.Logger) http.HandlerFunc {
		return func(http.ResponseWriter, *http.Request) { panic("boom") }
	}, httptest.NewRequest(http.MethodGet, "/x", nil))
	id := rec.Header().Get("X-Request-Id")
	if rec.Code != http.StatusInternalServerError || len(records) != 2 {
		t.Fatalf("status %d, records %v", rec.Code, records)
	}
	if records[0]["level"] != "ERROR" || records[0]["request_id"] != id || records[1]["status"] != float64(500) {
		t.Errorf("records %v", records)
	}
}
