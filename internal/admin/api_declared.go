package admin

import (
	"net/http"
	"slices"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/account/username"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/resource"
)

// Declared is what the configuration file declares (C4). Those objects are
// managed by the file, which applies what it declares at every start, so
// the API refuses to change it (409) rather than let the next start undo
// the change silently. What the file does not declare stays the API's: a
// lock, sessions, grants, and passwords, which the file sets only when it
// creates a user.
type Declared struct {
	Clients []client.Spec
	Users   []account.Spec
}

// managesClient reports whether the file declares client id.
func (d Declared) managesClient(id string) bool {
	return slices.ContainsFunc(d.Clients, func(c client.Spec) bool { return c.ID == id })
}

// UserRoles reports whether the file lists the roles of the user named
// name (C4): they are the file's, whoever asks to change them (the admin
// API, the console, the CLI). Usernames compare in their canonical form
// (A1).
func (d Declared) UserRoles(name string) bool {
	u, ok := d.user(name)
	return ok && u.Roles != nil
}

// ClientRoles reports whether the file lists the roles of client id (C4).
func (d Declared) ClientRoles(id string) bool {
	return slices.ContainsFunc(d.Clients, func(c client.Spec) bool { return c.ID == id && c.Roles != nil })
}

// user returns the file's declaration of the account named name,
// compared in the canonical form of usernames (A1).
func (d Declared) user(name string) (account.Spec, bool) {
	want, err := username.Canonical(name)
	for _, u := range d.Users {
		if u.Username == name {
			return u, true
		}
		if c, cerr := username.Canonical(u.Username); err == nil && cerr == nil && c == want {
			return u, true
		}
	}
	return account.Spec{}, false
}

// overridden names the first field of p that would make the account differ
// from its declaration u, or "" when p leaves every declared field as the
// file says. The password is never one of them; disabled is declared only
// when the file disables the user: a lock set here is not the file's, and
// the next start keeps it (account.Service.Upsert), so only re-enabling a
// user the file disables is refused.
func overridden(u account.Spec, p accountPatch) string {
	switch {
	case p.Email != nil && *p.Email != u.Email:
		return "email"
	case p.EmailVerified != nil && *p.EmailVerified != u.EmailVerified:
		return "email_verified"
	case p.Name != nil && *p.Name != u.Name:
		return "name"
	case p.Disabled != nil && u.Disabled && !*p.Disabled:
		return "disabled"
	}
	return ""
}

// refuseManaged answers 409 for a change to something the file manages,
// in the words every such refusal uses, by API or CLI.
func refuseManaged(w http.ResponseWriter, what, field string) {
	fail(w, http.StatusConflict, "conflict", resource.ManagedByFile(what).Error(), field)
}
