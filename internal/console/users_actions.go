package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/resource"
)

// The actions of a user's page: each goes through admin.Accounts, the
// operations the admin API makes too, so the rules (C4, A5, O6, O7) and
// the audit entry, naming the operator as an admin person, are the same.

// userAgain shows account id's page again after a post that did not go
// through: with problems at the top, and edit's changes to the page
// (what the person typed).
func (c *Console) userAgain(w http.ResponseWriter, r *http.Request, op operator, id string, problems []string, edit func(*userPage)) {
	acct, err := c.cfg.Store.Account(r.Context(), id)
	if err != nil {
		c.userProblems(w, r, op, id, err)
		return
	}
	p := userPage{Account: acct, Errors: problems,
		Profile: userForm{Username: acct.Username, Name: acct.Name, Email: acct.Email, EmailVerified: acct.EmailVerified}}
	if edit != nil {
		edit(&p)
	}
	c.showUserPage(w, r, op, http.StatusBadRequest, p)
}

// done sends the browser back to the user's page, saying what was done.
func done(w http.ResponseWriter, r *http.Request, id, what string) {
	http.Redirect(w, r, userURL(id)+"?done="+what, http.StatusSeeOther)
}

// updateUser saves the profile form: email, its verification, name. A
// user the configuration file declares is refused (C4).
func (c *Console) updateUser(w http.ResponseWriter, r *http.Request, op operator) {
	id, f := r.PathValue("id"), r.PostForm
	form := userForm{Name: strings.TrimSpace(f.Get("name")), Email: strings.TrimSpace(f.Get("email")), EmailVerified: f.Get("email_verified") != ""}
	patch := admin.AccountPatch{Email: &form.Email, EmailVerified: &form.EmailVerified, Name: &form.Name}
	if _, err := c.cfg.Accounts.Update(r.Context(), op.by(r), id, patch); err != nil {
		if problems, ok := c.userProblems(w, r, op, id, err); ok {
			c.userAgain(w, r, op, id, problems, func(p *userPage) { p.Profile, p.Open = form, "profile" })
		}
		return
	}
	done(w, r, id, "saved")
}

// resetPassword sets the password the operator typed (twice). As the
// admin API's reset, it ends every session of the account and every
// grant, offline ones included, and tells the apps by back-channel
// logout (A5); a declared user's password may change (C4).
func (c *Console) resetPassword(w http.ResponseWriter, r *http.Request, op operator) {
	id, f := r.PathValue("id"), r.PostForm
	password := f.Get("password")
	if password != f.Get("password_again") {
		c.userAgain(w, r, op, id, []string{"The two passwords differ: type the new password twice, the same. Nothing was changed."}, openPassword)
		return
	}
	if _, err := c.cfg.Accounts.Update(r.Context(), op.by(r), id, admin.AccountPatch{Password: &password}); err != nil {
		if problems, ok := c.userProblems(w, r, op, id, err); ok {
			c.userAgain(w, r, op, id, problems, openPassword)
		}
		return
	}
	done(w, r, id, "password")
}

// openPassword shows the password form open again.
func openPassword(p *userPage) { p.Open = "password" }

// lockUser disables the account: no sign-in, no token works from the
// commit on, and every session ends with its apps told (O6).
func (c *Console) lockUser(w http.ResponseWriter, r *http.Request, op operator) {
	c.setLock(w, r, op, true)
}

// unlockUser enables the account again, unless the configuration file
// disables it (C4).
func (c *Console) unlockUser(w http.ResponseWriter, r *http.Request, op operator) {
	c.setLock(w, r, op, false)
}

func (c *Console) setLock(w http.ResponseWriter, r *http.Request, op operator, locked bool) {
	id := r.PathValue("id")
	if _, err := c.cfg.Accounts.Update(r.Context(), op.by(r), id, admin.AccountPatch{Disabled: &locked}); err != nil {
		c.userProblems(w, r, op, id, err)
		return
	}
	if locked {
		done(w, r, id, "locked")
	} else {
		done(w, r, id, "unlocked")
	}
}

// setRoles saves the roles form (package resource's SetRoles, through
// admin.Accounts). Taking away the operator's own admin role closes the
// console to them at once (C5), so it asks first.
func (c *Console) setRoles(w http.ResponseWriter, r *http.Request, op operator) {
	id := r.PathValue("id")
	roles := r.PostForm["role"]
	if roles == nil {
		roles = []string{}
	}
	losesOwnAdmin := false
	if id == op.AccountID && !slices.Contains(roles, resource.RoleAdmin) {
		held, err := c.cfg.Store.AccountRoles(r.Context(), id)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		losesOwnAdmin = slices.Contains(held, resource.RoleAdmin)
	}
	if losesOwnAdmin && r.PostForm.Get("confirm_self") == "" {
		ticked, err := c.roleChoices(r.Context(), id, roles)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		c.userAgain(w, r, op, id, []string{"You are removing your own admin role. The console will close to you at once, and only another admin can give the role back. Nothing was changed yet: confirm below, or tick admin again."},
			func(p *userPage) { p.Roles, p.ConfirmSelf = ticked, true })
		return
	}
	if _, err := c.cfg.Accounts.SetRoles(r.Context(), op.by(r), id, roles); err != nil {
		if problems, ok := c.userProblems(w, r, op, id, err); ok {
			c.userAgain(w, r, op, id, problems, nil)
		}
		return
	}
	if losesOwnAdmin {
		c.message(w, r, http.StatusOK, messagePage{Title: "Your admin role is removed",
			Message: "Your account no longer holds the admin role, so the console is closed to you from now on.",
			Detail:  "Another admin can give the role back.", SignOut: true, frame: frame{Username: op.Username}})
		return
	}
	done(w, r, id, "roles")
}

// signOutEverywhere ends every session of the account (O6).
func (c *Console) signOutEverywhere(w http.ResponseWriter, r *http.Request, op operator) {
	id := r.PathValue("id")
	if _, err := c.cfg.Accounts.SignOutEverywhere(r.Context(), op.by(r), id); err != nil {
		c.userProblems(w, r, op, id, err)
		return
	}
	done(w, r, id, "everywhere")
}

// signOutDevice ends one session of the account as a global sign-out
// (O7, O4); the answer is its receipt.
func (c *Console) signOutDevice(w http.ResponseWriter, r *http.Request, op operator) {
	id := r.PathValue("id")
	d, err := c.cfg.Accounts.RevokeSession(r.Context(), op.by(r), id, r.PostForm.Get("session"))
	if err != nil {
		c.userProblems(w, r, op, id, err)
		return
	}
	if d.Receipt.ID == "" { // another sign-out ended it first
		done(w, r, id, "")
		return
	}
	http.Redirect(w, r, receiptURL(d.Receipt.ID)+"?done=device", http.StatusSeeOther)
}

// signOutApp revokes one grant of the account with its tokens, and tells
// its app (O7); the answer is its receipt.
func (c *Console) signOutApp(w http.ResponseWriter, r *http.Request, op operator) {
	id := r.PathValue("id")
	d, err := c.cfg.Accounts.RevokeGrant(r.Context(), op.by(r), id, r.PostForm.Get("grant"))
	if err != nil {
		c.userProblems(w, r, op, id, err)
		return
	}
	http.Redirect(w, r, receiptURL(d.Receipt.ID)+"?done=app", http.StatusSeeOther)
}
