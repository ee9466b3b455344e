package backchannel_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// signOut signs alice in to app-a and signs her out globally; it returns
// the receipt's deliveries by client.
func signOut(t *testing.T, s *sesametest.Sesame) (time.Duration, map[string]store.Delivery) {
	t.Helper()
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	p := b.Get(s.Issuer + "/session/end?client_id=" + sesametest.AppA)
	start := time.Now()
	b.Submit(p, map[string]string{"logout": "true"})
	took := time.Since(start)
	return took, s.LastDeliveries(t, "alice")
}

// waitState polls a delivery until it reaches state or d passes.
func waitState(t *testing.T, s *sesametest.Sesame, id string, state store.DeliveryState, d time.Duration) store.Delivery {
	t.Helper()
	return waitDelivery(t, s.Store, id, func(del store.Delivery) bool { return del.State == state }, d)
}

// B2, spec B10: an app answering 503 twice then 200 gets the token on the
// third attempt, the first retry within 2 seconds.
func TestRetriesRecoverableFailures(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	s.Apps[sesametest.AppA].Answer(http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	_, dels := signOut(t, s)
	d := waitState(t, s, dels[sesametest.AppA].ID, store.DeliveryDelivered, 15*time.Second)
	if d.State != store.DeliveryDelivered || d.Attempts != 3 {
		t.Fatalf("delivery %+v, want delivered on the third attempt", d)
	}
	if got := s.Apps[sesametest.AppA].Received(); len(got) != 1 || got[0].JTI != d.ID {
		t.Errorf("app received %+v, want one token with jti %s", got, d.ID)
	}
}

// B2, spec B9, B10: any other status is a rejection: failed at once, never
// retried.
func TestRejectionIsNotRetried(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	s.Apps[sesametest.AppA].Answer(http.StatusBadRequest)
	_, dels := signOut(t, s)
	d := dels[sesametest.AppA]
	if d.State != store.DeliveryFailed || d.Attempts != 1 || d.LastStatus != 400 {
		t.Fatalf("delivery %+v, want failed after one attempt", d)
	}
	time.Sleep(3 * time.Second) // a retry would be due at +0.5 s
	if d2, _ := s.Store.Delivery(t.Context(), d.ID); d2.Attempts != 1 {
		t.Errorf("a rejected delivery was retried: %+v", d2)
	}
}

// B3: an app that does not answer does not hold the person past
// backchannel_wait; the delivery goes on from the queue.
func TestSlowAppDoesNotHoldThePerson(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) { c.BackchannelWait = 500 * time.Millisecond }})
	s.Apps[sesametest.AppA].Hang(3 * time.Second)
	took, dels := signOut(t, s)
	if took > 2*time.Second {
		t.Errorf("the sign-out took %v with backchannel_wait 500ms", took)
	}
	d := waitState(t, s, dels[sesametest.AppA].ID, store.DeliveryDelivered, 15*time.Second)
	if d.State != store.DeliveryDelivered {
		t.Errorf("delivery %+v never landed", d)
	}
	if got := s.Apps[sesametest.AppA].Received(); len(got) != 1 {
		t.Errorf("app received %d tokens, want 1", len(got))
	}
}

// B5, spec S6: without allow_private_network_delivery, a delivery whose
// address turns out to be loopback or private when dialled (a name that
// passed registration, then resolved inward: DNS rebinding) is refused and
// fails without retrying. The configuration registers the apps on
// loopback, which registration refuses with private delivery off, so the
// refusing client is given to the server directly. Which addresses are
// refused is package outbound's table test.
func TestPrivateAddressesRefused(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{DeliveryHTTP: backchannel.NewHTTPClient(false)})
	_, dels := signOut(t, s)
	if d := dels[sesametest.AppA]; d.State != store.DeliveryFailed {
		t.Fatalf("delivery to loopback with private delivery off: %+v", d)
	}
	if got := s.Apps[sesametest.AppA].Received(); len(got) != 0 {
		t.Errorf("the app was reached: %+v", got)
	}
}

// B2: redirects are not followed; a 3xx is a rejection.
func TestRedirectsAreNotFollowed(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	s.Apps[sesametest.AppA].Answer(http.StatusFound)
	_, dels := signOut(t, s)
	if d := dels[sesametest.AppA]; d.State != store.DeliveryFailed || d.LastStatus != http.StatusFound {
		t.Fatalf("delivery %+v", d)
	}
}

// B2: exponential backoff from FirstRetry, at most an hour apart.
func TestBackoff(t *testing.T) {
	want := map[int]time.Duration{0: 500 * time.Millisecond, 1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second,
		4: 4 * time.Second, 13: 2048 * time.Second, 14: time.Hour, 40: time.Hour, 1 << 20: time.Hour}
	for n, d := range want {
		if got := backchannel.Backoff(n); got != d {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, d)
		}
	}
}
