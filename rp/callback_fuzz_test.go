package rp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/rp"
)

// FuzzHandleCallback gives Client.HandleCallback arbitrary query strings
// and Cookie headers, with a MemoryStore and with a CookieStore (whose
// cookie is a sealed session to open). It must never panic, and it signs
// in only with the pending sign-in's cookie, its state, and a code Sesame
// issued for it; anything else is an error.
//
// Placeholders keep seeds meaningful in every process (go test -fuzz
// hands the coordinator's seed values to worker processes that each built
// their own Sesame) and from one run to the next: in the Cookie header,
// {pending} stands for this process's cookie of the pending sign-in (a
// sealed cookie differs each time); in the query, {iss} for the issuer,
// whose port changes, and {code} for a fresh code of the pending sign-in.
func FuzzHandleCallback(f *testing.F) {
	ctx := context.Background()
	s := sesametest.New(quiet{f}, sesametest.Options{})
	verifier := "a-pkce-verifier-for-the-fuzzed-callback-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	pending := rp.Session{ID: "pending-sign-in", State: "fuzz-state", Nonce: "fuzz-nonce", Verifier: verifier}

	memory := rp.NewMemoryStore()
	sealed, err := rp.NewCookieStore([]byte("a secret of at least 32 bytes for rp cookies"))
	if err != nil {
		f.Fatal(err)
	}
	newClient := func(sessions rp.SessionStore) *rp.Client {
		c, err := rp.New(ctx, rp.Config{Issuer: s.Issuer, ClientID: sesametest.AppA, ClientSecret: sesametest.Secret,
			RedirectURL: sesametest.RedirectURI(sesametest.AppA), Sessions: sessions})
		if err != nil {
			f.Fatal(err)
		}
		return c
	}
	memoryClient, sealedClient := newClient(memory), newClient(sealed)
	withCreated := pending
	withCreated.Created = time.Now()
	sealedPending, err := sealed.Encode(&withCreated)
	if err != nil {
		f.Fatal(err)
	}

	// Codes Sesame issued for the pending sign-in (its state, nonce and
	// PKCE challenge) are the only ones that may sign in. {code} in a query
	// stands for a fresh one, made in this process.
	jar := s.NewBrowser(f).HTTP.Jar
	extra := url.Values{"state": {pending.State}, "nonce": {pending.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	var mu sync.Mutex
	codes := map[string]bool{}
	newCode := func(t sesametest.TB) string {
		b := s.NewBrowser(t)
		b.HTTP.Jar = jar // alice stays signed in
		cb := b.SignIn(sesametest.AppA, "alice", extra)
		if cb.Code == "" {
			t.Fatalf("no code: %q", cb.Error)
		}
		mu.Lock()
		codes[cb.Code] = true
		mu.Unlock()
		return cb.Code
	}
	newCode(f)
	issuer := url.QueryEscape(s.Issuer)
	for _, q := range []string{
		"code={code}&state=fuzz-state&iss={iss}",
		"code={code}&state=fuzz-state",
		"code={code}&state=fuzz-state&iss=https%3A%2F%2Fevil.example",
		"code={code}&state=other&iss={iss}",
		"code={code}",
		"code={code}x&state=fuzz-state",
		"code={code}&code={code}&state=fuzz-state",
		"code={code}&state=fuzz-state&state=other",
		"code=x&state=fuzz-state&iss={iss}",
		"state=fuzz-state",
		"code=&state=",
		"error=access_denied&error_description=no&state=fuzz-state",
		"error=&state=fuzz-state&code={code}",
		"code=%zz&state=fuzz-state",
		"",
	} {
		for _, c := range []string{"rp_session=pending-sign-in", "rp_session={pending}", "rp_session=pending-sign-in; rp_session=x", "rp_session=", ""} {
			f.Add(q, c, c == "rp_session={pending}")
		}
	}
	for _, c := range []string{"rp_session={pending}x", "rp_session=" + strings.Repeat("A", 200), "rp_session=!!", `rp_session="{pending}"`} {
		f.Add("code={code}&state=fuzz-state", c, true)
	}

	f.Fuzz(func(t *testing.T, query, cookie string, useCookieStore bool) {
		c, value := memoryClient, pending.ID
		if useCookieStore {
			c, value = sealedClient, sealedPending
		} else {
			restored := pending
			restored.Created = time.Now()
			_ = memory.Put(ctx, &restored) // a success used it up
		}
		cookie = strings.ReplaceAll(cookie, "{pending}", value)
		if !sesametest.HeaderValue(cookie) || !queryValue(query) {
			return
		}
		query = strings.ReplaceAll(query, "{iss}", issuer)
		if strings.Contains(query, "{code}") {
			query = strings.ReplaceAll(query, "{code}", newCode(t))
		}
		req := httptest.NewRequest(http.MethodGet, sesametest.RedirectURI(sesametest.AppA), nil)
		req.URL.RawQuery = query
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		sess, err := c.HandleCallback(httptest.NewRecorder(), req)
		if err != nil {
			return
		}
		q, _ := url.ParseQuery(query)
		mu.Lock()
		issued := codes[q.Get("code")]
		mu.Unlock()
		switch {
		case !issued || q.Get("state") != pending.State || !strings.Contains(cookie, value):
			t.Fatalf("signed in with query %q and Cookie %q", query, cookie)
		case !sess.SignedIn() || sess.ID == pending.ID:
			t.Fatalf("signed in to session %+v", sess)
		}
	})
}

// quiet is f for starting the Sesame the iterations share: in verbose
// mode its logger would write through f.Log, which panics once the fuzz
// function runs, so its log goes nowhere.
type quiet struct{ *testing.F }

// Log drops the line.
func (quiet) Log(...any) {}

// queryValue reports whether q can arrive as a request's query: no space,
// fragment or control character, which no request line carries.
func queryValue(q string) bool {
	return !strings.ContainsFunc(q, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' })
}
