package account_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newService(t *testing.T) (*account.Service, *clock) {
	t.Helper()
	st := sqltest.Open(t)
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := &account.Service{Store: st, Hasher: secret.Hasher{Memory: 64, Time: 1, Threads: 1}, Now: c.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := s.Upsert(t.Context(), account.Spec{Username: "alice", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// signedIn records a successful sign-in of a from ip, as the sign-in's
// transaction does.
func signedIn(t *testing.T, s *account.Service, a store.Account, ip string, at time.Time) {
	t.Helper()
	if err := s.Store.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
		return account.SignedIn(t.Context(), tx, a, "", ip, at)
	}); err != nil {
		t.Fatal(err)
	}
}

// A2: right password signs in; wrong password and unknown user are the
// same refusal. A1: the username is compared in its canonical form.
func TestAuthenticate(t *testing.T) {
	s, _ := newService(t)
	for _, name := range []string{"alice", "Alice", "ＡＬＩＣＥ"} {
		a, err := s.Authenticate(t.Context(), name, "pw", "1.2.3.4")
		if err != nil || a.Username != "alice" || a.ID == "" {
			t.Fatalf("%s: %+v %v", name, a, err)
		}
	}
	for _, user := range []string{"alice", "nobody", "al ice", ""} {
		if _, err := s.Authenticate(t.Context(), user, "wrong", "1.2.3.4"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("%q: %v", user, err)
		}
	}
}

// A3: failures of one account from one source slow that source only,
// with a wait that grows; a success from the source forgets them; failures
// decay.
func TestThrottlingPerAccountAndSource(t *testing.T) {
	s, c := newService(t)
	for range 5 {
		if _, err := s.Authenticate(t.Context(), "alice", "wrong", "192.0.2.1"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("a free failure: %v", err)
		}
	}
	_, err := s.Authenticate(t.Context(), "alice", "pw", "192.0.2.1")
	var th *account.ThrottledError
	if !errors.As(err, &th) || !errors.Is(err, account.ErrThrottled) || th.RetryAfter != time.Second {
		t.Fatalf("sixth try: %v, want a wait of 1s", err)
	}
	if _, err := s.Authenticate(t.Context(), "ALICE", "pw", "192.0.2.1"); !errors.Is(err, account.ErrThrottled) {
		t.Errorf("another case of the username escaped the throttle: %v", err)
	}
	// No lockout by strangers: the account from elsewhere is untouched.
	if _, err := s.Authenticate(t.Context(), "alice", "pw", "198.51.100.7"); err != nil {
		t.Errorf("the account from another address: %v", err)
	}
	// The wait grows: 1 s after the fifth failure, 2 s after the sixth.
	c.Advance(time.Second)
	if _, err := s.Authenticate(t.Context(), "alice", "wrong", "192.0.2.1"); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("after the wait: %v", err)
	}
	if _, err := s.Authenticate(t.Context(), "alice", "pw", "192.0.2.1"); !errors.As(err, &th) || th.RetryAfter != 2*time.Second {
		t.Fatalf("after the sixth failure: %v, want a wait of 2s", err)
	}
	c.Advance(2 * time.Second)
	a, err := s.Authenticate(t.Context(), "alice", "pw", "192.0.2.1")
	if err != nil {
		t.Fatalf("after the second wait: %v", err)
	}
	signedIn(t, s, a, "192.0.2.1", c.Now())
	for range 5 {
		_, _ = s.Authenticate(t.Context(), "alice", "wrong", "192.0.2.1")
	}
	if _, err := s.Authenticate(t.Context(), "alice", "pw", "192.0.2.1"); !errors.Is(err, account.ErrThrottled) {
		t.Fatalf("five failures after the success: %v", err)
	}
	// Decay: one failure forgotten every 15 minutes.
	c.Advance(15 * time.Minute)
	if _, err := s.Authenticate(t.Context(), "alice", "pw", "192.0.2.1"); err != nil {
		t.Errorf("a failure forgotten: %v", err)
	}
}

// A3: IPv6 addresses of one /64 are one source.
func TestIPv6SourceIsTheSlash64(t *testing.T) {
	for _, c := range []struct{ ip, want string }{
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"192.0.2.1", "192.0.2.1"},
		{"", ""},
	} {
		if got := account.Source(c.ip); got != c.want {
			t.Errorf("Source(%q) = %q, want %q", c.ip, got, c.want)
		}
	}
	s, _ := newService(t)
	for i := range 5 {
		_, _ = s.Authenticate(t.Context(), "alice", "wrong", "2001:db8:1:2::"+string(rune('a'+i)))
	}
	if _, err := s.Authenticate(t.Context(), "alice", "pw", "2001:db8:1:2:ffff::9"); !errors.Is(err, account.ErrThrottled) {
		t.Errorf("another address of the /64: %v", err)
	}
	if _, err := s.Authenticate(t.Context(), "alice", "pw", "2001:db8:1:3::1"); err != nil {
		t.Errorf("the next /64: %v", err)
	}
}

// A3: one address trying many accounts reaches the address's ceiling;
// its honest sign-ins do not count towards it.
func TestThrottlingPerAddress(t *testing.T) {
	s, _ := newService(t)
	s.Throttle.Address = account.Rule{Free: 20, Delay: time.Second, MaxDelay: time.Minute, Forget: time.Minute}
	for range 30 {
		a, err := s.Authenticate(t.Context(), "alice", "pw", "9.9.9.9")
		if err != nil {
			t.Fatalf("an honest sign-in from the address: %v", err)
		}
		signedIn(t, s, a, "9.9.9.9", s.Now())
	}
	for i := range 20 {
		_, _ = s.Authenticate(t.Context(), "user"+string(rune('a'+i)), "x", "9.9.9.9")
	}
	if _, err := s.Authenticate(t.Context(), "alice", "pw", "9.9.9.9"); !errors.Is(err, account.ErrThrottled) {
		t.Errorf("address not throttled: %v", err)
	}
	// Requests without an address share no address key: failures there
	// slow nobody else who lacks one.
	for i := range 20 {
		_, _ = s.Authenticate(t.Context(), "other"+string(rune('a'+i)), "x", "")
	}
	if _, err := s.Authenticate(t.Context(), "alice", "pw", ""); err != nil {
		t.Errorf("a sign-in without an address after others' failures: %v", err)
	}
}

// A3, A4: a burst of wrong passwords for one account from one source is
// counted exactly: five are evaluated, the rest refused without hashing;
// an attempt the full pool turned away is given back.
func TestBurstIsCountedExactly(t *testing.T) {
	s, _ := newService(t)
	const burst = 40
	var wg sync.WaitGroup
	errs := make([]error, burst)
	for i := range burst {
		wg.Go(func() { _, errs[i] = s.Authenticate(t.Context(), "alice", "wrong", "192.0.2.1") })
	}
	wg.Wait()
	evaluated := 0
	for _, err := range errs {
		switch {
		case errors.Is(err, account.ErrInvalidCredentials):
			evaluated++
		case !errors.Is(err, account.ErrThrottled):
			t.Errorf("unexpected: %v", err)
		}
	}
	if evaluated != 5 {
		t.Errorf("%d of %d evaluated, want 5", evaluated, burst)
	}

	// A full pool: one slot held, no queue, no wait.
	s2, _ := newService(t)
	s2.Pool = secret.NewPool("passwords", 1, 1, time.Nanosecond)
	hold, release, freed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() { _ = s2.Pool.Run(t.Context(), func() { close(hold); <-release }); close(freed) }()
	<-hold
	for range 10 {
		_, err := s2.Authenticate(t.Context(), "alice", "wrong", "192.0.2.1")
		var busy *secret.BusyError
		if !errors.As(err, &busy) {
			t.Fatalf("with a full pool: %v", err)
		}
	}
	close(release)
	<-freed // the slot is given back once Run returns
	if _, err := s2.Authenticate(t.Context(), "alice", "pw", "192.0.2.1"); err != nil {
		t.Errorf("turned-away attempts were counted as failures: %v", err)
	}
}

// A3: failures write at most one event per account and source a minute.
func TestFailureEventsAreRateLimited(t *testing.T) {
	s, c := newService(t)
	for range 4 {
		_, _ = s.Authenticate(t.Context(), "alice", "wrong", "192.0.2.1")
	}
	_, _ = s.Authenticate(t.Context(), "alice", "wrong", "198.51.100.7")
	c.Advance(time.Minute)
	_, _ = s.Authenticate(t.Context(), "alice", "wrong", "192.0.2.1")
	events, err := s.Store.Events(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, e := range events {
		if e.Kind == store.EventSignInFailed {
			failed = append(failed, e.Detail)
		}
	}
	want := []string{ // in the order they happened
		"alice from 192.0.2.1: 1 recent failure",
		"alice from 198.51.100.7: 1 recent failure",
		"alice from 192.0.2.1: 5 recent failures",
	}
	if len(failed) != len(want) {
		t.Fatalf("failure events %q, want %q", failed, want)
	}
	for i := range want {
		if failed[i] != want[len(want)-1-i] { // newest first
			t.Errorf("event %d: %q, want %q", i, failed[i], want[len(want)-1-i])
		}
	}
}

// A1, A5, C4: a declared account keeps its id; the declaration's password
// is set when the account is created only, never over one changed later;
// disabled accounts cannot sign in.
func TestUpsert(t *testing.T) {
	s, _ := newService(t)
	a1, _ := s.Store.AccountByUsername(t.Context(), "alice")
	a2, err := s.Upsert(t.Context(), account.Spec{Username: "Alice", Password: "other", Email: "a@example.com"})
	if err != nil || a2.ID != a1.ID || a2.PasswordHash != a1.PasswordHash || a2.Email != "a@example.com" || a2.Username != "alice" {
		t.Errorf("the declaration's password applied to an existing account, or id changed: %+v %v", a2, err)
	}
	hash, err := s.HashPassword("changed")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Update(t.Context(), a1.ID, func(a *store.Account) { a.PasswordHash = hash }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upsert(t.Context(), account.Spec{Username: "alice", Password: "pw", Disabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(t.Context(), "alice", "changed", "1.1.1.1"); !errors.Is(err, account.ErrDisabled) {
		t.Errorf("the changed password, disabled: %v", err)
	}
	if _, err := s.Upsert(t.Context(), account.Spec{Username: "al ice"}); !errors.Is(err, account.ErrInvalidUsername) {
		t.Errorf("an invalid username: %v", err)
	}
	if id1, id2 := account.NewID(), account.NewID(); id1 == id2 {
		t.Error("ids repeat")
	}
}

// A1: a username is created once, in its canonical form; case and width
// variants are the same name, and names RFC 8265 refuses are refused.
func TestCreateRefusesVariants(t *testing.T) {
	s, _ := newService(t)
	for _, c := range []struct {
		name string
		want error
	}{
		{"ALICE", account.ErrUsernameTaken},
		{"ａｌｉｃｅ", account.ErrUsernameTaken},
		{"al ice", account.ErrInvalidUsername},
		{"alice\u200b", account.ErrInvalidUsername},
		{"", account.ErrInvalidUsername},
	} {
		if _, err := s.Create(t.Context(), account.Spec{Username: c.name, Password: "pw"}); !errors.Is(err, c.want) {
			t.Errorf("Create(%q) = %v, want %v", c.name, err, c.want)
		}
	}
	a, err := s.Create(t.Context(), account.Spec{Username: "Bob", Password: "pw"})
	if err != nil || a.Username != "bob" {
		t.Fatalf("Create(Bob) = %+v, %v", a, err)
	}
	if got, err := s.ByUsername(t.Context(), "BOB"); err != nil || got.ID != a.ID {
		t.Errorf("ByUsername(BOB) = %+v, %v", got, err)
	}
	if _, err := s.ByUsername(t.Context(), "b ob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ByUsername of an invalid name: %v", err)
	}
}

// A1 under a race: upserts of one new username at once (instances seeding
// the same file, two admins) all succeed on one account.
func TestConcurrentUpsertsMakeOneAccount(t *testing.T) {
	s, _ := newService(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	ids := make([]string, 8)
	for i := range errs {
		wg.Go(func() {
			a, err := s.Upsert(t.Context(), account.Spec{Username: "carol", Password: "pw"})
			ids[i], errs[i] = a.ID, err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("upsert %d: %v", i, err)
		}
	}
	a, err := s.Store.AccountByUsername(t.Context(), "carol")
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if errs[i] == nil && id != a.ID {
			t.Errorf("upsert %d answered account %s, but the stored one is %s", i, id, a.ID)
		}
	}
}

// A name typed that is no account's is never written, to the log or the
// events: people type their password into the username field.
func TestUnknownUsernameIsNotLogged(t *testing.T) {
	s, _ := newService(t)
	var log bytes.Buffer
	s.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const typed = "hunter2-typed-as-a-name"
	if _, err := s.Authenticate(t.Context(), typed, "wrong", "1.2.3.4"); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(t.Context(), "alice", "wrong", "1.2.3.4"); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), typed) {
		t.Errorf("the log holds the unknown name typed:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "alice") {
		t.Errorf("the log does not name the account that failed:\n%s", log.String())
	}
	events, err := s.Store.Events(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if strings.Contains(e.Detail, typed) {
			t.Errorf("event %q holds the unknown name typed", e.Detail)
		}
	}
}
