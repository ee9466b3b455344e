package web

import (
	"html"
	"net/url"
	"regexp"
)

// The first form of a page and its hidden inputs, as Sesame's templates
// write them (double-quoted attributes).
var (
	formRe   = regexp.MustCompile(`(?s)<form[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenRe = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
	attrRe   = regexp.MustCompile(`\b(name|value)="([^"]*)"`)
)

// FirstForm reads the first form of a page Sesame rendered as a browser
// would post it: its action as written (relative to the page) and its
// hidden inputs, the browser-bound form token (W1) among them. It serves
// the tests and the load tool, which post Sesame's forms without a
// browser.
func FirstForm(body string) (action string, hidden url.Values, ok bool) {
	m := formRe.FindStringSubmatch(body)
	if m == nil {
		return "", nil, false
	}
	hidden = url.Values{}
	for _, in := range hiddenRe.FindAllString(m[2], -1) {
		var name, value string
		for _, a := range attrRe.FindAllStringSubmatch(in, -1) {
			if a[1] == "name" {
				name = html.UnescapeString(a[2])
			} else {
				value = html.UnescapeString(a[2])
			}
		}
		hidden.Set(name, value)
	}
	return html.UnescapeString(m[1]), hidden, true
}
