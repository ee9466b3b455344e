package backchannel_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// seen is what an in-process handler was handed.
type seen struct {
	mu                                    sync.Mutex
	calls                                 int
	method, path, requestURI, host, ctype string
	token                                 string
}

// recorder answers 200 with a header and a body, and records the request.
func (s *seen) recorder() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls++
		s.method, s.path, s.requestURI, s.host = r.Method, r.URL.Path, r.RequestURI, r.Host
		s.ctype, s.token = r.Header.Get("Content-Type"), r.PostFormValue("logout_token")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "told")
	})
}

// post posts a logout token form to uri through c.
func post(c *http.Client, uri string) (*http.Response, error) {
	return c.Post(uri, "application/x-www-form-urlencoded", strings.NewReader(url.Values{"logout_token": {"tok"}}.Encode()))
}

// B5, issue 15: a request to a registered local URI is served in process
// by its handler, through a client that refuses loopback, at an address
// where nothing listens; everything else still goes through the filter
// and is refused on loopback, even on the same host and path with a
// query, and never reaches the server there. A handler's panic is an
// error, not a crash.
func TestLocalURIsAreServedInProcess(t *testing.T) {
	const local = "http://127.0.0.1:1/console/backchannel-logout"
	c, l := backchannel.WithLocal(backchannel.NewHTTPClient(false))
	var s seen
	if err := l.Handle(local, s.recorder()); err != nil {
		t.Fatal(err)
	}
	resp, err := post(c, local)
	if err != nil {
		t.Fatalf("the local URI: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "told" || resp.Header.Get("Cache-Control") != "no-store" || resp.ContentLength != 4 {
		t.Errorf("answer %d %q %v", resp.StatusCode, body, resp.Header)
	}
	s.mu.Lock()
	if s.calls != 1 || s.method != http.MethodPost || s.path != "/console/backchannel-logout" || s.requestURI != "/console/backchannel-logout" ||
		s.host != "127.0.0.1:1" || s.ctype != "application/x-www-form-urlencoded" || s.token != "tok" {
		t.Errorf("the handler was handed %+v", &s)
	}
	s.mu.Unlock()
	// The scheme and host compare whatever their case.
	if resp, err := post(c, "HTTP://127.0.0.1:1/console/backchannel-logout"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the local URI with its scheme in capitals: %v", err)
	} else {
		resp.Body.Close()
	}

	app := sesametest.NewApp(t, "elsewhere")
	for _, uri := range []string{local + "?x=1", "http://127.0.0.1:1/console/other", app.BackchannelURI()} {
		resp, err := post(c, uri)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, backchannel.ErrForbiddenAddress) {
			t.Errorf("%s: %v, want the private address refused", uri, err)
		}
	}
	if app.Calls() != 0 {
		t.Errorf("the app on loopback was reached %d times", app.Calls())
	}
	s.mu.Lock()
	if s.calls != 2 {
		t.Errorf("the local handler served %d requests, want 2", s.calls)
	}
	s.mu.Unlock()

	if err := l.Handle(local, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })); err != nil {
		t.Fatal(err)
	}
	if resp, err := post(c, local); err == nil || !strings.Contains(err.Error(), "panic: boom") {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("a panicking handler: %v", err)
	}
	if err := l.Handle("/console/backchannel-logout", s.recorder()); err == nil {
		t.Error("a relative URI was accepted")
	}
}

// A handler that writes nothing answers 200; one that writes a status
// answers it, with the headers it had set by then.
func TestLocalAnswers(t *testing.T) {
	const uri = "https://sesame.example/console/backchannel-logout"
	c, l := backchannel.WithLocal(&http.Client{Transport: failing{}})
	for _, tc := range []struct {
		name   string
		h      http.HandlerFunc
		status int
		header string
	}{
		{"nothing written", func(http.ResponseWriter, *http.Request) {}, http.StatusOK, ""},
		{"400", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Before", "yes")
			w.WriteHeader(http.StatusBadRequest)
			w.Header().Set("X-After", "no")
		}, http.StatusBadRequest, "yes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := l.Handle(uri, tc.h); err != nil {
				t.Fatal(err)
			}
			resp, err := post(c, uri)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("X-Before") != tc.header || resp.Header.Get("X-After") != "" {
				t.Errorf("answer %d %v", resp.StatusCode, resp.Header)
			}
		})
	}
	// Anything else goes to the wrapped transport.
	if _, err := post(c, "https://other.example/backchannel-logout"); err == nil || !strings.Contains(err.Error(), "went out") {
		t.Errorf("another URI: %v", err)
	}
}

// failing is a transport that refuses every request, to tell one that
// went out from one served in process.
type failing struct{}

func (failing) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, errors.New("went out to " + r.URL.String())
}

// B3, issue 15: a delivery to a local URI is the same durable delivery as
// any other (one attempt, recorded delivered with its status, the app
// verifying a signed logout token) though the client refuses loopback,
// while the delivery to an app on loopback through the same client is
// refused and fails. Here app-b's own handler is served in process.
func TestLocalDeliveryIsRecordedAsAnyOther(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		hc, l := backchannel.WithLocal(backchannel.NewHTTPClient(false))
		opts.DeliveryHTTP = hc
		s := sesametest.New(t, opts)
		appB := s.Apps[sesametest.AppB]
		if err := l.Handle(appB.BackchannelURI(), appB.HTTP.Config.Handler); err != nil {
			t.Fatal(err)
		}
		b := s.NewBrowser(t)
		b.SignedIn(sesametest.AppA, "alice", nil)
		b.SignedIn(sesametest.AppB, "alice", nil)
		p := b.Get(s.Issuer + "/session/end")
		if done := b.Submit(p, map[string]string{"logout": "true"}); done.Status != http.StatusOK {
			t.Fatalf("global sign-out: %d\n%s", done.Status, done.Body)
		}
		byClient := s.LastDeliveries(t, "alice")
		if d := byClient[sesametest.AppB]; d.State != store.DeliveryDelivered || d.Attempts != 1 || d.LastStatus != http.StatusOK || d.URI != appB.BackchannelURI() {
			t.Errorf("the in-process delivery: %+v", d)
		}
		if got := appB.Received(); len(got) != 1 || got[0].JTI != byClient[sesametest.AppB].ID || got[0].SID == "" || got[0].Typ != "logout+jwt" {
			t.Errorf("app-b accepted %+v", got)
		}
		if d := byClient[sesametest.AppA]; d.State != store.DeliveryFailed || !strings.Contains(d.LastError, backchannel.ErrForbiddenAddress.Error()) {
			t.Errorf("the delivery to loopback: %+v", d)
		}
		if n := s.Apps[sesametest.AppA].Calls(); n != 0 {
			t.Errorf("app-a on loopback was reached %d times", n)
		}
	})
}
