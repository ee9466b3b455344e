package rp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/backchannel"
)

// webApp is an app built on rp, with its back-channel handler on a real
// listener Sesame posts to.
type webApp struct {
	id       string
	client   *rp.Client
	sessions rp.SessionStore
	bc       *httptest.Server
	handler  *backchannel.Handler
}

// world is a Sesame whose app-a and app-b post back-channel logouts to rp
// apps.
func world(t *testing.T) (*sesametest.Sesame, map[string]*webApp) {
	return worldWith(t, func() rp.SessionStore { return rp.NewMemoryStore() })
}

// worldWith is world with the apps' session stores made by newStore.
func worldWith(t *testing.T, newStore func() rp.SessionStore) (*sesametest.Sesame, map[string]*webApp) {
	t.Helper()
	apps := map[string]*webApp{}
	for _, id := range []string{sesametest.AppA, sesametest.AppB} {
		a := &webApp{id: id, sessions: newStore()}
		a.bc = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }))
		t.Cleanup(a.bc.Close)
		apps[id] = a
	}
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		for i, cl := range c.Clients {
			if a, ok := apps[cl.ID]; ok {
				c.Clients[i].BackchannelLogoutURI = a.bc.URL
			}
		}
	}})
	for id, a := range apps {
		c, err := rp.New(t.Context(), rp.Config{
			Issuer: s.Issuer, ClientID: id, ClientSecret: sesametest.Secret,
			RedirectURL: sesametest.RedirectURI(id), PostLogoutRedirectURL: "https://" + id + ".example/",
			Sessions: a.sessions, CookieName: id + "_session",
		})
		if err != nil {
			t.Fatal(err)
		}
		a.client = c
		if a.handler, err = backchannel.New(backchannel.Config{Verifier: c.Verifier(), Sessions: a.sessions}); err != nil {
			t.Fatal(err)
		}
	}
	return s, apps
}

// signIn runs the app's sign-in through the browser and returns the app's
// session cookie.
func signIn(t *testing.T, a *webApp, b *sesametest.Browser, opts ...rp.SignInOption) (*http.Cookie, *rp.Session, bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := a.client.SignIn(rec, httptest.NewRequest("GET", "/sign-in", nil), opts...); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	p := b.Get(rec.Header().Get("Location"))
	showedSignIn := sesametest.IsSignInPage(p)
	if showedSignIn {
		p = b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password})
	}
	cb := sesametest.Landed(t, p)
	req := httptest.NewRequest("GET", cb.URL.String(), nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	sess, err := a.client.HandleCallback(rec, req)
	if err != nil {
		t.Fatalf("callback of %s: %v", a.id, err)
	}
	if set := rec.Result().Cookies(); len(set) > 0 {
		cookie = set[0]
	}
	return cookie, sess, showedSignIn
}

func withCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	return r
}

// Sign in to app A, SSO into app B, sign out of A (web mode): B's own
// session ends through its back-channel handler, and both are signed out
// at Sesame.
func TestWebSignOutEndsEveryApp(t *testing.T) {
	s, apps := world(t)
	b := s.NewBrowser(t)
	ca, sa, first := signIn(t, apps[sesametest.AppA], b)
	cb, sb, second := signIn(t, apps[sesametest.AppB], b)
	if !first || second {
		t.Fatalf("sign-in page shown: A %v, B %v; want A only (SSO for B)", first, second)
	}
	if sa.Claims.Email != "alice@example.com" || sb.SID == "" || sa.SID == sb.SID {
		t.Errorf("sessions %+v %+v", sa, sb)
	}
	rec := httptest.NewRecorder()
	if err := apps[sesametest.AppA].client.SignOutWeb(rec, withCookie(ca)); err != nil {
		t.Fatal(err)
	}
	end, _ := url.Parse(rec.Header().Get("Location"))
	q := end.Query()
	if !strings.HasSuffix(end.Path, "/session/end") || q.Get("id_token_hint") == "" || q.Get("client_id") != sesametest.AppA ||
		q.Get("post_logout_redirect_uri") != "https://app-a.example/" || q.Get("state") == "" {
		t.Fatalf("end-session URL %s", end)
	}
	if _, err := apps[sesametest.AppA].client.Session(withCookie(ca)); err == nil {
		t.Error("app A's session survived its sign-out")
	}
	done := b.Submit(b.Get(end.String()), map[string]string{"logout": "true"})
	if !strings.HasPrefix(done.Location, "https://app-a.example/?state=") {
		t.Fatalf("after confirm: %d %s", done.Status, done.Location)
	}
	if _, err := apps[sesametest.AppB].client.Session(withCookie(cb)); err == nil {
		t.Error("app B's session survived the back-channel logout")
	}
	for _, id := range []string{sesametest.AppA, sesametest.AppB} {
		if c := b.SignIn(id, "alice", url.Values{"prompt": {"none"}}); c.Error != "login_required" {
			t.Errorf("%s: still signed in at Sesame: %+v", id, c)
		}
	}
}

// Native sign-out clears the app and revokes its refresh token, and leaves
// Sesame's session and app B alone.
func TestLocalSignOutLeavesSesameAndOtherApps(t *testing.T) {
	s, apps := world(t)
	b := s.NewBrowser(t)
	ca, sa, _ := signIn(t, apps[sesametest.AppA], b, rp.WithOfflineAccess())
	cb, _, _ := signIn(t, apps[sesametest.AppB], b)
	if sa.RefreshToken == "" {
		t.Fatal("no refresh token with WithOfflineAccess")
	}
	if err := apps[sesametest.AppA].client.SignOutLocal(httptest.NewRecorder(), withCookie(ca)); err != nil {
		t.Fatal(err)
	}
	if r := s.Refresh(t, sesametest.AppA, sa.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("the refresh token was not revoked: %+v", r.Raw)
	}
	if _, err := apps[sesametest.AppB].client.Session(withCookie(cb)); err != nil {
		t.Errorf("app B lost its session: %v", err)
	}
	if c := b.SignIn(sesametest.AppB, "alice", url.Values{"prompt": {"none"}}); c.Code == "" {
		t.Errorf("Sesame's session ended: %+v", c)
	}
}

// AccessToken refreshes once for many concurrent callers (the grant
// survives: no reuse), and a sign-out during a refresh does not bring the
// credentials back.
func TestAccessTokenRefreshRaceAndSignOut(t *testing.T) {
	s, apps := world(t)
	a := apps[sesametest.AppA]
	ca, sess, _ := signIn(t, a, s.NewBrowser(t), rp.WithOfflineAccess())
	sess.Expiry = time.Now().Add(-time.Second)
	_ = a.sessions.Put(t.Context(), sess)
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() { tokens[i], errs[i] = a.client.AccessToken(t.Context(), nil, withCookie(ca)) })
	}
	wg.Wait()
	for i := range 8 {
		if errs[i] != nil || tokens[i] != tokens[0] || tokens[0] == sess.AccessToken {
			t.Fatalf("caller %d: %q %v (first %q)", i, tokens[i], errs[i], tokens[0])
		}
	}
	if st, _ := s.UserInfo(t, tokens[0]); st != 200 {
		t.Errorf("the refreshed token does not work (grant revoked by reuse?): %d", st)
	}

	// A sign-out lands while the refresh is on the wire.
	cur, _ := a.sessions.Get(t.Context(), sess.ID)
	cur.Expiry = time.Now().Add(-time.Second)
	_ = a.sessions.Put(t.Context(), cur)
	racing, err := rp.New(t.Context(), rp.Config{
		Issuer: s.Issuer, ClientID: a.id, ClientSecret: sesametest.Secret, RedirectURL: sesametest.RedirectURI(a.id),
		Sessions: a.sessions, CookieName: a.id + "_session",
		HTTPClient: &http.Client{Transport: signOutDuring{sessions: a.sessions, id: sess.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := racing.AccessToken(t.Context(), nil, withCookie(ca)); err != rp.ErrSignedOut {
		t.Errorf("refresh during sign-out: %v, want ErrSignedOut", err)
	}
	if _, err := a.sessions.Get(t.Context(), sess.ID); err == nil {
		t.Error("the refresh brought the signed-out session back")
	}
}

// signOutDuring ends the app session when the token request goes out.
type signOutDuring struct {
	sessions rp.SessionStore
	id       string
}

func (s signOutDuring) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/token") {
		_ = s.sessions.Delete(context.Background(), s.id)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// RFC 8252: a native client signs in through a loopback redirect on any
// port, with PKCE, and gets a refresh token with offline_access.
func TestNativeSignInThroughLoopback(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	tok, err := rp.SignInNative(t.Context(), rp.NativeConfig{Issuer: s.Issuer, ClientID: sesametest.Native}, func(authURL string) error {
		p := b.Get(authURL)
		p = b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password})
		resp, err := http.Get(sesametest.Landed(t, p).URL.String()) // the system browser lands on the loopback
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Claims.PreferredUsername != "alice" {
		t.Errorf("tokens %+v", tok)
	}
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 200 {
		t.Errorf("userinfo: %d", st)
	}
}

// The cookie store: sessions live sealed in the cookie; a back-channel
// logout, a sign-out and tampering all end them; a refresh race on one old
// cookie presents the refresh token once.
func TestCookieStore(t *testing.T) {
	secret := []byte("a cookie secret of at least thirty-two bytes")
	s, apps := worldWith(t, func() rp.SessionStore {
		cs, err := rp.NewCookieStore(secret)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	})
	b := s.NewBrowser(t)
	a, bApp := apps[sesametest.AppA], apps[sesametest.AppB]
	ca, sa, _ := signIn(t, a, b, rp.WithOfflineAccess())
	cb, _, _ := signIn(t, bApp, b)
	if len(ca.Value) < 100 || strings.Contains(ca.Value, sa.Subject) {
		t.Errorf("the cookie does not look sealed: %q", ca.Value)
	}
	tampered := *ca
	tampered.Value = ca.Value[:len(ca.Value)-2] + "AA"
	if _, err := a.client.Session(withCookie(&tampered)); err == nil {
		t.Error("a tampered cookie opened")
	}

	// Eight requests carrying one expired cookie refresh once.
	sa.Expiry = time.Now().Add(-time.Second)
	rec := httptest.NewRecorder()
	if err := a.client.SignOutLocal(rec, withCookie(ca)); err != nil { // make a fresh store state below
		t.Fatal(err)
	}
	ca2, sa2, _ := signIn(t, a, b, rp.WithOfflineAccess())
	expired := *sa2
	expired.Expiry = time.Now().Add(-time.Second)
	old, _ := a.sessions.(rp.Encoder).Encode(&expired)
	_ = a.sessions.Put(t.Context(), &expired)
	oldCookie := &http.Cookie{Name: ca2.Name, Value: old}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() { _, errs[i] = a.client.AccessToken(t.Context(), httptest.NewRecorder(), withCookie(oldCookie)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
	at, err := a.client.AccessToken(t.Context(), httptest.NewRecorder(), withCookie(oldCookie))
	if st, _ := s.UserInfo(t, at); err != nil || st != 200 {
		t.Errorf("after the race the grant is dead (a rotated refresh token presented twice?): %v %d", err, st)
	}

	// Web sign-out of A: B's cookie session ends by back-channel logout.
	rec = httptest.NewRecorder()
	_ = a.client.SignOutWeb(rec, withCookie(ca2))
	b.Submit(b.Get(rec.Header().Get("Location")), map[string]string{"logout": "true"})
	if _, err := bApp.client.Session(withCookie(cb)); err == nil {
		t.Error("app B's cookie session survived the back-channel logout")
	}
	if _, err := a.client.Session(withCookie(ca2)); err == nil {
		t.Error("app A's cookie session survived its sign-out")
	}
}

// The session a sign-in ran under was in the browser before the person
// authenticated, so the signed-in session gets a new ID (session
// fixation); and prompt options combine.
func TestSignInMakesANewSessionAndCombinesPrompts(t *testing.T) {
	s, apps := world(t)
	a := apps[sesametest.AppA]
	b := s.NewBrowser(t)
	signIn(t, a, b) // Sesame now has a session: only prompt=login shows the form
	rec := httptest.NewRecorder()
	if err := a.client.SignIn(rec, httptest.NewRequest("GET", "/sign-in", nil), rp.WithPromptLogin(), rp.WithOfflineAccess()); err != nil {
		t.Fatal(err)
	}
	before := rec.Result().Cookies()[0]
	to, _ := url.Parse(rec.Header().Get("Location"))
	if p := to.Query().Get("prompt"); p != "login consent" {
		t.Errorf("prompt %q, want %q", p, "login consent")
	}
	p := b.Get(to.String())
	if !sesametest.IsSignInPage(p) {
		t.Fatal("prompt=login did not ask for the password")
	}
	cb := sesametest.Landed(t, b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password}))
	req := httptest.NewRequest("GET", cb.URL.String(), nil)
	req.AddCookie(before)
	rec = httptest.NewRecorder()
	sess, err := a.client.HandleCallback(rec, req)
	if err != nil {
		t.Fatal(err)
	}
	after := rec.Result().Cookies()[0]
	if after.Value == before.Value {
		t.Fatal("the signed-in session kept the sign-in's ID")
	}
	if _, err := a.client.Session(withCookie(before)); err != rp.ErrNoSession {
		t.Errorf("the pre-sign-in cookie opens the signed-in session: %v", err)
	}
	if got, err := a.client.Session(withCookie(after)); err != nil || got.Subject != sess.Subject {
		t.Errorf("the new cookie: %v %v", got, err)
	}
	if sess.RefreshToken == "" {
		t.Error("prompt=login consent with offline_access gave no refresh token")
	}
}

// A sign-out that lands between a refresh's answer and its write stays a
// sign-out, whichever store: the store's Update refuses an ended session
// and the new refresh token is revoked. Then the same race for real, many
// times over, between concurrent AccessToken calls and SignOutLocal.
func TestRefreshCannotUndoASignOut(t *testing.T) {
	secret := []byte("a cookie secret of at least thirty-two bytes")
	stores := map[string]func() rp.SessionStore{
		"memory": func() rp.SessionStore { return rp.NewMemoryStore() },
		"cookie": func() rp.SessionStore {
			cs, err := rp.NewCookieStore(secret)
			if err != nil {
				t.Fatal(err)
			}
			return cs
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			racing := &signOutBeforeUpdate{SessionStore: newStore()}
			made := 0
			s, apps := worldWith(t, func() rp.SessionStore {
				if made++; made > 1 {
					return newStore()
				}
				if _, ok := racing.SessionStore.(rp.Encoder); ok {
					return sealingSignOutBeforeUpdate{racing}
				}
				return racing
			})
			a := apps[sesametest.AppA]
			if a.sessions != racing && a.sessions != (sealingSignOutBeforeUpdate{racing}) {
				a = apps[sesametest.AppB]
			}
			b := s.NewBrowser(t)
			expire := func(c *http.Cookie, sess *rp.Session) *http.Cookie {
				sess.Expiry = time.Now().Add(-time.Second)
				_ = racing.SessionStore.Put(t.Context(), sess)
				if enc, ok := racing.SessionStore.(rp.Encoder); ok {
					v, _ := enc.Encode(sess)
					return &http.Cookie{Name: c.Name, Value: v}
				}
				return c
			}

			c, sess, _ := signIn(t, a, b, rp.WithOfflineAccess())
			c = expire(c, sess)
			racing.armed.Store(true)
			if _, err := a.client.AccessToken(t.Context(), httptest.NewRecorder(), withCookie(c)); err != rp.ErrSignedOut {
				t.Errorf("refresh racing a sign-out: %v, want ErrSignedOut", err)
			}
			racing.armed.Store(false)
			if _, err := a.client.Session(withCookie(c)); err != rp.ErrNoSession {
				t.Errorf("the refresh brought the session back: %v", err)
			}

			for round := range 15 {
				c, sess, _ := signIn(t, a, b, rp.WithOfflineAccess())
				c = expire(c, sess)
				var wg sync.WaitGroup
				for range 4 {
					wg.Go(func() {
						_, err := a.client.AccessToken(t.Context(), httptest.NewRecorder(), withCookie(c))
						if err != nil && err != rp.ErrSignedOut && err != rp.ErrNoSession {
							t.Errorf("round %d: refresh: %v", round, err)
						}
					})
				}
				wg.Go(func() { _ = a.client.SignOutLocal(httptest.NewRecorder(), withCookie(c)) })
				wg.Wait()
				if got, err := a.client.Session(withCookie(c)); err != rp.ErrNoSession {
					t.Fatalf("round %d: signed out, yet the session is back: %+v %v", round, got, err)
				}
			}
		})
	}
}

// signOutBeforeUpdate, when armed, deletes a session just before the
// Client writes its refreshed tokens: a sign-out in the narrowest window.
type signOutBeforeUpdate struct {
	rp.SessionStore
	armed atomic.Bool
}

func (s *signOutBeforeUpdate) Update(ctx context.Context, x *rp.Session) error {
	if s.armed.Load() {
		_ = s.SessionStore.Delete(ctx, x.ID)
	}
	return s.SessionStore.Update(ctx, x)
}

// sealingSignOutBeforeUpdate is signOutBeforeUpdate over a store that
// keeps sessions in the cookie.
type sealingSignOutBeforeUpdate struct{ *signOutBeforeUpdate }

func (s sealingSignOutBeforeUpdate) Encode(x *rp.Session) (string, error) {
	return s.SessionStore.(rp.Encoder).Encode(x)
}

// Two instances of one app share a session store: with a RefreshLocker
// their refreshes of one session take turns, so Sesame sees one rotation,
// not a reuse that would revoke the grant.
func TestRefreshLockerSpansAppInstances(t *testing.T) {
	shared := &lockingStore{MemoryStore: rp.NewMemoryStore(), locks: map[string]*sync.Mutex{}}
	s, apps := worldWith(t, func() rp.SessionStore { return shared })
	a := apps[sesametest.AppA]
	other, err := rp.New(t.Context(), rp.Config{ // a second instance of app-a
		Issuer: s.Issuer, ClientID: a.id, ClientSecret: sesametest.Secret, RedirectURL: sesametest.RedirectURI(a.id),
		Sessions: shared, CookieName: a.id + "_session",
	})
	if err != nil {
		t.Fatal(err)
	}
	c, sess, _ := signIn(t, a, s.NewBrowser(t), rp.WithOfflineAccess())
	sess.Expiry = time.Now().Add(-time.Second)
	_ = shared.Put(t.Context(), sess)
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	errs := make([]error, 8)
	for i := range 8 {
		instance := a.client
		if i%2 == 1 {
			instance = other
		}
		wg.Go(func() { tokens[i], errs[i] = instance.AccessToken(t.Context(), nil, withCookie(c)) })
	}
	wg.Wait()
	for i := range 8 {
		if errs[i] != nil || tokens[i] != tokens[0] {
			t.Fatalf("caller %d: %q %v (first %q)", i, tokens[i], errs[i], tokens[0])
		}
	}
	if st, _ := s.UserInfo(t, tokens[0]); st != 200 {
		t.Errorf("the refreshed token does not work (grant revoked by a reuse across instances?): %d", st)
	}
	if shared.locked.Load() == 0 {
		t.Error("the store's refresh lock was never taken")
	}
}

// lockingStore is a shared store whose refresh lock stands for one in
// the app's database.
type lockingStore struct {
	*rp.MemoryStore
	mu     sync.Mutex
	locks  map[string]*sync.Mutex
	locked atomic.Int64
}

func (l *lockingStore) LockRefresh(_ context.Context, id string) (func(), error) {
	l.mu.Lock()
	m, ok := l.locks[id]
	if !ok {
		m = &sync.Mutex{}
		l.locks[id] = m
	}
	l.mu.Unlock()
	m.Lock()
	l.locked.Add(1)
	return m.Unlock, nil
}
