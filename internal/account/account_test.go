package account_test

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sqlite"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newService(t *testing.T) (*account.Service, *clock) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := &account.Service{Store: st, Hasher: secret.Hasher{Memory: 64, Time: 1, Threads: 1}, Now: c.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := s.Upsert(t.Context(), account.Spec{Username: "alice", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// A2: right password signs in; wrong password and unknown user are the
// same refusal.
func TestAuthenticate(t *testing.T) {
	s, _ := newService(t)
	a, err := s.Authenticate(t.Context(), "alice", "pw", "1.2.3.4")
	if err != nil || a.Username != "alice" || a.ID == "" {
		t.Fatalf("%+v %v", a, err)
	}
	for _, user := range []string{"alice", "nobody"} {
		if _, err := s.Authenticate(t.Context(), user, "wrong", "1.2.3.4"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("%s: %v", user, err)
		}
	}
}

// A3: repeated failures for one username are throttled until the window
// passes; a success clears them.
func TestThrottling(t *testing.T) {
	s, c := newService(t)
	for range 5 {
		_, _ = s.Authenticate(t.Context(), "alice", "wrong", "1.2.3.4")
	}
	_, err := s.Authenticate(t.Context(), "alice", "pw", "1.2.3.4")
	var th *account.ThrottledError
	if !errors.As(err, &th) || !errors.Is(err, account.ErrThrottled) {
		t.Fatalf("sixth try: %v", err)
	}
	if _, err := s.Authenticate(t.Context(), "ALICE", "pw", "5.6.7.8"); !errors.Is(err, account.ErrThrottled) {
		t.Errorf("username case or another IP escaped the throttle: %v", err)
	}
	c.now = c.now.Add(16 * time.Minute)
	if _, err := s.Authenticate(t.Context(), "alice", "pw", "1.2.3.4"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if err := s.Store.InTx(t.Context(), func(tx store.Tx) error {
		return account.SignedIn(t.Context(), tx, store.Account{Username: "Alice"}, "", c.now)
	}); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		_, _ = s.Authenticate(t.Context(), "alice", "wrong", "1.2.3.4")
	}
	if _, err := s.Authenticate(t.Context(), "alice", "pw", "1.2.3.4"); err != nil {
		t.Errorf("fewer than five failures: %v", err)
	}
}

// A3: one IP trying many usernames is throttled too.
func TestThrottlingPerIP(t *testing.T) {
	s, _ := newService(t)
	for i := range 20 {
		_, _ = s.Authenticate(t.Context(), "user"+string(rune('a'+i)), "x", "9.9.9.9")
	}
	if _, err := s.Authenticate(t.Context(), "alice", "pw", "9.9.9.9"); !errors.Is(err, account.ErrThrottled) {
		t.Errorf("IP not throttled: %v", err)
	}
	// Requests without an address share no IP key: failures there lock
	// out nobody else who lacks one.
	for i := range 20 {
		_, _ = s.Authenticate(t.Context(), "other"+string(rune('a'+i)), "x", "")
	}
	if _, err := s.Authenticate(t.Context(), "alice", "pw", ""); err != nil {
		t.Errorf("a sign-in without an address after others' failures: %v", err)
	}
	// Throttled attempts are not failures themselves: the window ends on
	// time however often a throttled key keeps trying.
	for range 30 {
		_, _ = s.Authenticate(t.Context(), "zed", "x", "9.9.9.9")
	}
	n, err := s.Store.LoginFailures(t.Context(), "ip:9.9.9.9", time.Time{})
	if err != nil || n != 20 {
		t.Errorf("failures recorded for the throttled IP: %d %v, want 20", n, err)
	}
}

// A1: upsert keeps the id; the password is hashed again only on change;
// disabled accounts cannot sign in.
func TestUpsert(t *testing.T) {
	s, _ := newService(t)
	a1, _ := s.Store.AccountByUsername(t.Context(), "alice")
	a2, err := s.Upsert(t.Context(), account.Spec{Username: "alice", Password: "pw", Email: "a@example.com"})
	if err != nil || a2.ID != a1.ID || a2.PasswordHash != a1.PasswordHash || a2.Email != "a@example.com" {
		t.Errorf("unchanged password re-hashed or id changed: %+v", a2)
	}
	a3, _ := s.Upsert(t.Context(), account.Spec{Username: "alice", Password: "new", Disabled: true})
	if a3.ID != a1.ID || a3.PasswordHash == a1.PasswordHash {
		t.Errorf("changed password: %+v", a3)
	}
	if _, err := s.Authenticate(t.Context(), "alice", "new", "1.1.1.1"); !errors.Is(err, account.ErrDisabled) {
		t.Errorf("disabled: %v", err)
	}
	if id1, id2 := account.NewID(), account.NewID(); id1 == id2 {
		t.Error("ids repeat")
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
