package rp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/backchannel"
	"github.com/sesame-id/sesame/rp/resource"
)

// exampleTB lets the runnable examples start a test Sesame without a
// *testing.T.
type exampleTB struct{ cleanups []func() }

func (e *exampleTB) Helper()                      {}
func (e *exampleTB) Log(...any)                   {}
func (e *exampleTB) Fatal(args ...any)            { panic(fmt.Sprint(args...)) }
func (e *exampleTB) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }
func (e *exampleTB) Cleanup(f func())             { e.cleanups = append(e.cleanups, f) }
func (e *exampleTB) TempDir() string {
	d, _ := os.MkdirTemp("", "rp-example-")
	e.Cleanup(func() { os.RemoveAll(d) })
	return d
}
func (e *exampleTB) stop() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

// sesameForExample starts a Sesame with app-a registered and returns its
// issuer, a browser, and a stop function.
func sesameForExample() (*sesametest.Sesame, *sesametest.Browser, func()) {
	tb := &exampleTB{}
	s := sesametest.New(tb, sesametest.Options{})
	return s, s.NewBrowser(tb), tb.stop
}

// signedInApp returns an app signed in as alice and its session cookie.
func signedInApp(s *sesametest.Sesame, b *sesametest.Browser, opts ...rp.SignInOption) (*rp.Client, *http.Cookie) {
	ctx := context.Background()
	app, err := rp.New(ctx, rp.Config{Issuer: s.Issuer, ClientID: "app-a", ClientSecret: sesametest.Secret,
		RedirectURL: "https://app-a.example/callback", PostLogoutRedirectURL: "https://app-a.example/"})
	if err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	_ = app.SignIn(rec, httptest.NewRequest("GET", "/sign-in", nil), opts...)
	cookie := rec.Result().Cookies()[0]
	page := b.Get(rec.Header().Get("Location"))
	page = b.Submit(page, map[string]string{"username": "alice", "password": sesametest.Password})
	callback := httptest.NewRequest("GET", page.Location, nil)
	callback.AddCookie(cookie)
	rec = httptest.NewRecorder()
	if _, err := app.HandleCallback(rec, callback); err != nil {
		panic(err)
	}
	return app, rec.Result().Cookies()[0] // a new session ID once signed in
}

func request(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	return r
}

func ExampleNew() {
	s, _, stop := sesameForExample()
	defer stop()
	app, err := rp.New(context.Background(), rp.Config{
		Issuer: s.Issuer, ClientID: "app-a", ClientSecret: sesametest.Secret,
		RedirectURL: "https://app-a.example/callback",
	})
	fmt.Println(app != nil, err)
	// Output: true <nil>
}

func ExampleClient_SignIn() {
	s, _, stop := sesameForExample()
	defer stop()
	app, _ := rp.New(context.Background(), rp.Config{Issuer: s.Issuer, ClientID: "app-a", ClientSecret: sesametest.Secret,
		RedirectURL: "https://app-a.example/callback"})
	rec := httptest.NewRecorder()
	_ = app.SignIn(rec, httptest.NewRequest("GET", "/sign-in", nil), rp.WithOfflineAccess())
	to, _ := url.Parse(rec.Header().Get("Location"))
	q := to.Query()
	fmt.Println(strings.TrimPrefix(to.Path, "/oidc"), q.Get("code_challenge_method"), q.Get("prompt"), q.Get("scope"))
	// Output: /auth S256 consent openid profile email offline_access
}

func ExampleClient_HandleCallback() {
	s, b, stop := sesameForExample()
	defer stop()
	app, cookie := signedInApp(s, b)
	session, _ := app.Session(request(cookie))
	fmt.Println(session.Claims.PreferredUsername, session.SID != "")
	// Output: alice true
}

func ExampleClient_Claims() {
	s, b, stop := sesameForExample()
	defer stop()
	app, cookie := signedInApp(s, b)
	claims, _ := app.Claims(request(cookie))
	fmt.Println(claims.Email)
	// Output: alice@example.com
}

func ExampleClient_AccessToken() {
	s, b, stop := sesameForExample()
	defer stop()
	app, cookie := signedInApp(s, b, rp.WithOfflineAccess())
	at, err := app.AccessToken(context.Background(), nil, request(cookie))
	fmt.Println(len(at), err)
	// Output: 48 <nil>
}

func ExampleClient_AccessTokenFor() {
	// A Sesame whose token endpoint answers a refresh with resource by a
	// JWT access token for that API, and alice signed in to the app with
	// offline_access.
	tb := &exampleTB{}
	defer tb.stop()
	sesame := newFakeSesame(tb, time.Now)
	ctx := context.Background()
	sessions := rp.NewMemoryStore()
	app, err := rp.New(ctx, rp.Config{Issuer: sesame.issuer, ClientID: "app-a", ClientSecret: "secret",
		RedirectURL: "https://app-a.example/callback",
		Scopes:      []string{"openid", "profile", "read:orders"},
		Resources:   []string{"https://api.example.com/orders"}, // asked for at sign-in
		Sessions:    sessions})
	if err != nil {
		panic(err)
	}
	cookie := sesame.signedIn(tb, sessions, time.Now())

	// The Orders API, written with rp/resource.
	orders, err := resource.New(ctx, resource.Config{Issuer: sesame.issuer, Audience: "https://api.example.com/orders"})
	if err != nil {
		panic(err)
	}
	api := orders.Require("read:orders")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := resource.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "orders of %s", claims.Subject)
	}))

	// In the app's handler: a token for the API, then the call.
	w, r := httptest.NewRecorder(), request(cookie)
	token, expiresAt, err := app.AccessTokenFor(r.Context(), w, r, "https://api.example.com/orders")
	switch {
	case rp.NeedsSignIn(err):
		fmt.Println("send the person to sign in, with rp.WithOfflineAccess()")
		return
	case errors.Is(err, rp.ErrInvalidTarget):
		fmt.Println("the API is not registered at Sesame, or not in this sign-in's grant")
		return
	case err != nil:
		fmt.Println("Sesame is unreachable; try again later:", err)
		return
	}
	call := httptest.NewRequest("GET", "/orders", nil)
	call.Header.Set("Authorization", "Bearer "+token)
	answer := httptest.NewRecorder()
	api.ServeHTTP(answer, call)
	fmt.Println(answer.Code, answer.Body, time.Until(expiresAt) > 59*time.Minute)

	// The next call within the token's life is served from the session.
	again, _, _ := app.AccessTokenFor(ctx, w, request(cookie), "https://api.example.com/orders")
	fmt.Println(again == token)
	// Output:
	// 200 orders of alice-sub true
	// true
}

func ExampleNeedsSignIn() {
	for _, err := range []error{
		rp.ErrNoSession,
		rp.ErrNoRefreshToken,
		&rp.Error{Code: "invalid_grant", Description: "the grant was revoked"},
		&rp.Error{Code: "invalid_target", Description: "unknown API"},
		&rp.TransportError{Op: "token request", Err: errors.New("connection refused")},
	} {
		fmt.Println(rp.NeedsSignIn(err), err)
	}
	// Output:
	// true rp: no signed-in session
	// true rp: the session has no refresh token (sign in with offline access)
	// true rp: invalid_grant: the grant was revoked
	// false rp: invalid_target: unknown API
	// false rp: token request: connection refused
}

func ExampleClient_UserInfo() {
	s, b, stop := sesameForExample()
	defer stop()
	app, cookie := signedInApp(s, b)
	info, _ := app.UserInfo(context.Background(), nil, request(cookie))
	fmt.Println(info.Name)
	// Output: Alice Example
}

func ExampleClient_SignOutWeb() {
	s, b, stop := sesameForExample()
	defer stop()
	app, cookie := signedInApp(s, b)
	rec := httptest.NewRecorder()
	_ = app.SignOutWeb(rec, request(cookie))
	to, _ := url.Parse(rec.Header().Get("Location"))
	q := to.Query()
	fmt.Println(strings.TrimPrefix(to.Path, "/oidc"), q.Get("client_id"), q.Get("post_logout_redirect_uri"), q.Get("id_token_hint") != "")
	_, err := app.Session(request(cookie))
	fmt.Println(err)
	// Output:
	// /session/end app-a https://app-a.example/ true
	// rp: no signed-in session
}

func ExampleClient_SignOutLocal() {
	s, b, stop := sesameForExample()
	defer stop()
	app, cookie := signedInApp(s, b)
	_ = app.SignOutLocal(httptest.NewRecorder(), request(cookie))
	_, err := app.Session(request(cookie))
	cb := b.SignIn("app-a", "alice", url.Values{"prompt": {"none"}})
	fmt.Println(err, cb.Code != "") // the app is signed out; Sesame still knows alice
	// Output: rp: no signed-in session true
}

func ExampleSignInNative() {
	s, b, stop := sesameForExample()
	defer stop()
	tok, err := rp.SignInNative(context.Background(), rp.NativeConfig{Issuer: s.Issuer, ClientID: "cli"},
		func(authURL string) error {
			// A real app opens the system browser here.
			page := b.Get(authURL)
			page = b.Submit(page, map[string]string{"username": "alice", "password": sesametest.Password})
			resp, err := http.Get(page.Location)
			if err == nil {
				resp.Body.Close()
			}
			return err
		})
	fmt.Println(tok.Claims.PreferredUsername, tok.RefreshToken != "", err)
	// Output: alice true <nil>
}

func ExampleMemoryStore() {
	store := rp.NewMemoryStore()
	ctx := context.Background()
	_ = store.Put(ctx, &rp.Session{ID: "s1", Subject: "alice", SID: "sid-1"})
	_ = store.Put(ctx, &rp.Session{ID: "s2", Subject: "alice", SID: "sid-2"})
	n, _ := store.EndBySID(ctx, "sid-1")
	_, err := store.Get(ctx, "s1")
	fmt.Println(n, err)
	// Output: 1 rp: no signed-in session
}

func ExampleMemoryStore_Update() {
	store := rp.NewMemoryStore()
	ctx := context.Background()
	s := &rp.Session{ID: "s1", Subject: "alice", SID: "sid-1", AccessToken: "old"}
	_ = store.Put(ctx, s)
	_, _ = store.EndBySID(ctx, "sid-1") // a back-channel logout lands mid-refresh
	s.AccessToken = "refreshed"
	fmt.Println(store.Update(ctx, s)) // the refreshed tokens are not kept
	// Output: rp: session signed out
}

func ExampleWithOfflineAccess() {
	s, _, stop := sesameForExample()
	defer stop()
	app, _ := rp.New(context.Background(), rp.Config{Issuer: s.Issuer, ClientID: "app-a", ClientSecret: sesametest.Secret,
		RedirectURL: "https://app-a.example/callback"})
	rec := httptest.NewRecorder()
	_ = app.SignIn(rec, httptest.NewRequest("GET", "/sign-in", nil), rp.WithPromptLogin(), rp.WithOfflineAccess())
	to, _ := url.Parse(rec.Header().Get("Location"))
	fmt.Printf("prompt=%s scope=%s\n", to.Query().Get("prompt"), to.Query().Get("scope"))
	// Output: prompt=login consent scope=openid profile email offline_access
}

func ExampleClient_Verifier() {
	s, _, stop := sesameForExample()
	defer stop()
	app, _ := rp.New(context.Background(), rp.Config{Issuer: s.Issuer, ClientID: "app-a", ClientSecret: sesametest.Secret,
		RedirectURL: "https://app-a.example/callback"})
	// Mount at the back-channel logout URI registered for the app, with
	// the store the app's Client keeps its sessions in.
	h, err := backchannel.New(backchannel.Config{Verifier: app.Verifier(), Sessions: rp.NewMemoryStore()})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /backchannel-logout", h)
	fmt.Println("mounted")
	// Output: mounted
}

func ExampleClient_Session() {
	s, b, stop := sesameForExample()
	defer stop()
	app, cookie := signedInApp(s, b)
	session, err := app.Session(request(cookie))
	fmt.Println(session.SignedIn(), err)
	_, err = app.Session(httptest.NewRequest("GET", "/", nil))
	fmt.Println(err)
	// Output:
	// true <nil>
	// rp: no signed-in session
}

func ExampleWithPromptLogin() {
	s, _, stop := sesameForExample()
	defer stop()
	app, _ := rp.New(context.Background(), rp.Config{Issuer: s.Issuer, ClientID: "app-a", ClientSecret: sesametest.Secret,
		RedirectURL: "https://app-a.example/callback"})
	rec := httptest.NewRecorder()
	_ = app.SignIn(rec, httptest.NewRequest("GET", "/sign-in", nil), rp.WithPromptLogin())
	to, _ := url.Parse(rec.Header().Get("Location"))
	fmt.Println(to.Query().Get("prompt"))
	// Output: login
}

func ExampleNewCookieStore() {
	store, err := rp.NewCookieStore([]byte("a cookie secret of at least thirty-two bytes"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	s := &rp.Session{ID: "s1", Subject: "alice", SID: "sid-1", AccessToken: "at"}
	_ = store.Put(ctx, s)
	cookie, _ := store.Encode(s) // the Client writes this as the cookie value
	got, err := store.Get(ctx, cookie)
	fmt.Println(got.Subject, err)
	_, _ = store.EndBySID(ctx, "sid-1") // a back-channel logout
	_, err = store.Get(ctx, cookie)
	fmt.Println(err)
	// Output:
	// alice <nil>
	// rp: no signed-in session
}
