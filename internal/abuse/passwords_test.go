package abuse_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// The sources the tests sign in from. A trusted proxy in front of Sesame
// names them in X-Forwarded-For, as in a deployment behind a load
// balancer (trusted_proxies).
const (
	attacker = "203.0.113.66"
	victim   = "198.51.100.7"
	office   = "192.0.2.10"
)

// fromAddress sends a browser's or a client's requests as coming from
// addr, through the trusted proxy.
type fromAddress string

// RoundTrip sets X-Forwarded-For and sends the request.
func (a fromAddress) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(a))
	return http.DefaultTransport.RoundTrip(r)
}

// behindProxy is a test Sesame that trusts the local proxy's
// X-Forwarded-For, so a test can send from any address.
func behindProxy(t *testing.T, opts sesametest.Options) *sesametest.Sesame {
	t.Helper()
	opts.Configure = func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1", "::1"} }
	return sesametest.New(t, opts)
}

// browserFrom is a new browser at addr.
func browserFrom(t *testing.T, s *sesametest.Sesame, addr string) *sesametest.Browser {
	b := s.NewBrowser(t)
	b.HTTP.Transport = fromAddress(addr)
	return b
}

// pkce is the authorization request's PKCE parameters and the verifier.
func pkce() (url.Values, string) {
	verifier, challenge := sesametest.PKCE()
	return url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}, verifier
}

// signInPage opens the sign-in page of a new authorization request to
// app-a in b.
func signInPage(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) sesametest.Page {
	t.Helper()
	extra, _ := pkce()
	p := b.Get(s.AuthURL(sesametest.AppA, extra))
	if !sesametest.IsSignInPage(p) {
		t.Fatalf("no sign-in page (%d): %s", p.Status, p.Body)
	}
	return p
}

// attempt posts the sign-in form of page p as b, for username and
// password, and returns the status: 401 (evaluated and wrong), 429
// (throttled, with Retry-After), or where a success leads.
func attempt(b *sesametest.Browser, p sesametest.Page, username, password string) (int, error) {
	action, form := b.Form(p, map[string]string{"username": username, "password": password})
	req, err := http.NewRequest(http.MethodPost, action, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
		return 0, fmt.Errorf("429 without Retry-After")
	}
	return resp.StatusCode, nil
}

// signsIn reports whether username signs in to app-a from b at once: the
// whole flow, to a code the app redeems.
func signsIn(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser, username string) bool {
	t.Helper()
	extra, verifier := pkce()
	p := b.Get(s.AuthURL(sesametest.AppA, extra))
	if sesametest.IsSignInPage(p) {
		p = b.Submit(p, map[string]string{"username": username, "password": sesametest.Password})
	}
	if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		t.Logf("%s's sign-in answered %d", username, p.Status)
		return false
	}
	cb := sesametest.Landed(t, p)
	return cb.Code != "" && s.Exchange(t, sesametest.AppA, cb.Code, verifier).AccessToken != ""
}

// failureEvents counts the sign_in_failed events written.
func failureEvents(t *testing.T, s *sesametest.Sesame) int {
	t.Helper()
	events, err := s.Store.Events(t.Context(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Kind == store.EventSignInFailed {
			n++
		}
	}
	return n
}

// A3: 100 wrong passwords for one account from one source, all at once,
// are counted exactly: the check and the count are one store step, so
// exactly the five free attempts are evaluated (401) and the other 95 are
// refused with 429 and Retry-After before any hash; and the flood writes
// one failure event, not a hundred.
func TestBurstOfWrongPasswordsIsCountedExactly(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := behindProxy(t, opts)
		b := browserFrom(t, s, attacker)
		page := signInPage(t, s, b)
		const burst = 100
		// A queue with room for the whole burst, so every attempt reaches
		// the throttle's count and that alone decides (A3); the default
		// queue would refuse most of the burst first with 503 (A4), which
		// TestFullPoolsAnswerTryAgain shows.
		s.Accounts.Pool = secret.NewPool("passwords", 2, burst, time.Minute)
		statuses := make([]int, burst)
		errs := make([]error, burst)
		sesametest.AtOnce(burst, func(i int) {
			statuses[i], errs[i] = attempt(b, page, "alice", fmt.Sprint("guess-", i))
		})
		count := map[int]int{}
		for i, st := range statuses {
			if errs[i] != nil {
				t.Errorf("attempt %d: %v", i, errs[i])
			}
			count[st]++
		}
		free := account.DefaultThrottle.Account.Free
		if count[http.StatusUnauthorized] != free || count[http.StatusTooManyRequests] != burst-free {
			t.Errorf("answers %v, want %d evaluated (401) and %d refused (429)", count, free, burst-free)
		}
		if n := failureEvents(t, s); n != 1 {
			t.Errorf("%d failure events for one account and source within a minute, want 1", n)
		}
		// The burst's source waits; alice anywhere else does not.
		if st, err := attempt(b, page, "alice", sesametest.Password); err != nil || st != http.StatusTooManyRequests {
			t.Errorf("the right password from the burst's source: %d %v, want 429", st, err)
		}
		if !signsIn(t, s, browserFrom(t, s, victim), "alice") {
			t.Error("alice could not sign in from her own address after the burst")
		}
	})
}

// A3: a stranger who sends 50 wrong passwords for alice, one after the
// other, cannot lock her out: alice signs in from her own address at once,
// and the stranger's next guesses wait longer and longer.
func TestStrangerCannotLockAnAccount(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := behindProxy(t, opts)
		b := browserFrom(t, s, attacker)
		page := signInPage(t, s, b)
		evaluated := 0
		for i := range 50 {
			st, err := attempt(b, page, "alice", fmt.Sprint("guess-", i))
			if err != nil {
				t.Fatal(err)
			}
			if st == http.StatusUnauthorized {
				evaluated++
			}
		}
		if evaluated != account.DefaultThrottle.Account.Free {
			t.Errorf("%d of the stranger's guesses evaluated, want %d", evaluated, account.DefaultThrottle.Account.Free)
		}
		if !signsIn(t, s, browserFrom(t, s, victim), "alice") {
			t.Fatal("the stranger locked alice out")
		}
		// Her success elsewhere did not free the stranger's source.
		if st, _ := attempt(b, page, "alice", "one more guess"); st != http.StatusTooManyRequests {
			t.Errorf("the stranger's source after alice signed in: %d, want 429", st)
		}
		// IPv6: the stranger's whole /64 is one source, alice's another.
		b6 := browserFrom(t, s, "2001:db8:66::1")
		p6 := signInPage(t, s, b6)
		for i := range account.DefaultThrottle.Account.Free {
			_, _ = attempt(b6, p6, "bob", fmt.Sprint("guess-", i))
		}
		b6.HTTP.Transport = fromAddress("2001:db8:66::ffff")
		if st, _ := attempt(b6, p6, "bob", sesametest.Password); st != http.StatusTooManyRequests {
			t.Errorf("another address of the stranger's /64: %d, want 429", st)
		}
		if !signsIn(t, s, browserFrom(t, s, "2001:db8:77::1"), "bob") {
			t.Error("bob could not sign in from another /64")
		}
	})
}

// A3: one address spraying wrong passwords over many accounts reaches
// the address's ceiling after 100 failures; the honest people behind that
// same address signed in before, and none of their sign-ins counted
// towards it; another address is not slowed.
func TestOneAddressCannotSprayEveryAccount(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := behindProxy(t, opts)
		for i := range 10 { // an office's morning, behind one address
			user := []string{"alice", "bob"}[i%2]
			if !signsIn(t, s, browserFrom(t, s, office), user) {
				t.Fatalf("%s could not sign in from the office", user)
			}
		}
		b := browserFrom(t, s, office)
		page := signInPage(t, s, b)
		ceiling := account.DefaultThrottle.Address.Free
		evaluated := 0
		for i := range ceiling + 20 {
			st, err := attempt(b, page, fmt.Sprint("user", i), "guess")
			if err != nil {
				t.Fatal(err)
			}
			if st == http.StatusUnauthorized {
				evaluated++
			}
		}
		if evaluated != ceiling {
			t.Errorf("%d sprayed guesses evaluated from one address, want exactly %d", evaluated, ceiling)
		}
		if st, _ := attempt(b, page, "alice", sesametest.Password); st != http.StatusTooManyRequests {
			t.Errorf("the spraying address past its ceiling: %d, want 429", st)
		}
		if !signsIn(t, s, browserFrom(t, s, victim), "alice") {
			t.Error("another address was slowed by the spray")
		}
	})
}

// A1: usernames are compared in their RFC 8265 canonical form: `Alice`
// and a full-width `ＡＬＩＣＥ` sign in as alice, and the admin API and
// the configuration refuse to create a case or width twin of alice, or a
// name the profile refuses.
func TestUsernamesAreCanonical(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		alice, err := s.Store.AccountByUsername(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Alice", "ＡＬＩＣＥ"} {
			extra, verifier := pkce()
			cb := s.NewBrowser(t).SignIn(sesametest.AppA, name, extra)
			tok := s.Exchange(t, sesametest.AppA, cb.Code, verifier)
			if sub := s.IDClaims(t, tok.IDToken)["sub"]; sub != alice.ID {
				t.Errorf("%s signed in as %v, want alice (%s)", name, sub, alice.ID)
			}
		}

		admin := throttleAdminToken(t, s)
		for _, c := range []struct {
			username string
			want     int
		}{
			{"ALICE", http.StatusConflict},
			{"ａｌｉｃｅ", http.StatusConflict},
			{"al ice", http.StatusBadRequest},
			{"alice\u200b", http.StatusBadRequest},
			{"Carol", http.StatusCreated},
			{"CAROL", http.StatusConflict},
		} {
			st := throttleCreateAccount(t, s, admin, c.username)
			if st != c.want {
				t.Errorf("creating %q answered %d, want %d", c.username, st, c.want)
			}
		}
		if _, err := s.Store.AccountByUsername(t.Context(), "carol"); err != nil {
			t.Errorf("Carol was not stored as carol: %v", err)
		}

		cfg := config.Default()
		cfg.Users = []account.Spec{{Username: "alice", Password: "x"}, {Username: "ａｌｉｃｅ", Password: "y"}, {Username: "dave smith", Password: "z"}}
		err = cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "duplicate username") || !strings.Contains(err.Error(), "dave smith") {
			t.Errorf("a configuration declaring a twin of alice and an invalid name: %v", err)
		}
	})
}

// throttleAdminToken gets an admin API token for the robot client.
func throttleAdminToken(t *testing.T, s *sesametest.Sesame) string {
	t.Helper()
	resp, body := s.PostForm(t, "/token", sesametest.Robot, sesametest.Secret,
		url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("admin token: %d %s", resp.StatusCode, body)
	}
	return tok.AccessToken
}

// throttleCreateAccount asks the admin API for a new account and returns
// the status.
func throttleCreateAccount(t *testing.T, s *sesametest.Sesame, bearer, username string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": "a long enough password"})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/accounts", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
