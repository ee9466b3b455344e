// Package logs builds Sesame's one logger: log/slog, as text on a terminal
// and JSON otherwise (log_format), at log_level, with every record written
// while serving a request carrying that request's id, and with values of
// attributes named like secrets replaced before they are written.
//
// It does not decide what is logged (each package logs its own events) nor
// give requests their ids (package server's middleware does, with
// WithRequestID).
package logs

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"
)

// Values of Format.
const (
	Text = "text"
	JSON = "json"
)

// Options say how to log.
type Options struct {
	// Format is Text, JSON, or empty: text when the writer is a terminal,
	// JSON otherwise (a file, a pipe, a log collector).
	Format string
	// Level is the least important record written.
	Level slog.Leveler
}

// New returns a logger that writes to w as o says.
func New(w io.Writer, o Options) *slog.Logger {
	ho := &slog.HandlerOptions{Level: o.Level, ReplaceAttr: redact}
	var h slog.Handler
	if FormatFor(o.Format, w) == Text {
		h = slog.NewTextHandler(w, ho)
	} else {
		h = slog.NewJSONHandler(w, ho)
	}
	return slog.New(WithRequestIDs(h))
}

// FormatFor is the format a logger on w writes for the configured format:
// the configured one, or for none, text on a terminal and JSON otherwise.
func FormatFor(format string, w io.Writer) string {
	if format != "" {
		return format
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return Text
	}
	return JSON
}

// ParseLevel reads a log_level value (debug, info, warn, error).
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// secretKeys are attribute names whose values are never written: a
// logger call that names one by mistake logs "[redacted]" instead.
var secretKeys = map[string]bool{
	"password": true, "new_password": true, "secret": true, "client_secret": true, "secret_key": true,
	"token": true, "access_token": true, "refresh_token": true, "id_token": true, "logout_token": true,
	"id_token_hint": true, "code": true, "auth_code": true, "code_verifier": true,
	"authorization": true, "cookie": true, "set-cookie": true, "set_cookie": true,
}

// redact replaces the value of an attribute named like a secret.
func redact(_ []string, a slog.Attr) slog.Attr {
	if secretKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, "[redacted]")
	}
	return a
}

type ctxKey struct{}

// WithRequestID returns ctx carrying a request's id, which every record
// logged with it then carries as request_id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// RequestID is the id WithRequestID gave ctx, or empty.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// WithRequestIDs wraps h so that a record logged with a context that
// carries a request id (logger.InfoContext(ctx, ...)) has it as
// request_id, unless the record names one itself.
func WithRequestIDs(h slog.Handler) slog.Handler { return requestIDs{h} }

type requestIDs struct{ slog.Handler }

func (h requestIDs) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" && !hasAttr(r, "request_id") {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDs) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDs{h.Handler.WithAttrs(as)}
}

func (h requestIDs) WithGroup(name string) slog.Handler {
	return requestIDs{h.Handler.WithGroup(name)}
}

func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}
