package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
)

// usersPath is where the Users section lives.
const usersPath = "/console/users"

// usersPerPage is how many accounts a page of the list shows; past it,
// the page offers the next one and asks for a narrower search.
const usersPerPage = 50

// userURL is the address of a user's page.
func userURL(id string) string { return usersPath + "/" + url.PathEscape(id) }

// when is a time as the console shows it: UTC, to the minute, the same
// on every page whatever the server's zone.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// userItem is one account of the list.
type userItem struct {
	URL, Username, Name, Email string
	Locked, Declared           bool
}

// usersPage fills the list of users.
type usersPage struct {
	frame
	Query string
	Users []userItem
	// Next is the address of the next page; More says there is one.
	Next   string
	More   bool
	Errors []string
}

// listUsers finds accounts by the start of their username or email
// (admin.Accounts.Search, as the admin API's list), a page at a time.
func (c *Console) listUsers(w http.ResponseWriter, r *http.Request, op operator) {
	q := r.URL.Query()
	p := usersPage{frame: c.framed(w, r, op, "Users", "users"), Query: strings.TrimSpace(q.Get("q"))}
	page, err := c.cfg.Accounts.Search(r.Context(), admin.AccountQuery{Q: p.Query, Cursor: q.Get("after"), Limit: usersPerPage})
	var field *admin.FieldError
	switch {
	case errors.As(err, &field):
		msg := "The search is too long or not text: type the start of a username or an email address."
		if field.Field == "cursor" {
			msg = "That page of the list is not one the console gave: search again."
		}
		p.Errors = []string{msg}
		c.render(w, http.StatusBadRequest, "users.html", p)
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	for _, a := range page.Accounts {
		_, declared := c.cfg.Accounts.Declares(a.Username)
		p.Users = append(p.Users, userItem{URL: userURL(a.ID), Username: a.Username, Name: a.Name, Email: a.Email,
			Locked: a.Disabled, Declared: declared})
	}
	if page.Next != "" {
		p.More = true
		p.Next = usersPath + "?" + url.Values{"q": {p.Query}, "after": {page.Next}}.Encode()
	}
	c.render(w, http.StatusOK, "users.html", p)
}

// userForm is what the create form holds: empty, or as the person typed
// it when it did not validate. The password is never sent back.
type userForm struct {
	Username, Name, Email string
	EmailVerified         bool
}

// newUserPage fills the create form.
type newUserPage struct {
	frame
	Form        userForm
	MinPassword int
	Errors      []string
}

// newUser shows the create form.
func (c *Console) newUser(w http.ResponseWriter, r *http.Request, op operator) {
	c.render(w, http.StatusOK, "user_new.html", newUserPage{frame: c.framed(w, r, op, "Create a user", "users"), MinPassword: admin.MinPassword})
}

// createUser makes an account through the same operation as the admin
// API; the answer is its page.
func (c *Console) createUser(w http.ResponseWriter, r *http.Request, op operator) {
	f := r.PostForm
	form := userForm{Username: strings.TrimSpace(f.Get("username")), Name: strings.TrimSpace(f.Get("name")),
		Email: strings.TrimSpace(f.Get("email")), EmailVerified: f.Get("email_verified") != ""}
	acct, err := c.cfg.Accounts.Create(r.Context(), op.by(r), admin.NewAccount{Username: form.Username, Password: f.Get("password"),
		Email: form.Email, EmailVerified: form.EmailVerified, Name: form.Name})
	if err != nil {
		if problems, ok := c.userProblems(w, r, op, "", err); ok {
			c.render(w, http.StatusBadRequest, "user_new.html", newUserPage{frame: c.framed(w, r, op, "Create a user", "users"),
				Form: form, MinPassword: admin.MinPassword, Errors: problems})
		}
		return
	}
	http.Redirect(w, r, userURL(acct.ID)+"?done=created", http.StatusSeeOther)
}

// userProblems turns the error of an operation on account id into what
// the person reads: the problems of a form to show again (ok true), or a
// page it answers itself (ok false).
func (c *Console) userProblems(w http.ResponseWriter, r *http.Request, op operator, id string, err error) ([]string, bool) {
	var field *admin.FieldError
	var declared *admin.DeclaredError
	var refused *resource.Refused
	switch {
	case errors.As(err, &field):
		return []string{accountFieldWords(field)}, true
	case errors.Is(err, account.ErrUsernameTaken):
		return []string{"That username is taken (usernames are compared ignoring case and width): choose another."}, true
	case errors.As(err, &declared):
		p := messagePage{Title: "This cannot be changed here",
			Message: "This user is declared in the configuration file, which sets " + declaredWords[declared.Field] + " at every start: change it there.",
			Detail:  "The console may still reset the password, lock the user, and sign them out.",
			Link:    userURL(id), LinkText: "Back to the user"}
		p.frame = c.framed(w, r, op, p.Title, "users")
		c.render(w, http.StatusConflict, "message.html", p)
	case errors.As(err, &refused):
		return []string{refused.Error()}, true
	case errors.Is(err, admin.ErrSessionsNotEnded):
		p := messagePage{Title: "Locked, but still signed in somewhere",
			Message: "The user is locked, and no sign-in or token of theirs works any more; but Sesame could not end all their devices and tell their apps.",
			Detail:  "Press \u201cSign out every device\u201d on the user's page to finish.",
			Link:    userURL(id), LinkText: "Back to the user"}
		p.frame = c.framed(w, r, op, p.Title, "users")
		c.render(w, http.StatusServiceUnavailable, "message.html", p)
	case errors.Is(err, store.ErrNotFound):
		c.userNotFound(w, r, op, "such user, device or app connection: it may have been signed out or removed meanwhile")
	default:
		c.fail(w, r, err)
	}
	return nil, false
}

// declaredWords name the fields the configuration file may declare of a
// user (C4), as the console's refusals say them.
var declaredWords = map[string]string{
	"email":          "their email",
	"email_verified": "whether their email is verified",
	"name":           "their name",
	"disabled":       "their lock",
	"roles":          "their roles",
}

// accountFieldWords says a refused field in the console's words.
func accountFieldWords(e *admin.FieldError) string {
	switch e.Field {
	case "username":
		if e.Msg == "username is required" {
			return "Type a username."
		}
		return "That username cannot be used: " + e.Msg + "."
	case "password":
		return fmt.Sprintf("The password must have at least %d characters.", admin.MinPassword)
	}
	return e.Msg
}

// userNotFound answers for an account (or one of its devices or apps)
// that does not exist.
func (c *Console) userNotFound(w http.ResponseWriter, r *http.Request, op operator, what string) {
	c.sectionMessage(w, r, op, http.StatusNotFound, "users", notFoundPage(what, usersPath, "Back to the users"))
}

// userPage fills a user's page.
type userPage struct {
	frame
	Account store.Account
	Created string
	// Declared: the configuration file declares the user (C4): its email,
	// verification and name are read-only here, and its roles when
	// RolesDeclared. LockDeclared: the file disables the user, so an
	// unlock would be undone.
	Declared, RolesDeclared, LockDeclared bool
	// Self: the operator's own account.
	Self bool
	// Notice says what the last action did.
	Notice string
	// Errors are the problems of the last post, shown at the top; Open
	// names the form they are about (profile, password), shown open.
	Errors []string
	Open   string
	// Profile is the profile form, as stored or as typed.
	Profile     userForm
	MinPassword int
	Roles       []roleChoice
	// ConfirmSelf asks the operator to confirm removing their own admin
	// role, keeping the roles they ticked.
	ConfirmSelf bool
	Devices     []deviceItem
	Apps        []connectedApp
	SignIns     []signInItem
	SignOuts    []receiptItem
	Changes     []changeItem
}

// URL is the address of the page.
func (p userPage) URL() string { return userURL(p.Account.ID) }

// roleChoice is one role of the roles form.
type roleChoice struct {
	Name        string
	Held, Admin bool
}

// deviceItem is one live session of the account.
type deviceItem struct {
	ID, Name, UserAgent, IP string
	SignedIn, LastSeen      string
	Expires                 string
	Apps                    []string
}

// connectedApp is one live grant of the account.
type connectedApp struct {
	GrantID, ClientID, App string
	Scopes                 []string
	Offline                bool
	// Survives says whether the grant outlives a sign-out of its device
	// (O4); Why says why, in words.
	Survives bool
	Why      string
	Granted  string
	Expires  string
	// Devices counts the live sessions signed in to the app with it.
	Devices int
}

// signInItem is one sign-in (or failed attempt) of the account.
type signInItem struct {
	At, App, Detail string
	Failed          bool
}

// receiptItem is one sign-out of the account, linked to its receipt.
type receiptItem struct {
	URL, At, Scope, Cause string
	Apps                  int
}

// changeItem is one audit entry about the account.
type changeItem struct {
	At, Action, By, Address, Detail string
}

// userNotices are the words of what the last action did.
var userNotices = map[string]string{
	"created":    "The user is created.",
	"saved":      "The changes are saved.",
	"password":   "The password is reset. Every device of the user is signed out and every app connection ended, offline ones included; the apps were told by back-channel logout.",
	"locked":     "The user is locked: they cannot sign in, their tokens no longer work, every device is signed out and the apps were told.",
	"unlocked":   "The user is unlocked: they can sign in again.",
	"roles":      "The roles are saved.",
	"everywhere": "Every device of the user is signed out; the apps were told.",
}

// showUser shows a user's page.
func (c *Console) showUser(w http.ResponseWriter, r *http.Request, op operator) {
	acct, err := c.cfg.Store.Account(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		c.userNotFound(w, r, op, "user "+r.PathValue("id"))
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := userPage{Account: acct, Notice: userNotices[r.URL.Query().Get("done")],
		Profile: userForm{Username: acct.Username, Name: acct.Name, Email: acct.Email, EmailVerified: acct.EmailVerified}}
	c.showUserPage(w, r, op, http.StatusOK, p)
}

// showUserPage fills in what every user page has (the frame, what the
// file declares, roles, devices, apps and history) and renders it; p
// brings the account and what the last action left: a notice, errors,
// the profile as typed, roles as ticked.
func (c *Console) showUserPage(w http.ResponseWriter, r *http.Request, op operator, status int, p userPage) {
	ctx := r.Context()
	p.frame = c.framed(w, r, op, p.Account.Username, "users")
	p.Created, p.MinPassword, p.Self = when(p.Account.CreatedAt), admin.MinPassword, p.Account.ID == op.AccountID
	if u, ok := c.cfg.Accounts.Declares(p.Account.Username); ok {
		p.Declared, p.RolesDeclared, p.LockDeclared = true, u.Roles != nil, u.Disabled
	}
	names := appNamer{c: c, ctx: ctx, seen: map[string]store.Client{}}
	var err error
	if p.Roles == nil {
		if p.Roles, err = c.roleChoices(ctx, p.Account.ID, nil); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	if p.Devices, p.Apps, err = c.devicesAndApps(ctx, p.Account.ID, &names); err != nil {
		c.fail(w, r, err)
		return
	}
	if p.SignIns, err = c.signIns(ctx, p.Account.ID, &names); err != nil {
		c.fail(w, r, err)
		return
	}
	if p.SignOuts, err = c.signOuts(ctx, p.Account.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	if p.Changes, err = c.changes(ctx, p.Account.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, status, "user.html", p)
}

// roleChoices are every role, the built-in admin role first, ticked as
// account id holds them, or as ticked when not nil.
func (c *Console) roleChoices(ctx context.Context, id string, ticked []string) ([]roleChoice, error) {
	roles, err := c.cfg.Store.Roles(ctx)
	if err != nil {
		return nil, err
	}
	held := ticked
	if held == nil {
		if held, err = c.cfg.Store.AccountRoles(ctx, id); err != nil {
			return nil, err
		}
	}
	out := []roleChoice{{Name: resource.RoleAdmin, Held: slices.Contains(held, resource.RoleAdmin), Admin: true}}
	for _, role := range roles {
		if role.Name != resource.RoleAdmin {
			out = append(out, roleChoice{Name: role.Name, Held: slices.Contains(held, role.Name)})
		}
	}
	slices.SortStableFunc(out[1:], func(a, b roleChoice) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
