package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// An explicit format is kept; with none, anything but a terminal (a
// buffer, a file) gets JSON.
func TestFormatFor(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range []struct {
		format string
		w      io.Writer
		want   string
	}{
		{"text", &bytes.Buffer{}, Text},
		{"json", &bytes.Buffer{}, JSON},
		{"", &bytes.Buffer{}, JSON},
		{"", f, JSON},
	} {
		if got := FormatFor(c.format, c.w); got != c.want {
			t.Errorf("FormatFor(%q, %T) = %q, want %q", c.format, c.w, got, c.want)
		}
	}
}

// A record logged with a request's context carries its request_id, in
// either format, also through With; one that names its own is left alone.
func TestRecordsCarryTheRequestID(t *testing.T) {
	for _, format := range []string{Text, JSON} {
		var buf bytes.Buffer
		log := New(&buf, Options{Format: format, Level: slog.LevelDebug})
		ctx := WithRequestID(context.Background(), "req-123")
		log.With("component", "test").InfoContext(ctx, "inside a request")
		log.Info("outside any request")
		log.InfoContext(ctx, "own id", "request_id", "req-own")
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 3 {
			t.Fatalf("%s: %d lines: %s", format, len(lines), buf.String())
		}
		want := map[string]string{Text: "request_id=req-123", JSON: `"request_id":"req-123"`}[format]
		if !strings.Contains(lines[0], want) {
			t.Errorf("%s: no request id in %s", format, lines[0])
		}
		if strings.Contains(lines[1], "request_id") {
			t.Errorf("%s: a record outside a request has a request id: %s", format, lines[1])
		}
		if strings.Count(lines[2], "request_id") != 1 || !strings.Contains(lines[2], "req-own") {
			t.Errorf("%s: a record naming its own id: %s", format, lines[2])
		}
		if format == JSON {
			for _, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Errorf("not JSON: %s", l)
				}
			}
		}
	}
}

// An attribute named like a secret is written as [redacted], whatever
// its case, also in a group.
func TestSecretsAreRedacted(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, Options{Format: JSON, Level: slog.LevelInfo})
	log.Info("oops", "password", "hunter2-pw", "Authorization", "Bearer hunter2-token",
		slog.Group("req", slog.String("cookie", "hunter2-cookie"), slog.String("code", "hunter2-code")),
		"client_id", "app-a")
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("a secret was logged: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"client_id":"app-a"`) || strings.Count(buf.String(), "[redacted]") != 4 {
		t.Errorf("want four values redacted and the rest kept: %s", buf.String())
	}
}

// The level is the least important record written.
func TestLevel(t *testing.T) {
	var buf bytes.Buffer
	level, err := ParseLevel("warn")
	if err != nil {
		t.Fatal(err)
	}
	log := New(&buf, Options{Format: Text, Level: level})
	log.Info("hidden")
	log.Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Errorf("at warn: %s", buf.String())
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel accepted loud")
	}
}
