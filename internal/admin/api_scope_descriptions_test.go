package admin_test

import (
	"fmt"
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// descriptionsOf reads scope_descriptions from a resource the API
// answered; ok is false when it is missing or not an object of strings.
func descriptionsOf(resource map[string]any) (map[string]string, bool) {
	raw, ok := resource["scope_descriptions"].(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(raw))
	for scope, v := range raw {
		words, ok := v.(string)
		if !ok {
			return nil, false
		}
		out[scope] = words
	}
	return out, true
}

// onDescriptions is whether an error the API answered names
// scope_descriptions as its field (or one of its keys, for a value of
// the wrong type).
func onDescriptions(answer map[string]any) bool {
	field, _ := answer["field"].(string)
	return field == "scope_descriptions" || strings.HasPrefix(field, "scope_descriptions.")
}

// R1 by API: an API resource carries scope_descriptions, the consent
// page's words by scope: set on create, shown on read (an empty object
// when none, the file's as the file declares them), and replaced by PUT
// as its other fields are, so a body without them removes them. A change
// of the words alone is audited.
func TestAPIResourceScopeDescriptions(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		apiResourceScopeDescriptions(t, sesametest.New(t, opts.WithOrders()))
	})
}

func apiResourceScopeDescriptions(t *testing.T, s *sesametest.Sesame) {
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	const ind = "https://api.example.com/billing"
	path := "/api/resources/" + url.PathEscape(ind)
	check := func(what string, st int, got map[string]any, wantStatus int, want map[string]string) {
		t.Helper()
		if words, ok := descriptionsOf(got); st != wantStatus || !ok || !maps.Equal(words, want) {
			t.Errorf("%s: %d %v; want %d with scope_descriptions %v", what, st, got, wantStatus, want)
		}
	}

	st, got := api.do("POST", "/api/resources", map[string]any{"indicator": ind, "scopes": []string{"read:bills", "pay:bills"},
		"scope_descriptions": map[string]string{"read:bills": "See your bills & <totals>"}})
	check("create", st, got, 201, map[string]string{"read:bills": "See your bills & <totals>"})
	st, list := api.do("GET", "/api/resources", nil)
	items, _ := list["resources"].([]any)
	if st != 200 || len(items) != 2 {
		t.Fatalf("list: %d %v", st, list)
	}
	check("list, billing", 200, items[0].(map[string]any), 200, map[string]string{"read:bills": "See your bills & <totals>"})
	check("list, the file's Orders API", 200, items[1].(map[string]any), 200,
		map[string]string{"read:orders": "Read your orders", "write:orders": "Change your orders"})

	want := map[string]string{"read:bills": "See your bills", "pay:bills": "Pay your bills"}
	st, got = api.do("PUT", path, map[string]any{"scopes": []string{"read:bills", "pay:bills"}, "scope_descriptions": want})
	check("replace the words", st, got, 200, want)
	stored, err := s.Store.APIResources(t.Context())
	if err != nil || len(stored) != 2 || !maps.Equal(stored[0].ScopeDescriptions, want) {
		t.Errorf("stored: %+v %v", stored, err)
	}
	st, got = api.do("PUT", path, map[string]any{"scopes": []string{"read:bills", "pay:bills"}})
	check("a body without them", st, got, 200, map[string]string{})

	st, got = api.do("POST", "/api/resources", map[string]any{"indicator": "https://api.example.com/plain", "scopes": []string{"read"}})
	check("created without them", st, got, 201, map[string]string{})

	entries := api.auditOf("target_kind=resource")
	if len(entries) != 4 || entries[1]["action"] != "resource.update" || entries[2]["action"] != "resource.update" ||
		!strings.Contains(entries[1]["detail"].(string), "scope_descriptions") || !strings.Contains(entries[2]["detail"].(string), "scope_descriptions") {
		t.Errorf("audit, newest first: %v", entries)
	}
}

// R1 by API: words the resource's rules refuse are a 400 whose field is
// scope_descriptions, as the other fields' problems are: a key that is
// not one of the resource's scopes, blank words, more than 200
// characters, a control character, or not an object of strings. Nothing
// refused is written or audited.
func TestAPIRefusesBadScopeDescriptions(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		apiRefusesBadScopeDescriptions(t, sesametest.New(t, opts))
	})
}

func apiRefusesBadScopeDescriptions(t *testing.T, s *sesametest.Sesame) {
	api := apiClient{t, s, adminToken(t, s, sesametest.Robot, "sesame:admin")}
	const ind = "https://api.example.com/billing"
	saved := map[string]string{"read:bills": "See your bills"}
	if st, got := api.do("POST", "/api/resources", map[string]any{"indicator": ind, "scopes": []string{"read:bills"}, "scope_descriptions": saved}); st != 201 {
		t.Fatalf("create: %d %v", st, got)
	}
	bad := map[string]any{
		"not a scope":       map[string]string{"write:bills": "Change your bills"},
		"blank":             map[string]string{"read:bills": "  "},
		"201 characters":    map[string]string{"read:bills": strings.Repeat("é", 201)},
		"a control char":    map[string]string{"read:bills": "See\nyour bills"},
		"not an object":     []string{"read:bills"},
		"words not strings": map[string]any{"read:bills": 5},
	}
	n := 0
	for name, words := range bad {
		// Each its own indicator, so one wrongly made cannot refuse the
		// next as existing.
		n++
		body := map[string]any{"indicator": fmt.Sprintf("https://api.example.com/other%d", n), "scopes": []string{"read:bills"}, "scope_descriptions": words}
		if st, got := api.do("POST", "/api/resources", body); st != 400 || !onDescriptions(got) {
			t.Errorf("create, %s: %d %v; want 400 on scope_descriptions", name, st, got)
		}
		delete(body, "indicator")
		if st, got := api.do("PUT", "/api/resources/"+url.PathEscape(ind), body); st != 400 || !onDescriptions(got) {
			t.Errorf("update, %s: %d %v; want 400 on scope_descriptions", name, st, got)
		}
	}
	// Exactly 200 characters are words enough.
	long := map[string]string{"read:bills": strings.Repeat("é", 200)}
	if st, got := api.do("POST", "/api/resources", map[string]any{"indicator": "https://api.example.com/long", "scopes": []string{"read:bills"}, "scope_descriptions": long}); st != 201 {
		t.Errorf("200 characters: %d %v", st, got)
	}

	stored, err := s.Store.APIResources(t.Context())
	if err != nil || len(stored) != 2 || stored[0].Indicator != ind || !maps.Equal(stored[0].ScopeDescriptions, saved) {
		t.Errorf("a refusal wrote: %+v %v", stored, err)
	}
	if entries := api.auditOf("target_kind=resource"); len(entries) != 2 {
		t.Errorf("a refusal was audited: %v", entries)
	}
}
