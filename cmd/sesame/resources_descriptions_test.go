package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// R1 by CLI: `resources add` and `set` take the consent page's words for
// scopes, --scope-description SCOPE=words, split at the first '=' and
// kept whole (commas and '=' included); set changes only the scopes it
// names, SCOPE= removing one's words, and a scope --scopes removes loses
// its words; list shows them as the flag takes them.
func TestResourcesCommandsTakeScopeDescriptions(t *testing.T) {
	sesametest.EachBackend(t, testResourcesCommandsTakeScopeDescriptions)
}

func testResourcesCommandsTakeScopeDescriptions(t *testing.T, opts sesametest.Options) {
	sesame, db := seededCLI(t, opts)
	const billing = "https://api.example.com/billing"
	steps := []struct {
		args []string
		want map[string]string
	}{
		{[]string{"resources", "add", billing, "--scopes", "read:bills,write:bills,pay:bills",
			"--scope-description", "read:bills=See your bills, and their totals", "--scope-description", "pay:bills=Pay = settle your bills"},
			map[string]string{"read:bills": "See your bills, and their totals", "pay:bills": "Pay = settle your bills"}},
		{[]string{"resources", "set", billing, "--scope-description", "write:bills=Change your bills"},
			map[string]string{"read:bills": "See your bills, and their totals", "write:bills": "Change your bills", "pay:bills": "Pay = settle your bills"}},
		{[]string{"resources", "set", billing, "--scope-description", "read:bills=", "--scope-description", "write:bills=Edit your bills"},
			map[string]string{"write:bills": "Edit your bills", "pay:bills": "Pay = settle your bills"}},
		{[]string{"resources", "set", billing, "--scopes", "read:bills,write:bills"},
			map[string]string{"write:bills": "Edit your bills"}},
	}
	for _, step := range steps {
		if out, line, code := sesame.run(step.args...); code != 0 {
			t.Fatalf("sesame %s: exit %d, %q %s", strings.Join(step.args, " "), code, line, out)
		}
		apis, err := openDB(t, db).APIResources(t.Context())
		if err != nil || len(apis) != 2 || apis[0].Indicator != billing {
			t.Fatalf("after sesame %s: %+v %v", strings.Join(step.args, " "), apis, err)
		}
		if got := apis[0].ScopeDescriptions; !maps.Equal(got, step.want) {
			t.Errorf("after sesame %s: descriptions %q, want %q", strings.Join(step.args, " "), got, step.want)
		}
	}
	out, line, _ := sesame.run("resources", "list")
	header, rows, _ := strings.Cut(out, "\n")
	if line != "" || !strings.HasSuffix(strings.TrimSpace(header), "SCOPE DESCRIPTIONS") {
		t.Fatalf("list: %q %s", out, line)
	}
	for _, row := range strings.Split(strings.TrimSpace(rows), "\n") {
		if strings.HasPrefix(row, billing) && !strings.HasSuffix(row, `  write:bills="Edit your bills"`) {
			t.Errorf("list shows billing as %q", row)
		}
	}
}

// R1 by CLI: bad words for a scope are one line in words: a value that
// is not SCOPE=words, or names a scope twice, is a usage error (exit 2);
// words the resource's rules refuse (not one of its scopes, blank, longer
// than 200 characters, a control character) exit 1 naming the field.
// Nothing refused is written or audited.
func TestResourcesCommandsRefuseBadScopeDescriptions(t *testing.T) {
	sesametest.EachBackend(t, testResourcesCommandsRefuseBadScopeDescriptions)
}

func testResourcesCommandsRefuseBadScopeDescriptions(t *testing.T, opts sesametest.Options) {
	sesame, db := seededCLI(t, opts)
	const billing = "https://api.example.com/billing"
	if _, line, code := sesame.run("resources", "add", billing, "--scopes", "read:bills", "--scope-description", "read:bills=See your bills"); code != 0 {
		t.Fatalf("add: exit %d, %s", code, line)
	}
	// Each add its own resource, so one wrongly made cannot refuse the
	// next as existing.
	add := func(name string) []string {
		return []string{"resources", "add", "https://api.example.com/" + name, "--scopes", "read:other"}
	}
	set := []string{"resources", "set", billing}
	for _, c := range []struct {
		args []string
		line string
		code int
	}{
		{slices.Concat(add("a"), []string{"--scope-description", "read:other"}), `sesame: resources add: --scope-description "read:other": want SCOPE=words`, 2},
		{slices.Concat(set, []string{"--scope-description", "=Read it"}), `sesame: resources set: --scope-description "=Read it": want SCOPE=words`, 2},
		{slices.Concat(set, []string{"--scope-description", "read:bills=a", "--scope-description", "read:bills=b"}), "sesame: resources set: --scope-description: read:bills is given twice", 2},
		{slices.Concat(add("b"), []string{"--scope-description", "write:other=Change it"}), "sesame: scope_descriptions", 1},
		{slices.Concat(add("c"), []string{"--scope-description", "read:other=   "}), "sesame: scope_descriptions", 1},
		{slices.Concat(set, []string{"--scope-description", "read:bills=" + strings.Repeat("é", 201)}), "sesame: scope_descriptions", 1},
		{slices.Concat(set, []string{"--scope-description", "read:bills=Read\x07it"}), "sesame: scope_descriptions", 1},
	} {
		_, line, code := sesame.run(c.args...)
		if code != c.code || !strings.HasPrefix(line, c.line) {
			t.Errorf("sesame %q: exit %d, %q; want exit %d, %q", c.args, code, line, c.code, c.line)
		}
	}

	st := openDB(t, db)
	apis, err := st.APIResources(t.Context())
	if err != nil || len(apis) != 2 || !maps.Equal(apis[0].ScopeDescriptions, map[string]string{"read:bills": "See your bills"}) {
		t.Errorf("a refusal wrote: %+v %v", apis, err)
	}
	entries, err := audit.List(t.Context(), st, audit.Filter{Limit: 100})
	if err != nil || len(entries) != 2 || entries[0].Action != audit.ResourceCreate {
		t.Errorf("a refusal was audited: %+v %v", entries, err)
	}
}
