package activity_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/activity"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// A password sign-in, a single sign-on, a global sign-out and its two
// back-channel logouts, done through a whole Sesame as a person does
// them, are counted in the hour they happened, once flushed; the live
// session is sampled. The server hands one Recorder to the services
// that count (Provider, Signout and Backchannel).
func TestSignInAndSignOutAreCountedAfterAFlush(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	rec := s.Activity
	if rec == nil || s.Provider.Activity != rec || s.Signout.Activity != rec || s.Backchannel.Activity != rec {
		t.Fatal("the server does not hand its one Recorder to the services that count")
	}
	hour := s.Clock.Now().UTC().Truncate(time.Hour)
	counted := func() map[string]store.HourlyCounter {
		t.Helper()
		rows, err := s.Store.HourlyCounters(t.Context(), hour, hour.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]store.HourlyCounter{}
		for _, r := range rows {
			m[r.Measure] = r
		}
		return m
	}

	b := s.NewBrowser(t)
	if cb := b.SignIn(sesametest.AppA, "alice", nil); cb.Code == "" {
		t.Fatalf("sign-in to app-a: %+v", cb)
	}
	if cb := b.SignIn(sesametest.AppB, "alice", nil); cb.Code == "" { // SSO: no page
		t.Fatalf("single sign-on to app-b: %+v", cb)
	}
	if err := rec.SampleSessions(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := counted(); len(got) != 0 {
		t.Fatalf("rows before any flush: %v", got)
	}
	b.Submit(b.Get(s.Issuer+"/session/end?client_id="+sesametest.AppA), map[string]string{"logout": "true"})
	for _, app := range []string{sesametest.AppA, sesametest.AppB} {
		if got := s.Apps[app].WaitReceived(1, 5*time.Second); len(got) != 1 {
			t.Fatalf("%s received %d logouts", app, len(got))
		}
	}
	// The sign-out waits for its first attempts (backchannel_wait), so
	// they are counted by now; on a slow machine one may still be
	// recording its outcome, so flush until both are in, for a while.
	var got map[string]store.HourlyCounter
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := rec.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		got = counted()
		if got[string(activity.DeliveryDelivered)].Count >= 2 || time.Now().After(deadline) {
			break
		}
	}
	latency := got[string(activity.DeliveryLatency)]
	if latency.Count != 2 || latency.Sum <= 0 {
		t.Errorf("latency row %+v, want two attempts that took some time", latency)
	}
	delete(got, string(activity.DeliveryLatency))
	// The server's recorder samples once as it starts (no session yet,
	// or the one just made if the sign-in won the race) and the test's
	// sample sees the one session: two samples, one or two sessions.
	sessions := got[string(activity.ActiveSessions)]
	if sessions.Count != 2 || sessions.Sum < 1 || sessions.Sum > 2 {
		t.Errorf("active sessions row %+v, want two samples summing to 1 or 2", sessions)
	}
	delete(got, string(activity.ActiveSessions))
	want := map[string]store.HourlyCounter{}
	for _, r := range []store.HourlyCounter{
		{Measure: string(activity.SignInPassword), Count: 1},
		{Measure: string(activity.SignInSSO), Count: 1},
		{Measure: string(activity.SignOutBrowser), Count: 1},
		{Measure: string(activity.DeliveryDelivered), Count: 2},
	} {
		r.Hour = hour
		want[r.Measure] = r
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counted:\n got  %v\n want %v", got, want)
	}
}
