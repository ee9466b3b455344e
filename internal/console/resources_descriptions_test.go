package console_test

import (
	"html"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// textarea is the text of the page's textarea named name, unescaped, or
// "" when it has none.
func textarea(p sesametest.Page, name string) string {
	_, rest, ok := strings.Cut(p.Body, `<textarea id="`+name+`" name="`+name+`">`)
	if !ok {
		return ""
	}
	text, _, _ := strings.Cut(rest, "</textarea>")
	return html.UnescapeString(text)
}

// R1: the resource forms take the consent page's words for scopes, one
// "scope: words" a line (the scope may hold colons, the words too; blank
// lines and CRLF are fine); the resource's page and the list show them,
// and the edit form holds them as it takes them. The edit form replaces
// them: a line deleted is a description removed. Each change is audited.
func TestAnAdminDescribesScopes(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts))
		b, _ := signedIn(t, s)
		list := b.Get(s.ConsoleURL("/console/resources"))
		wantPage(t, "the create form", list, http.StatusOK, `<label for="scope_descriptions">Scope descriptions</label>`, "<code>read:orders: Read your orders</code>")

		p := b.ConsolePost(list, "/console/resources", url.Values{"indicator": {billing}, "scopes": {"read:invoices write:invoices pay:invoices"},
			"scope_descriptions": {"write:invoices: Change your invoices\r\n\r\n  read:invoices:\tSee your invoices: totals & all  \r\n"}})
		wantPage(t, "the created resource", p, http.StatusOK, "The API resource is created",
			"<li><code>read:invoices</code>: See your invoices: totals &amp; all</li><li><code>write:invoices</code>: Change your invoices</li>")
		want := map[string]string{"read:invoices": "See your invoices: totals & all", "write:invoices": "Change your invoices"}
		if api, _ := apiResource(t, s, billing); !maps.Equal(api.ScopeDescriptions, want) {
			t.Fatalf("stored: %q, want %q", api.ScopeDescriptions, want)
		}
		if got, want := textarea(p, "scope_descriptions"), "read:invoices: See your invoices: totals & all\nwrite:invoices: Change your invoices"; got != want {
			t.Errorf("the edit form holds %q, want %q", got, want)
		}
		list = b.Get(s.ConsoleURL("/console/resources"))
		wantPage(t, "the list", list, http.StatusOK,
			"On the consent page: <code>read:invoices</code> “See your invoices: totals &amp; all”; <code>write:invoices</code> “Change your invoices”")

		p = b.ConsolePost(p, resourcePath(billing), url.Values{"scopes": {"read:invoices write:invoices pay:invoices"},
			"scope_descriptions": {"pay:invoices: Pay your invoices"}})
		wantPage(t, "the edited resource", p, http.StatusOK, "The changes are saved", "<li><code>pay:invoices</code>: Pay your invoices</li></ul>")
		if api, _ := apiResource(t, s, billing); !maps.Equal(api.ScopeDescriptions, map[string]string{"pay:invoices": "Pay your invoices"}) {
			t.Errorf("after the edit: %q", api.ScopeDescriptions)
		}
		p = b.ConsolePost(p, resourcePath(billing), url.Values{"scopes": {"read:invoices write:invoices pay:invoices"}})
		wantPage(t, "the descriptions removed", p, http.StatusOK, "The changes are saved", "none: the consent page shows the scopes by name")
		if api, _ := apiResource(t, s, billing); len(api.ScopeDescriptions) != 0 {
			t.Errorf("after removing every line: %q", api.ScopeDescriptions)
		}
		if got, want := auditActions(t, s, audit.TargetResource, billing), []string{"resource.create", "resource.update", "resource.update"}; !slices.Equal(got, want) {
			t.Errorf("audit: %v, want %v", got, want)
		}
	})
}

// R1: a descriptions line not written "scope: words", a scope given two
// lines, and words the resource's rules refuse (not one of its scopes,
// too long) are shown in words, the form kept as typed; nothing is
// saved. The file's resource shows the file's words, read-only (C4).
func TestScopeDescriptionsRefusedInWords(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, admins(opts).WithOrders())
		b, _ := signedIn(t, s)
		list := b.Get(s.ConsoleURL("/console/resources"))
		p := b.ConsolePost(list, "/console/resources", url.Values{"indicator": {billing}, "scopes": {"read:invoices"},
			"scope_descriptions": {"read:invoices: See your invoices"}})
		wantPage(t, "the created resource", p, http.StatusOK, "The API resource is created")

		for _, c := range []struct {
			typed, words string
		}{
			{"See your invoices", `Scope descriptions: line 1, &#34;See your invoices&#34;: write the scope, a colon and a space, then its words`},
			{"read:invoices:See your invoices", `Scope descriptions: line 1, &#34;read:invoices:See your invoices&#34;`},
			{"read:invoices: See your invoices\nread:invoices: ", `Scope descriptions: line 2, &#34;read:invoices:&#34;`},
			{"read:invoices: one\nread:invoices: two", "Scope descriptions: read:invoices has two lines; keep one."},
			{"write:invoices: Change your invoices", "Scope descriptions: "},
			{"read:invoices: " + strings.Repeat("é", 201), "Scope descriptions: "},
		} {
			got := b.ConsolePost(p, resourcePath(billing), url.Values{"name": {"Kept"}, "scopes": {"read:invoices"}, "scope_descriptions": {c.typed}})
			wantPage(t, "the edit "+c.typed, got, http.StatusBadRequest, "Nothing was changed", c.words, `value="Kept"`)
			if kept := textarea(got, "scope_descriptions"); kept != c.typed {
				t.Errorf("the edit %q: the form holds %q", c.typed, kept)
			}
			created := b.ConsolePost(list, "/console/resources", url.Values{"indicator": {"https://api.example.com/other"}, "scopes": {"read:invoices"}, "scope_descriptions": {c.typed}})
			wantPage(t, "the create "+c.typed, created, http.StatusBadRequest, "The API resource was not created", c.words)
		}
		if api, _ := apiResource(t, s, billing); api.Name != "" || !maps.Equal(api.ScopeDescriptions, map[string]string{"read:invoices": "See your invoices"}) {
			t.Errorf("a refused edit was saved: %+v", api)
		}
		if _, ok := apiResource(t, s, "https://api.example.com/other"); ok {
			t.Error("a refused resource was created")
		}

		p = b.Get(s.ConsoleURL(resourcePath(sesametest.OrdersAPI)))
		wantPage(t, "the declared resource", p, http.StatusOK,
			"<li><code>read:orders</code>: Read your orders</li><li><code>write:orders</code>: Change your orders</li>")
		if strings.Contains(p.Body, `name="scope_descriptions"`) {
			t.Errorf("the declared resource's page offers to change its descriptions:\n%s", p.Body)
		}
	})
}
