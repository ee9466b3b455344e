package resource

import (
	"errors"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-id/sesame/internal/store"
)

// R1: a scope's description is checked once trimmed of the spaces around
// it: it describes one of the resource's scopes, is not empty, is at most
// MaxScopeDescriptionLen characters (not bytes) of UTF-8, and holds no
// control character. Each problem is one line naming the field and the
// scope, as the admin API and the configuration report it.
func TestScopeDescriptionRules(t *testing.T) {
	scopes := []string{"read:orders", "write:orders"}
	for _, c := range []struct {
		name string
		desc map[string]string
		want string // the one problem; empty when valid
	}{
		{"none", nil, ""},
		{"one of two scopes", map[string]string{"read:orders": "Read your orders"}, ""},
		{"spaces and a line break around", map[string]string{"read:orders": "  Read your orders\n"}, ""},
		{"the longest, in characters", map[string]string{"read:orders": strings.Repeat("é", MaxScopeDescriptionLen)}, ""},
		{"one character too long", map[string]string{"read:orders": strings.Repeat("é", MaxScopeDescriptionLen+1)},
			"scope_descriptions: read:orders: the description \"" + strings.Repeat("é", 32) + "\"... is longer than 200 characters"},
		{"not a scope of the resource", map[string]string{"read:orders": "Read", "fly:orders": "Fly your orders"},
			"scope_descriptions: \"fly:orders\" is not one of the resource's scopes"},
		{"empty", map[string]string{"write:orders": ""},
			"scope_descriptions: write:orders: the description is empty (leave the scope out to show it by its name)"},
		{"spaces only", map[string]string{"write:orders": " \t "},
			"scope_descriptions: write:orders: the description is empty (leave the scope out to show it by its name)"},
		{"a line break inside", map[string]string{"write:orders": "Place\norders"},
			"scope_descriptions: write:orders: the description \"Place\\norders\" holds a line break, a tab or another control character"},
		{"a tab inside", map[string]string{"write:orders": "Place\torders"},
			"scope_descriptions: write:orders: the description \"Place\\torders\" holds a line break, a tab or another control character"},
		{"an escape sequence", map[string]string{"write:orders": "\x1b[31mPlace orders"},
			"scope_descriptions: write:orders: the description \"\\x1b[31mPlace orders\" holds a line break, a tab or another control character"},
		{"a C1 control", map[string]string{"write:orders": "Place\u0085orders"},
			"scope_descriptions: write:orders: the description \"Place\\u0085orders\" holds a line break, a tab or another control character"},
		{"not UTF-8", map[string]string{"write:orders": "Place \xff orders"},
			"scope_descriptions: write:orders: the description is not UTF-8 text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := APISpec{Indicator: orders, Scopes: scopes, ScopeDescriptions: c.desc}.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Errorf("problems:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}

	// In a declaration, the problem names the entry, as the
	// configuration's keys do.
	d := Declaration{APIs: []APISpec{{Indicator: orders, Scopes: scopes, ScopeDescriptions: map[string]string{"delete:orders": "Delete"}}}}
	want := "api_resources[0] (" + orders + "): scope_descriptions: \"delete:orders\" is not one of the resource's scopes"
	if err := d.Validate(); err == nil || err.Error() != want {
		t.Errorf("declaration: %v, want %s", err, want)
	}
}

// R1: the admin API's changes store descriptions trimmed, in a map of
// their own; an invalid one is refused naming scope_descriptions; a
// change of them is recorded by that field's name, and one that changes
// nothing once trimmed is not recorded. A scope an update removes takes
// its description with it, unless the update also wrote that
// description, which is then refused as describing no scope.
func TestManagingScopeDescriptions(t *testing.T) { eachStore(t, testManagingScopeDescriptions) }

func testManagingScopeDescriptions(t *testing.T, open opener) {
	_, r := seededRegistry(t, open)
	ctx := t.Context()
	var log recorded
	const billing = "https://api.example.com/billing"

	mine := map[string]string{"read:bills": " Read your bills ", "pay:bills": "Pay your bills"}
	got, err := r.CreateAPI(ctx, APISpec{Indicator: billing, Scopes: []string{"read:bills", "pay:bills"}, ScopeDescriptions: mine}, log.record)
	must(t, err)
	want := map[string]string{"read:bills": "Read your bills", "pay:bills": "Pay your bills"}
	mine["pay:bills"] = "changed by the caller after"
	wantDescriptions(t, r, "created", got, billing, want)

	_, err = r.CreateAPI(ctx, APISpec{Indicator: "urn:example:other", Scopes: []string{"a"}, ScopeDescriptions: map[string]string{"b": "B"}}, log.record)
	wantRefused(t, "create with a description of no scope", err, ErrInvalid, `scope_descriptions: "b" is not one of the resource's scopes`)
	var ref *Refused
	if errors.As(err, &ref) && (ref.Problems == nil || !strings.HasPrefix(ref.Problems.Error(), "scope_descriptions: ")) {
		t.Errorf("the problems name the field: %v", ref.Problems)
	}

	// The same texts, spaced otherwise: nothing changes, nothing is recorded.
	got, err = r.UpdateAPI(ctx, billing, func(a *APISpec) { a.ScopeDescriptions["read:bills"] = "Read your bills  " }, log.record)
	must(t, err)
	wantDescriptions(t, r, "the same once trimmed", got, billing, want)

	got, err = r.UpdateAPI(ctx, billing, func(a *APISpec) { a.ScopeDescriptions["read:bills"] = "See your bills" }, log.record)
	must(t, err)
	want["read:bills"] = "See your bills"
	wantDescriptions(t, r, "one changed", got, billing, want)

	// The scope pay:bills goes: so does its description, even from a map
	// the edit put in, which is left as the caller wrote it.
	mine = map[string]string{"read:bills": "See your bills", "pay:bills": "Pay your bills"}
	mineBefore := maps.Clone(mine)
	got, err = r.UpdateAPI(ctx, billing, func(a *APISpec) { a.Scopes, a.ScopeDescriptions = []string{"read:bills"}, mine }, log.record)
	must(t, err)
	delete(want, "pay:bills")
	wantDescriptions(t, r, "a scope removed", got, billing, want)
	if !reflect.DeepEqual(mine, mineBefore) {
		t.Errorf("the edit's own map was changed: %v", mine)
	}

	// A description written for a scope the same edit removes is a
	// mistake, not something left behind.
	_, err = r.UpdateAPI(ctx, billing, func(a *APISpec) {
		a.Scopes = nil
		a.ScopeDescriptions["read:bills"] = "Read every bill"
	}, log.record)
	wantRefused(t, "a description written for a removed scope", err, ErrInvalid, `scope_descriptions: "read:bills" is not one of the resource's scopes`)
	_, err = r.UpdateAPI(ctx, billing, func(a *APISpec) { a.ScopeDescriptions = map[string]string{"read:bills": "\tSee\nyour bills"} }, log.record)
	wantRefused(t, "a line break", err, ErrInvalid, "scope_descriptions: read:bills: ")
	wantDescriptions(t, r, "after the refusals", got, billing, want)

	got, err = r.UpdateAPI(ctx, billing, func(a *APISpec) { a.ScopeDescriptions = map[string]string{} }, log.record)
	must(t, err)
	wantDescriptions(t, r, "all removed", got, billing, nil)

	wantRecorded(t, log, recorded{
		"resource.create " + billing + " : scopes: read:bills pay:bills",
		"resource.update " + billing + " : fields: scope_descriptions",
		"resource.update " + billing + " : fields: scopes, scope_descriptions",
		"resource.update " + billing + " : fields: scope_descriptions",
	})
}

// wantDescriptions checks the descriptions a change returned, and those
// the registry then answers, are want; none is nil.
func wantDescriptions(t *testing.T, r *Registry, what string, got store.APIResource, indicator string, want map[string]string) {
	t.Helper()
	if !reflect.DeepEqual(got.ScopeDescriptions, want) {
		t.Errorf("%s: returned %#v, want %#v", what, got.ScopeDescriptions, want)
	}
	api, err := r.API(t.Context(), indicator)
	if err != nil || !reflect.DeepEqual(api.ScopeDescriptions, want) {
		t.Errorf("%s: the registry answers %#v (%v), want %#v", what, api.ScopeDescriptions, err, want)
	}
}

// R1, C4: Seed stores the descriptions the file declares, trimmed; a
// start with the same file writes nothing, one with other descriptions
// replaces them, and one with none takes them away. An invalid one
// refuses the whole declaration.
func TestSeedStoresScopeDescriptions(t *testing.T) { eachStore(t, testSeedStoresScopeDescriptions) }

func testSeedStoresScopeDescriptions(t *testing.T, open opener) {
	s := open(t)
	var mu sync.Mutex
	var changes int
	s.OnCommit(func(c store.Change) {
		mu.Lock()
		defer mu.Unlock()
		if c.Kind == store.ChangeResources {
			changes++
		}
	})
	r := &Registry{Store: s, Now: clock}
	declare := func(desc map[string]string) Declaration {
		return Declaration{APIs: []APISpec{{Indicator: orders, Name: "Orders API", Scopes: []string{"read:orders", "write:orders"},
			ScopeDescriptions: desc}}}
	}
	changesAfter := func(d Declaration) int {
		t.Helper()
		mu.Lock()
		changes = 0
		mu.Unlock()
		seed(t, r, d)
		mu.Lock()
		defer mu.Unlock()
		return changes
	}
	stored := func() map[string]string {
		t.Helper()
		apis, err := s.APIResources(t.Context())
		must(t, err)
		if len(apis) != 1 {
			t.Fatalf("stored %+v", apis)
		}
		return apis[0].ScopeDescriptions
	}

	changesAfter(declare(map[string]string{"read:orders": "Read your orders\n", "write:orders": "Place and change orders"}))
	want := map[string]string{"read:orders": "Read your orders", "write:orders": "Place and change orders"}
	if got := stored(); !reflect.DeepEqual(got, want) {
		t.Errorf("seeded %#v, want %#v", got, want)
	}
	if n := changesAfter(declare(map[string]string{"read:orders": "Read your orders", "write:orders": "Place and change orders"})); n != 0 {
		t.Errorf("the same descriptions again committed %d changes", n)
	}
	if n := changesAfter(declare(map[string]string{"read:orders": "See your orders"})); n != 1 {
		t.Errorf("other descriptions committed %d changes, want 1", n)
	}
	if got, want := stored(), map[string]string{"read:orders": "See your orders"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a change in the file %#v, want %#v", got, want)
	}
	changesAfter(declare(nil))
	if got := stored(); got != nil {
		t.Errorf("after the file dropped them %#v, want none", got)
	}

	if err := r.Seed(t.Context(), declare(map[string]string{"delete:orders": "Delete your orders"})); err == nil {
		t.Error("a description of no scope was seeded")
	}
	if got := stored(); got != nil {
		t.Errorf("a refused declaration stored %#v", got)
	}
	// The registry hands them out as stored.
	changesAfter(declare(map[string]string{"write:orders": "Place orders"}))
	r.ForgetAll()
	api, err := r.API(t.Context(), orders)
	if err != nil || !reflect.DeepEqual(api.ScopeDescriptions, map[string]string{"write:orders": "Place orders"}) {
		t.Errorf("API(%s) = %+v, %v", orders, api, err)
	}
}
