package sesametest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// App is a recording relying party: its back-channel logout endpoint
// validates every logout token with go-oidc's VerifyLogout (a validator
// nobody here wrote) and records it. Tests program its answers.
type App struct {
	ClientID string
	HTTP     *httptest.Server

	mu       sync.Mutex
	verifier *gooidc.IDTokenVerifier
	received []Logout
	rejected []string
	answers  []int
	hang     time.Duration
	calls    int
}

// Logout is one logout token the app accepted.
type Logout struct {
	JTI, Subject, SID string
	Typ, Alg          string
	Claims            map[string]any
	At                time.Time
}

// BackchannelURI is where the app receives logout tokens.
func (a *App) BackchannelURI() string { return a.HTTP.URL + "/backchannel-logout" }

// NewApp starts a recording app; call Trust once the issuer is known.
func NewApp(t TB, clientID string) *App {
	a := &App{ClientID: clientID}
	a.HTTP = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.HTTP.Close)
	return a
}

// Trust makes the app verify logout tokens from issuer, reading the clock
// now.
func (a *App) Trust(issuer string, now func() time.Time) {
	ks := gooidc.NewRemoteKeySet(context.Background(), issuer+"/jwks")
	a.verifier = gooidc.NewVerifier(issuer, ks, &gooidc.Config{
		ClientID: a.ClientID, SupportedSigningAlgs: []string{"ES256", "RS256"}, Now: now,
	})
}

// Answer makes the next calls answer these statuses, in order, before the
// app answers 200 again (a fault to retry through).
func (a *App) Answer(statuses ...int) {
	a.mu.Lock()
	a.answers = append(a.answers, statuses...)
	a.mu.Unlock()
}

// Hang makes the app wait d before answering (an app that does not
// answer in time).
func (a *App) Hang(d time.Duration) {
	a.mu.Lock()
	a.hang = d
	a.mu.Unlock()
}

func (a *App) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/backchannel-logout" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	a.mu.Lock()
	a.calls++
	hang := a.hang
	status := http.StatusOK
	if len(a.answers) > 0 {
		status, a.answers = a.answers[0], a.answers[1:]
	}
	a.mu.Unlock()
	if hang > 0 {
		select {
		case <-time.After(hang):
		case <-r.Context().Done():
			return
		}
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		a.reject(w, "content type "+ct)
		return
	}
	raw := r.PostFormValue("logout_token")
	tok, err := a.verifier.VerifyLogout(r.Context(), raw)
	if err != nil {
		a.reject(w, err.Error())
		return
	}
	var claims map[string]any
	_ = tok.Claims(&claims)
	jti, _ := claims["jti"].(string)
	typ, alg, _ := header(raw)
	a.mu.Lock()
	a.received = append(a.received, Logout{JTI: jti, Subject: tok.Subject, SID: tok.SessionID, Typ: typ, Alg: alg, Claims: claims, At: time.Now()})
	a.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (a *App) reject(w http.ResponseWriter, why string) {
	a.mu.Lock()
	a.rejected = append(a.rejected, why)
	a.mu.Unlock()
	http.Error(w, why, http.StatusBadRequest)
}

// Calls counts the back-channel requests that reached the app, answered
// or not (one under way included).
func (a *App) Calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// Received lists the logout tokens the app accepted.
func (a *App) Received() []Logout {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Logout(nil), a.received...)
}

// Rejected lists why the app refused tokens.
func (a *App) Rejected() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.rejected...)
}

// WaitReceived waits up to d for the app to have accepted n tokens.
func (a *App) WaitReceived(n int, d time.Duration) []Logout {
	deadline := time.Now().Add(d)
	for {
		got := a.Received()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}
