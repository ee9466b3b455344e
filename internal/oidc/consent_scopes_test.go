package oidc_test

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// invoices is an API with one scope described and one not, both
// permitted to alice by the role invoices-all.
const invoices = "https://api.example.com/invoices"

// withInvoices is sesametest's Orders API (read:orders and write:orders
// described, alice permitted read:orders) and the Invoices API.
func withInvoices(o sesametest.Options) sesametest.Options {
	o = o.WithOrders()
	o.APIResources = append(o.APIResources, resource.APISpec{Indicator: invoices, Name: "Invoices API",
		Scopes:            []string{"read:invoices", "export:invoices"},
		ScopeDescriptions: map[string]string{"read:invoices": "See your invoices & <receipts>"}})
	o.Roles = append(o.Roles, resource.RoleSpec{Name: "invoices-all", Permissions: map[string][]string{invoices: {"read:invoices", "export:invoices"}}})
	roles := maps.Clone(o.UserRoles)
	roles["alice"] = append(slices.Clone(roles["alice"]), "invoices-all")
	o.UserRoles = roles
	return o
}

var listItem = regexp.MustCompile(`<li>(.*?)</li>`)

// apiPermissions is what the consent page lists under the API named
// name: the markup of each item of its list, or its words after the
// name when it has no list. ok is false when the page does not name it.
func apiPermissions(body, name string) (items []string, words string, ok bool) {
	_, rest, ok := strings.Cut(body, "<li><strong>"+name+"</strong>:")
	if !ok {
		return nil, "", false
	}
	if inner, isList := strings.CutPrefix(rest, "\n<ul>"); isList {
		inner, _, _ = strings.Cut(inner, "</ul>")
		for _, m := range listItem.FindAllStringSubmatch(inner, -1) {
			items = append(items, m[1])
		}
		return items, "", true
	}
	words, _, _ = strings.Cut(rest, "</li>")
	return nil, strings.TrimSpace(words), true
}

// R2: under each API's name the consent page lists, one item each, the
// scopes the app would get in the words their resource gives them, with
// the scope's name in small print; a scope without words by its name
// alone; an API with none as "no permissions". Words are text, never
// markup. Scopes the roles do not permit are not shown, words included.
func TestConsentPageSaysTheAPIScopesInWords(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		testConsentPageSaysTheAPIScopesInWords(t, sesametest.New(t, withInvoices(opts)))
	})
}

func testConsentPageSaysTheAPIScopesInWords(t *testing.T, s *sesametest.Sesame) {
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.ThirdParty, "alice", url.Values{"scope": {"openid"}})
	p := b.Get(s.AuthURL(sesametest.ThirdParty, url.Values{
		"scope":    {"openid read:orders write:orders read:invoices export:invoices"},
		"resource": {orders, invoices},
	}))
	if !sesametest.IsConsentPage(p) {
		t.Fatalf("no consent page: %d %s", p.Status, p.Body)
	}
	for _, c := range []struct {
		api  string
		want []string
	}{
		{"Orders API", []string{"Read your orders <small>(read:orders)</small>"}},
		{"Invoices API", []string{"See your invoices &amp; &lt;receipts&gt; <small>(read:invoices)</small>", "export:invoices"}},
	} {
		items, words, ok := apiPermissions(p.Body, c.api)
		slices.Sort(items)
		slices.Sort(c.want)
		if !ok || words != "" || !slices.Equal(items, c.want) {
			t.Errorf("%s: items %q, words %q (named: %v); want items %q\n%s", c.api, items, words, ok, c.want, p.Body)
		}
	}
	if strings.Contains(p.Body, "Change your orders") {
		t.Error("the consent page shows the words of write:orders, which alice's roles do not permit")
	}

	// An API asked for with none of the scopes it permits.
	p = b.Get(s.AuthURL(sesametest.ThirdParty, url.Values{"scope": {"openid write:orders"}, "resource": {orders}}))
	if items, words, ok := apiPermissions(p.Body, "Orders API"); !ok || items != nil || words != "no permissions, only who you are" {
		t.Errorf("an API with no permission: items %q, words %q (named: %v)\n%s", items, words, ok, p.Body)
	}
}
