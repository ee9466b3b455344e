// Package backchannel receives OpenID Connect Back-Channel Logout tokens
// from Sesame and ends the matching app sessions (Back-Channel Logout 1.0
// §2.6-§2.8).
//
// New builds a Handler from the app's rp.Client verifier and session
// store, and refuses to build one without them. The Handler validates
// each token with go-oidc's VerifyLogout (signature with Sesame's keys,
// never alg none; iss, aud, exp; the events member; sub or sid; no nonce),
// adds the checks go-oidc leaves to the caller (iat present and not in the
// future; jti not seen before), ends the sessions through the app's
// rp.SessionStore, and answers 200 with Cache-Control: no-store, or 400
// for a token it refuses. A valid token for a session the app no longer
// has is still 200 (§2.8). Each request is served with its own context,
// the key fetch included.
package backchannel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/sesame-id/sesame/rp"
)

// Config is what a Handler needs.
type Config struct {
	// Verifier checks tokens; rp.Client.Verifier gives Sesame's. Required.
	Verifier *gooidc.IDTokenVerifier
	// Sessions are the app sessions to end. Required.
	Sessions rp.SessionStore
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger, when set, logs each logout.
	Logger *slog.Logger
}

// Handler is an http.Handler for the app's back-channel logout URI. Make
// one with New: a Handler is complete once made, so a missing part is an
// error at start-up, never a failure at the first logout.
type Handler struct {
	verifier *gooidc.IDTokenVerifier
	sessions rp.SessionStore
	now      func() time.Time
	logger   *slog.Logger

	mu   sync.Mutex
	seen map[string]time.Time // jti → when it may be forgotten
}

// New returns the Handler for cfg, or an error naming what cfg lacks.
func New(cfg Config) (*Handler, error) {
	var missing []string
	if cfg.Verifier == nil {
		missing = append(missing, "Verifier")
	}
	if cfg.Sessions == nil {
		missing = append(missing, "Sessions")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("backchannel: Config needs %s", strings.Join(missing, " and "))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{verifier: cfg.Verifier, sessions: cfg.Sessions, now: cfg.Now, logger: cfg.Logger,
		seen: map[string]time.Time{}}, nil
}

// maxBody bounds the request body read.
const maxBody = 64 << 10

// maxSkew tolerates clocks a little apart.
const maxSkew = 2 * time.Minute

// ServeHTTP handles one POST of a logout token.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// A Handler declared rather than made by New has nothing to verify
	// with: say so on every request instead of panicking at the first.
	if h == nil || h.verifier == nil || h.sessions == nil {
		http.Error(w, "backchannel: this Handler was not made by backchannel.New", http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	// A logout token is a few hundred bytes, sent as a form (Back-Channel
	// Logout §2.5): anything larger or of another type is not one, and a
	// stranger posting here must not make the app read megabytes.
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		http.Error(w, "invalid logout token", http.StatusBadRequest)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	raw := r.PostFormValue("logout_token")
	tok, err := h.verify(r.Context(), raw)
	if err != nil {
		h.log(r.Context(), slog.LevelWarn, "logout token refused", "err", err)
		http.Error(w, "invalid logout token", http.StatusBadRequest)
		return
	}
	n := 0
	if tok.SessionID != "" {
		n, err = h.sessions.EndBySID(r.Context(), tok.SessionID)
	} else {
		n, err = h.sessions.EndBySubject(r.Context(), tok.Subject)
	}
	if err != nil {
		// A 5xx makes Sesame retry (Back-Channel Logout §2.8), with the
		// same jti: it must not be refused then as a replay.
		h.forget(tok.TokenID)
		h.log(r.Context(), slog.LevelError, "end sessions", "err", err)
		http.Error(w, "could not end the sessions", http.StatusServiceUnavailable)
		return
	}
	h.log(r.Context(), slog.LevelInfo, "signed out by back-channel logout", "sub", tok.Subject, "sid", tok.SessionID, "sessions", n)
	w.WriteHeader(http.StatusOK)
}

// ErrReplayed means the token's jti was seen before.
var ErrReplayed = errors.New("backchannel: logout token replayed")

// verify applies §2.6 in full.
func (h *Handler) verify(ctx context.Context, raw string) (*gooidc.LogoutToken, error) {
	if raw == "" {
		return nil, errors.New("backchannel: no logout_token")
	}
	tok, err := h.verifier.VerifyLogout(ctx, raw)
	if err != nil {
		return nil, err
	}
	now := h.now()
	if tok.IssuedAt.IsZero() || tok.IssuedAt.After(now.Add(maxSkew)) {
		return nil, errors.New("backchannel: iat missing or in the future")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for jti, until := range h.seen {
		if now.After(until) {
			delete(h.seen, jti)
		}
	}
	if _, ok := h.seen[tok.TokenID]; ok {
		return nil, ErrReplayed
	}
	h.seen[tok.TokenID] = tok.Expiry.Add(maxSkew)
	return tok, nil
}

// forget drops a jti whose logout did not take effect.
func (h *Handler) forget(jti string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.seen, jti)
}

func (h *Handler) log(ctx context.Context, level slog.Level, msg string, args ...any) {
	if h.logger != nil {
		h.logger.Log(ctx, level, msg, args...)
	}
}
