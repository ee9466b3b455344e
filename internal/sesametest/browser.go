package sesametest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"github.com/sesame-id/sesame/internal/web"
)

// Browser is a person's browser: it keeps cookies, follows Sesame's own
// redirects and stops at a redirect that leaves Sesame (to an app).
type Browser struct {
	t    TB
	s    *Sesame
	base string
	HTTP *http.Client
}

// Page is one response as a browser sees it.
type Page struct {
	URL      string
	Status   int
	Header   http.Header
	Body     string
	Location string
}

// NewBrowser returns a browser with an empty cookie jar.
func (s *Sesame) NewBrowser(t TB) *Browser {
	b := NewBrowserFor(t, s.URL)
	b.s = s
	return b
}

// NewBrowserFor returns a browser for a Sesame at base that this package
// did not start (a real process, in the tests that kill one).
func NewBrowserFor(t TB, base string) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, base: base, HTTP: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Get loads a URL and follows Sesame's own redirects.
func (b *Browser) Get(u string) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	return b.follow(b.do(req))
}

// Post submits a form and follows Sesame's own redirects.
func (b *Browser) Post(u string, form url.Values) Page {
	b.t.Helper()
	return b.PostFrom("", u, form)
}

func (b *Browser) do(req *http.Request) Page {
	b.t.Helper()
	resp, err := b.HTTP.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("read %s: %v", req.URL, err)
	}
	return Page{URL: req.URL.String(), Status: resp.StatusCode, Header: resp.Header, Body: string(body), Location: resp.Header.Get("Location")}
}

// follow follows redirects within Sesame, as a browser would, and stops at
// one that leaves it.
func (b *Browser) follow(p Page) Page {
	b.t.Helper()
	for i := 0; i < 10 && p.Location != "" && p.Status >= 300 && p.Status < 400; i++ {
		next, err := url.Parse(p.URL)
		if err != nil {
			b.t.Fatal(err)
		}
		next, err = next.Parse(p.Location)
		if err != nil {
			b.t.Fatalf("bad Location %q: %v", p.Location, err)
		}
		if !strings.HasPrefix(next.String(), b.base+"/") {
			p.Location = next.String()
			return p
		}
		req, _ := http.NewRequest(http.MethodGet, next.String(), nil)
		p = b.do(req)
	}
	return p
}

// Submit fills the first form of the page as a test driving a browser
// would (docs/endpoints.md): keeps its hidden inputs (the browser's form token
// among them), sets fields, and posts it to its action with the browser's
// cookies.
func (b *Browser) Submit(p Page, fields map[string]string) Page {
	b.t.Helper()
	action, form := b.Form(p, fields)
	return b.Post(action, form)
}

// Form reads the first form of the page: its absolute action, and the
// values a browser would post, hidden inputs kept and fields set.
func (b *Browser) Form(p Page, fields map[string]string) (string, url.Values) {
	b.t.Helper()
	raw, form, ok := web.FirstForm(p.Body)
	if !ok {
		b.t.Fatalf("no form on the page (%d): %s", p.Status, p.Body)
	}
	for k, v := range fields {
		form.Set(k, v)
	}
	base, _ := url.Parse(p.URL)
	action, err := base.Parse(raw)
	if err != nil {
		b.t.Fatalf("form action %q: %v", raw, err)
	}
	return action.String(), form
}

// PostFrom posts a form as a page at another address would make the
// browser post it: with the Sec-Fetch-Site the browser sends for that
// page (empty: none, as an older browser), and the browser's cookies.
func (b *Browser) PostFrom(fetchSite, u string, form url.Values) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatalf("POST %s: %v", u, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", fetchSite)
	}
	return b.follow(b.do(req))
}

// SessionCookie returns the value of the Sesame session cookie the
// browser holds, or "" (read under its name on the wire, package web).
func (b *Browser) SessionCookie() string {
	u, err := url.Parse(b.base + "/")
	if err != nil {
		b.t.Fatal(err)
	}
	name := web.NewCookies(b.base).Name(web.SessionCookie)
	for _, c := range b.HTTP.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// IsSignInPage reports whether p is Sesame's sign-in page.
func IsSignInPage(p Page) bool {
	return strings.Contains(p.Body, `name="password"`)
}

// IsConsentPage reports whether p is Sesame's consent page.
func IsConsentPage(p Page) bool {
	return strings.Contains(p.Body, `name="decision"`)
}
