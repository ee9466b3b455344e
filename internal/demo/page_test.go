package demo

import (
	"math"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// render is the page as the app writes it.
func render(t *testing.T, d pageData) string {
	t.Helper()
	rec := httptest.NewRecorder()
	(&App{Name: "App One"}).page(rec, 200, d)
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	return rec.Body.String()
}

// The page a phone can read and a screen reader can follow: viewport tag,
// language, title, one h1, actions with names, no fixed widths; and the
// contract's strings, `Signed in as <username>` and `Not signed in`.
func TestDemoPageReadsOnAPhone(t *testing.T) {
	for name, d := range map[string]pageData{
		"signed in":  {User: "alice", Notes: []string{noteSSO}},
		"signed out": {Notes: []string{signedOutOf("App One"), noteHereOnly}},
		"problem":    {Problem: "The sign-in did not complete: access was not granted. Sign in again if you want to use this app."},
	} {
		t.Run(name, func(t *testing.T) {
			page := render(t, d)
			for _, want := range []string{
				`<meta name="viewport" content="width=device-width, initial-scale=1">`,
				`<html lang="en">`,
				`<title>App One · Sesame demo</title>`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("no %s", want)
				}
			}
			if n := strings.Count(page, "<h1"); n != 1 {
				t.Errorf("%d h1 elements, want 1", n)
			}
			state := "Not signed in"
			if d.User != "" {
				state = "Signed in as " + d.User
			}
			if !strings.Contains(page, state) {
				t.Errorf("the page does not say %q", state)
			}
			for _, a := range regexp.MustCompile(`(?s)<a\b([^>]*)>(.*?)</a>`).FindAllStringSubmatch(page, -1) {
				if strings.TrimSpace(a[2]) == "" {
					t.Errorf("link without a name: %s", a[0])
				}
				if m := regexp.MustCompile(`aria-describedby="([^"]+)"`).FindStringSubmatch(a[1]); m != nil && !strings.Contains(page, `id="`+m[1]+`"`) {
					t.Errorf("%s describes itself by a missing element", a[0])
				}
			}
		})
	}
	// No width is fixed: only a max-width in rem bounds the text, and
	// font sizes follow the reader's setting (pixels are for borders and
	// the 44 px touch targets' min-height only).
	if fixed := regexp.MustCompile(`(?:^|[;{\s])(?:min-)?width\s*:|max-width\s*:\s*[\d.]+px|font-size\s*:\s*[\d.]+px`).FindAllString(style, -1); len(fixed) > 0 {
		t.Errorf("fixed sizes in the stylesheet: %q", fixed)
	}
	if !strings.Contains(style, "max-width:36rem") {
		t.Error("the text column is not bounded in rem")
	}
}

// WCAG 2.x AA: every text colour on its background has a contrast ratio of
// at least 4.5:1.
func TestDemoPageColoursMeetAAContrast(t *testing.T) {
	for _, p := range contrastPairs {
		if r := contrast(t, p[0], p[1]); r < 4.5 {
			t.Errorf("%s on %s: contrast %.2f, want ≥ 4.5", p[0], p[1], r)
		}
	}
	// Every colour the stylesheet uses is one of the checked ones.
	checked := map[string]bool{}
	for _, p := range contrastPairs {
		checked[p[0]], checked[p[1]] = true, true
	}
	for _, c := range regexp.MustCompile(`#[0-9a-fA-F]{6}`).FindAllString(style, -1) {
		if !checked[c] && c != colDanger { // colDanger is only a border
			t.Errorf("colour %s is not in contrastPairs", c)
		}
	}
}

// contrast is the WCAG 2.x contrast ratio of two #rrggbb colours.
func contrast(t *testing.T, a, b string) float64 {
	t.Helper()
	lum := func(hex string) float64 {
		var c [3]float64
		for i := range c {
			v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
			if err != nil {
				t.Fatalf("colour %s: %v", hex, err)
			}
			x := float64(v) / 255
			if x <= 0.03928 {
				c[i] = x / 12.92
			} else {
				c[i] = math.Pow((x+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
	}
	la, lb := lum(a), lum(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}
