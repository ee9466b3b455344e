package backchannel

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// maxLocalBody bounds how much of an in-process handler's answer is kept:
// a delivery reads maxResponse of it, a probe no more, and a handler that
// writes more must not make the process hold it all.
const maxLocalBody = 64 << 10

// Local is the transport of deliveries to Sesame's own back-channel
// logout URIs (the console's): a request whose URL is one registered with
// Handle is served in process by its handler and never dialled, so it
// neither loops out through a load balancer to reach this very process
// nor runs into the outbound address filter (B5) when the issuer is on a
// private address. Every other request goes to the wrapped transport
// unchanged, filter included.
//
// Nothing else differs: the Deliverer signs, records, retries and counts
// an in-process attempt as any other, so its delivery and the receipt
// show the app as told.
type Local struct {
	next http.RoundTripper

	mu       sync.RWMutex
	handlers map[string]http.Handler // by localKey
}

// NewLocal returns a Local in front of next (http.DefaultTransport when
// nil).
func NewLocal(next http.RoundTripper) *Local {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Local{next: next, handlers: map[string]http.Handler{}}
}

// WithLocal returns a copy of c whose transport is a Local in front of
// c's own, and that Local, to which the server hands its own back-channel
// handlers. c itself is left as it was; the copy keeps its timeout and
// redirect policy (B2).
func WithLocal(c *http.Client) (*http.Client, *Local) {
	l := NewLocal(c.Transport)
	out := *c
	out.Transport = l
	return &out, l
}

// Handle makes requests to uri be served by h in process. uri must be an
// absolute http(s) URL; a later Handle for the same URL replaces h.
func (l *Local) Handle(uri string, h http.Handler) error {
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("local back-channel URI %q is not an absolute http(s) URL", uri)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlers[localKey(u)] = h
	return nil
}

// localKey is the form in which a URL is compared with the registered
// ones: exactly the same URL, but for the case of the scheme and the host,
// which name the same place whatever their case.
func localKey(u *url.URL) string {
	k := strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		k += "?" + u.RawQuery
	}
	return k
}

// handler returns the handler registered for u, if any.
func (l *Local) handler(u *url.URL) (http.Handler, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	h, ok := l.handlers[localKey(u)]
	return h, ok
}

// RoundTrip serves a request for a registered URL in process and sends
// every other one through the wrapped transport.
func (l *Local) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := l.handler(req.URL)
	if !ok {
		return l.next.RoundTrip(req)
	}
	return serveLocal(h, req)
}

// serveLocal hands req to h as the HTTP server would hand it the same
// request arriving from outside, and returns h's answer as a response.
func serveLocal(h http.Handler, req *http.Request) (resp *http.Response, err error) {
	if req.Body != nil {
		// A RoundTripper closes the request's body, whatever happens.
		defer req.Body.Close()
	}
	in := req.Clone(req.Context())
	in.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	in.RequestURI = req.URL.RequestURI()
	in.Host = req.URL.Host
	// The request comes from this process.
	in.RemoteAddr = "127.0.0.1:0"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	w := &localWriter{header: http.Header{}}
	defer func() {
		// The HTTP server would recover a handler's panic and drop the
		// connection; in process it must not take the delivery's
		// goroutine, and the process, down with it.
		if p := recover(); p != nil {
			resp, err = nil, fmt.Errorf("in-process handler for %s: panic: %v", req.URL.Redacted(), p)
		}
	}()
	h.ServeHTTP(w, in)
	return w.response(req), nil
}

// localWriter is the http.ResponseWriter of an in-process request: it
// keeps the status, the headers as they were when the status was written
// (as a server sends them) and up to maxLocalBody of the body.
type localWriter struct {
	header http.Header
	sent   http.Header
	status int
	body   bytes.Buffer
}

// Header returns the headers the handler sets.
func (w *localWriter) Header() http.Header { return w.header }

// WriteHeader records the status, once, as a server sends it once.
func (w *localWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	w.sent = w.header.Clone()
}

// Write keeps the body up to maxLocalBody and discards the rest.
func (w *localWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if room := maxLocalBody - w.body.Len(); room > 0 {
		w.body.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// response is what the handler answered, as a client reads a response.
func (w *localWriter) response(req *http.Request) *http.Response {
	w.WriteHeader(http.StatusOK) // a handler that wrote nothing answered 200
	n := int64(w.body.Len())
	w.sent.Set("Content-Length", strconv.FormatInt(n, 10))
	return &http.Response{
		Status:     strconv.Itoa(w.status) + " " + http.StatusText(w.status),
		StatusCode: w.status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        w.sent,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: n,
		Request:       req,
	}
}
