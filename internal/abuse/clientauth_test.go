package abuse_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// clientCredentials asks the token endpoint for a client_credentials token
// as clientID with secret, from addr, and returns the status, the error
// code and the Retry-After header.
func clientCredentials(t *testing.T, s *sesametest.Sesame, addr, clientID, secret string) (int, string, string) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequest(http.MethodPost, s.Issuer+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := (&http.Client{Transport: fromAddress(addr)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error, resp.Header.Get("Retry-After")
}

// C3, A3: a stranger who knows a client's id floods wrong secrets from
// one address. After the free failures that address is refused with 429,
// Retry-After and a JSON error, without the secret being evaluated (a
// burst then costs no hash at all), even with the right secret; the
// client's own requests from its own address go on; and the flood writes
// one failure event, not one per guess.
func TestWrongSecretsFromOneAddressDoNotStopTheClient(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := behindProxy(t, opts)
		const app = sesametest.Worker
		free := account.DefaultClientRule.Free
		for i := range free + 5 {
			st, code, retry := clientCredentials(t, s, attacker, app, "a guess")
			switch {
			case i < free && (st != http.StatusUnauthorized || code != "invalid_client"):
				t.Errorf("free guess %d: %d %s, want 401 invalid_client", i, st, code)
			case i >= free && (st != http.StatusTooManyRequests || retry == "" || code == ""):
				t.Errorf("guess %d past the free ones: %d %q Retry-After %q, want 429 with Retry-After and an error", i, st, code, retry)
			}
		}
		// Now a burst at once: every one refused before evaluation.
		const burst = 50
		statuses := make([]int, burst)
		var wg sync.WaitGroup
		for i := range burst {
			wg.Go(func() { statuses[i], _, _ = clientCredentials(t, s, attacker, app, "a guess") })
		}
		wg.Wait()
		for i, st := range statuses {
			if st != http.StatusTooManyRequests {
				t.Errorf("burst request %d: %d, want 429", i, st)
			}
		}
		if st, _, _ := clientCredentials(t, s, attacker, app, sesametest.Secret); st != http.StatusTooManyRequests {
			t.Errorf("the right secret from the flooding address: %d, want 429", st)
		}
		// The app, from its own address, is not slowed.
		for i := range 3 {
			if st, code, _ := clientCredentials(t, s, victim, app, sesametest.Secret); st != http.StatusOK {
				t.Errorf("the app's own request %d during the flood: %d %s", i, st, code)
			}
		}
		events, err := s.Store.Events(t.Context(), 0, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Kind == store.EventClientAuthFailed && e.ClientID == app {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d client_auth_failed events for one client and source within a minute, want 1", n)
		}
	})
}
