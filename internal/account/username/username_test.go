package username

import (
	"errors"
	"strings"
	"testing"
)

// A1: one canonical form per name (RFC 8265 UsernameCaseMapped), and a
// clear error for what the profile refuses.
func TestCanonical(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"alice", "alice"},
		{"Alice", "alice"},
		{"ＡＬＩＣＥ", "alice"},                         // full width is narrowed
		{"Alice@Example.com", "alice@example.com"}, // ASCII punctuation stays
		{"Ren\u0065\u0301", "ren\u00e9"},           // NFC: e + combining acute is é
		{"ΣΟΦΙΑ", "σοφια"},
	} {
		got, err := Canonical(c.in)
		if err != nil || got != c.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{
		"", "al ice", "alice\t", "alice\u200b", "alice\u00a0", "ali😀ce", "\xff", strings.Repeat("a", MaxLen+1),
	} {
		_, err := Canonical(in)
		var e *Error
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.Reason == "" {
			t.Errorf("Canonical(%q) = %v; want an *Error with a reason", in, err)
		}
	}
}

// A1: the migration's plan renames what is not canonical, and refuses,
// naming them all, accounts that would share a name or have none.
func TestPlan(t *testing.T) {
	renames, err := Plan([]Stored{{"1", "Alice"}, {"2", "bob"}, {"3", "ＣＡＲＯＬ"}})
	if err != nil || len(renames) != 2 || renames[0] != (Stored{"1", "alice"}) || renames[1] != (Stored{"3", "carol"}) {
		t.Errorf("Plan = %v, %v", renames, err)
	}
	_, err = Plan([]Stored{{"1", "Alice"}, {"2", "alice"}, {"3", "bob"}, {"4", "b ob"}})
	var conflict *ConflictError
	if !errors.As(err, &conflict) || len(conflict.Collisions) != 1 || len(conflict.Collisions[0].Accounts) != 2 ||
		len(conflict.Invalid) != 1 || conflict.Invalid[0].ID != "4" {
		t.Errorf("Plan of colliding names = %+v", err)
	}
}
