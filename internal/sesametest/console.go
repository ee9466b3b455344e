package sesametest

import (
	"html"
	"net/url"
	"regexp"
)

// ConsoleURL is the address of a console path ("/console/apps") on s.
func (s *Sesame) ConsoleURL(path string) string { return s.URL + path }

// OpenConsole opens the console in b as a person would: the console
// sends the browser to Sesame's sign-in, where username signs in when the
// page shows (without it, single sign-on answers at once), and the
// callback lands on the console. It returns the page the browser ends on.
func (b *Browser) OpenConsole(username string) Page {
	b.t.Helper()
	p := b.Get(b.base + "/console/")
	if IsSignInPage(p) {
		p = b.Submit(p, map[string]string{"username": username, "password": Password})
	}
	return p
}

// consoleCSRF finds the browser-bound form token of a console page (every
// form of a page carries the same one).
var consoleCSRF = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]*)">`)

// ConsoleCSRF returns the form token of a console page, failing the test
// when the page has none.
func ConsoleCSRF(t TB, p Page) string {
	t.Helper()
	m := consoleCSRF.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no form token on the console page (%d): %s", p.Status, p.Body)
	}
	return html.UnescapeString(m[1])
}

// ConsolePost posts fields to a console path with the form token of page
// p, as the page's form would, and follows Sesame's redirects.
func (b *Browser) ConsolePost(p Page, path string, fields url.Values) Page {
	b.t.Helper()
	return b.ConsolePostFrom("", p, path, fields)
}

// ConsolePostFrom is ConsolePost with the Sec-Fetch-Site a page at
// another address would make the browser send ("cross-site"...).
func (b *Browser) ConsolePostFrom(fetchSite string, p Page, path string, fields url.Values) Page {
	b.t.Helper()
	form := url.Values{}
	for k, v := range fields {
		form[k] = v
	}
	form.Set("csrf", ConsoleCSRF(b.t, p))
	return b.PostFrom(fetchSite, b.base+path, form)
}
