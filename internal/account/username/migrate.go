package username

import (
	"fmt"
	"slices"
	"strings"
)

// Stored is an account's id and username as a database holds them.
type Stored struct {
	ID, Username string
}

// Plan is what the migration to canonical usernames does to the accounts
// it read (A1): the ones whose stored username is not yet canonical, with
// their canonical form in Username. It returns a *ConflictError, and no
// plan, when the accounts cannot all keep a username: two of them are one
// name once canonical, or one's name has no canonical form. Nothing is
// renamed then; the operator decides.
func Plan(accounts []Stored) ([]Stored, error) {
	var renames []Stored
	byName := map[string][]Stored{}
	var conflict ConflictError
	for _, a := range accounts {
		c, err := Canonical(a.Username)
		if err != nil {
			conflict.Invalid = append(conflict.Invalid, Invalid{Stored: a, Reason: err.(*Error).Reason})
			continue
		}
		byName[c] = append(byName[c], a)
		if c != a.Username {
			renames = append(renames, Stored{ID: a.ID, Username: c})
		}
	}
	for c, group := range byName {
		if len(group) > 1 {
			conflict.Collisions = append(conflict.Collisions, Collision{Canonical: c, Accounts: group})
		}
	}
	if len(conflict.Collisions) > 0 || len(conflict.Invalid) > 0 {
		slices.SortFunc(conflict.Collisions, func(a, b Collision) int { return strings.Compare(a.Canonical, b.Canonical) })
		return nil, &conflict
	}
	return renames, nil
}

// ConflictError lists the accounts that stop the migration to canonical
// usernames, so the operator can rename or remove them.
type ConflictError struct {
	// Collisions are groups of accounts whose usernames are one name
	// once canonical.
	Collisions []Collision
	// Invalid are accounts whose username RFC 8265 refuses.
	Invalid []Invalid
}

// Collision is accounts that share one canonical username.
type Collision struct {
	Canonical string
	Accounts  []Stored
}

// Invalid is an account whose username has no canonical form.
type Invalid struct {
	Stored
	Reason string
}

// Error lists every account in the way, with its id, and what to do.
func (e *ConflictError) Error() string {
	var b strings.Builder
	b.WriteString("usernames are now compared in their RFC 8265 canonical form (design A1), and these accounts stand in the way:")
	for _, c := range e.Collisions {
		var names []string
		for _, a := range c.Accounts {
			names = append(names, fmt.Sprintf("%q (id %s)", a.Username, a.ID))
		}
		fmt.Fprintf(&b, "\n  %s are all %q", strings.Join(names, ", "), c.Canonical)
	}
	for _, a := range e.Invalid {
		fmt.Fprintf(&b, "\n  %q (id %s) cannot be a username: %s", a.Username, a.ID, a.Reason)
	}
	b.WriteString("\nrename or delete them (with the Sesame version in use until now, or in SQL on the accounts table), then start again; no username was changed")
	return b.String()
}
