package admin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// MinPassword is the fewest bytes a password an admin sets may have.
const MinPassword = 8

// Errors of the operations on accounts, beside store.ErrNotFound (no such
// account, session or grant), account.ErrUsernameTaken, a *FieldError and
// a *DeclaredError (which unwraps to ErrManaged).
var (
	// ErrSessionsNotEnded means an account was disabled, and stays so,
	// but signing out its sessions failed: the admin should sign it out
	// of every device again. Its sessions and tokens are refused anyway
	// from the commit on (S4, G2).
	ErrSessionsNotEnded = errors.New("the account is disabled, but its sessions could not be ended")
)

// FieldError is a request the operation refuses for one of its fields,
// said for a person.
type FieldError struct {
	// Field is the field at fault, as the admin API spells it.
	Field string
	Msg   string
}

// Error is the refusal in words.
func (e *FieldError) Error() string { return e.Msg }

// DeclaredError is a change to what the configuration file declares of a
// user (C4): the file would undo it at the next start.
type DeclaredError struct {
	// What names what the file manages: "the email of alice".
	What string
	// Field is the field at fault, as the admin API spells it.
	Field string
}

// Error is the refusal in the words of every refusal of what the file
// manages, by API, CLI or console.
func (e *DeclaredError) Error() string { return resource.ManagedByFile(e.What).Error() }

// Unwrap makes errors.Is(err, ErrManaged) true.
func (e *DeclaredError) Unwrap() error { return ErrManaged }

// Accounts are the operations on accounts that the admin API and the
// console share: creation, search, the profile, a password reset, a
// lock, roles, and the sign-outs of O6 and O7. Each checks what the
// configuration file declares (C4), writes its audit entry naming the
// caller, and reports its outcome as an error the caller turns into its
// own answer (JSON or a page).
type Accounts struct {
	Store    store.Store
	Accounts *account.Service
	Signout  *signout.Service
	// Roles writes who holds which role (SetRoles), under package
	// resource's rules and lock.
	Roles    *resource.Registry
	Declared Declared
	Now      func() time.Time
	Logger   *slog.Logger
}

// Declares returns the configuration file's declaration of the account
// named username, if the file declares it (C4): its email, verification
// and name are the file's, its roles too when it lists them.
func (a *Accounts) Declares(username string) (account.Spec, bool) { return a.Declared.user(username) }

// NewAccount is an account to create.
type NewAccount struct {
	Username, Password, Email string
	EmailVerified             bool
	Name                      string
}

// Create makes an account. The username is taken in its canonical form
// (A1), so `ALICE` or a full-width twin of `alice` is
// account.ErrUsernameTaken.
func (a *Accounts) Create(ctx context.Context, by Caller, in NewAccount) (store.Account, error) {
	switch {
	case in.Username == "":
		return store.Account{}, &FieldError{Field: "username", Msg: "username is required"}
	case len(in.Password) < MinPassword:
		return store.Account{}, &FieldError{Field: "password", Msg: fmt.Sprintf("password must have at least %d characters", MinPassword)}
	}
	acct, err := a.Accounts.Create(ctx, account.Spec{Username: in.Username, Password: in.Password,
		Email: in.Email, EmailVerified: in.EmailVerified, Name: in.Name})
	switch {
	case errors.Is(err, account.ErrInvalidUsername):
		return store.Account{}, &FieldError{Field: "username", Msg: err.Error()}
	case err != nil:
		return store.Account{}, err
	}
	// After: Create hashes the password before its own transaction.
	a.recordAfter(ctx, by.about(acct.ID, audit.AccountCreate, audit.OnAccount(acct.ID), "username "+acct.Username))
	return acct, nil
}

// maxQuery is the longest search the account list takes, in bytes: a
// prefix longer than any username or email finds nothing anyway.
const maxQuery = 320

// AccountQuery selects a page of accounts.
type AccountQuery struct {
	// Q keeps the accounts whose username or email starts with it; empty
	// keeps every one.
	Q string
	// Cursor is the Next of the page before; empty starts at the first.
	Cursor string
	// Limit is how many at most, 1 or more.
	Limit int
}

// AccountList is one page of a search.
type AccountList struct {
	Accounts []store.Account
	// Next is the cursor of the page after this one; empty when this is
	// the last.
	Next string
}

// Search pages through the accounts in username order (code point
// order), every one or those whose username or email starts with q.Q:
// the username compared in its canonical form (A1), so case and width do
// not matter, the email with A to Z in either case. A query that is not
// UTF-8 text of at most maxQuery bytes, or a cursor Search did not give,
// is a *FieldError on "q" or "cursor".
func (a *Accounts) Search(ctx context.Context, q AccountQuery) (AccountList, error) {
	text := strings.TrimSpace(q.Q)
	if len(text) > maxQuery || !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return AccountList{}, &FieldError{Field: "q", Msg: fmt.Sprintf("q must be UTF-8 text of at most %d bytes", maxQuery)}
	}
	n := max(q.Limit, 1)
	search := store.AccountSearch{Limit: n + 1} // one more, to know whether a next page exists
	if q.Cursor != "" {
		after, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || len(after) == 0 || !utf8.Valid(after) {
			return AccountList{}, &FieldError{Field: "cursor", Msg: "cursor is not one this API gave"}
		}
		search.After = string(after)
	}
	if text != "" {
		search.EmailPrefix = text
		// A search that cannot be a username (a space, a symbol RFC
		// 8265 refuses) may still start an email.
		if name, err := account.CanonicalUsername(text); err == nil {
			search.UsernamePrefix = name
		}
	}
	list, err := a.Store.SearchAccounts(ctx, search)
	if err != nil {
		return AccountList{}, fmt.Errorf("search accounts: %w", err)
	}
	page := AccountList{Accounts: list}
	if len(list) > n {
		page.Accounts = list[:n]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(list[n-1].Username))
	}
	return page, nil
}

// AccountPatch changes an account; nil fields stay as they are. It is
// the body of the admin API's PATCH, field for field.
type AccountPatch struct {
	Password      *string `json:"password"`
	Email         *string `json:"email"`
	EmailVerified *bool   `json:"email_verified"`
	Name          *string `json:"name"`
	Disabled      *bool   `json:"disabled"`
}

// apply writes the fields p carries, but the password, over a.
func (p AccountPatch) apply(a *store.Account) {
	if p.Email != nil {
		a.Email = *p.Email
	}
	if p.EmailVerified != nil {
		a.EmailVerified = *p.EmailVerified
	}
	if p.Name != nil {
		a.Name = *p.Name
	}
	if p.Disabled != nil {
		a.Disabled = *p.Disabled
	}
}

// Updated is a committed change of an account.
type Updated struct {
	// Account is the account as stored now.
	Account store.Account
	// SignOuts are the sign-outs the change made: every session of the
	// account at a password reset (with, last, one receipt for the grants
	// no session named) or when it was disabled; none otherwise.
	SignOuts []signout.Done
}

// Update changes account id as p says. A new password ends every session
// of the account with every grant, offline ones included, and their
// tokens, and tells their apps by back-channel (A5), in the transaction
// that stores it with the other fields: an admin resets a password
// because someone else may know the old one, and a failure changes
// nothing. Disabling ends the sessions too (O6). A field the
// configuration file declares cannot be changed (a *DeclaredError, C4);
// the password can, since the file sets it only when it creates the user.
func (a *Accounts) Update(ctx context.Context, by Caller, id string, p AccountPatch) (Updated, error) {
	if p.Password != nil && len(*p.Password) < MinPassword {
		return Updated{}, &FieldError{Field: "password", Msg: fmt.Sprintf("password must have at least %d characters", MinPassword)}
	}
	acct, err := a.Store.Account(ctx, id)
	if err != nil {
		return Updated{}, fmt.Errorf("read account %s: %w", id, err)
	}
	if u, ok := a.Declared.user(acct.Username); ok {
		if field := overridden(u, p); field != "" {
			return Updated{}, &DeclaredError{What: "the " + field + " of " + acct.Username, Field: field}
		}
	}
	if p.Password != nil {
		return a.resetPassword(ctx, by, acct.ID, p)
	}
	// Accounts.Update with the audit entries in its transaction.
	var before, updated store.Account
	err = a.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		var err error
		if before, updated, err = account.UpdateTx(ctx, tx, acct.ID, a.Now(), p.apply); err != nil {
			return err
		}
		for _, e := range accountChanges(by, before, updated) {
			if err := a.recorder().InTx(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Updated{}, fmt.Errorf("update account %s: %w", acct.ID, err)
	}
	out := Updated{Account: updated}
	if updated.Disabled && !before.Disabled {
		// A disabled account's sessions and tokens are refused from the
		// commit on (S4, G2); this ends them and tells their apps.
		if out.SignOuts, err = a.Signout.AllDevices(ctx, acct.ID, signout.CauseAdmin, nil); err != nil {
			a.Logger.ErrorContext(ctx, "account disabled, its sessions not ended", "err", err, "account_id", acct.ID)
			return out, fmt.Errorf("%w: %w", ErrSessionsNotEnded, err)
		}
	}
	return out, nil
}

// resetPassword is Update with a new password (A5).
func (a *Accounts) resetPassword(ctx context.Context, by Caller, id string, p AccountPatch) (Updated, error) {
	hash, err := a.Accounts.HashPassword(*p.Password) // before the transaction, never inside
	if err != nil {
		return Updated{}, err
	}
	var before store.Account
	reset, err := a.Signout.ResetPassword(ctx, signout.PasswordReset{AccountID: id, Hash: hash,
		Edit: func(acct *store.Account) { before = *acct; p.apply(acct) }})
	if err != nil {
		return Updated{}, err
	}
	// After: the reset commits in package signout's transaction.
	entries := accountChanges(by, before, reset.Account)
	entries = append(entries, by.about(id, audit.AccountPasswordChange, audit.OnAccount(id), audit.SessionsEnded(len(reset.Sessions))))
	a.recordAfter(ctx, entries...)
	out := Updated{Account: reset.Account, SignOuts: reset.Sessions}
	if reset.Grants.Receipt.ID != "" {
		out.SignOuts = append(out.SignOuts, reset.Grants)
	}
	return out, nil
}

// accountChanges are the audit entries of an account's change from
// before to after, but for its password: a lock or an unlock, and the
// profile fields that changed, by name (never their values). A patch that
// changes nothing makes none.
func accountChanges(by Caller, before, after store.Account) []audit.Entry {
	var out []audit.Entry
	var fields []string
	if before.Email != after.Email {
		fields = append(fields, "email")
	}
	if before.EmailVerified != after.EmailVerified {
		fields = append(fields, "email_verified")
	}
	if before.Name != after.Name {
		fields = append(fields, "name")
	}
	if len(fields) > 0 {
		out = append(out, by.about(after.ID, audit.AccountUpdate, audit.OnAccount(after.ID), audit.Fields(fields...)))
	}
	switch {
	case after.Disabled && !before.Disabled:
		out = append(out, by.about(after.ID, audit.AccountDisable, audit.OnAccount(after.ID), ""))
	case !after.Disabled && before.Disabled:
		out = append(out, by.about(after.ID, audit.AccountEnable, audit.OnAccount(after.ID), ""))
	}
	return out
}

// SetRoles makes roles the roles account id holds, and returns them as
// held (package resource's rules: an unknown role is a
// *resource.Refused; losing the admin role closes the admin API and the
// console at once, C5). The roles of a user the configuration file
// declares with roles are the file's (a *DeclaredError, C4).
func (a *Accounts) SetRoles(ctx context.Context, by Caller, id string, roles []string) ([]string, error) {
	acct, err := a.Store.Account(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read account %s: %w", id, err)
	}
	if a.Declared.UserRoles(acct.Username) {
		return nil, &DeclaredError{What: "the role list of user " + acct.Username, Field: "roles"}
	}
	return a.Roles.SetRoles(ctx, resource.Account(acct.ID), roles, func(tx store.Tx, e audit.Entry) error {
		return a.recorder().InTx(ctx, tx, by.about(e.Account, e.Action, e.Target, e.Detail))
	})
}

// SignOutEverywhere ends every session of account id (O6) and tells
// their apps, its audit entry in the sign-out's transaction. It returns
// one sign-out per session ended.
func (a *Accounts) SignOutEverywhere(ctx context.Context, by Caller, id string) ([]signout.Done, error) {
	if _, err := a.Store.Account(ctx, id); err != nil {
		return nil, fmt.Errorf("read account %s: %w", id, err)
	}
	done, err := a.Signout.AllDevices(ctx, id, signout.CauseAdmin,
		a.auditing(ctx, by.about(id, audit.AccountSignOutEverywhere, audit.OnAccount(id), ""),
			func(done []signout.Done) string { return audit.SessionsEnded(len(done)) }))
	if err != nil {
		return nil, fmt.Errorf("sign account %s out everywhere: %w", id, err)
	}
	return done, nil
}

// RevokeSession ends one session as a global sign-out (O7, O4), its audit
// entry in the sign-out's transaction. With owner set, a session of
// another account is store.ErrNotFound, as one that does not exist. A
// session another sign-out ended meanwhile is no change: the Done has no
// receipt.
func (a *Accounts) RevokeSession(ctx context.Context, by Caller, owner, sessionID string) (signout.Done, error) {
	sess, err := a.Store.Session(ctx, sessionID)
	if err == nil && owner != "" && sess.AccountID != owner {
		err = store.ErrNotFound
	}
	if err != nil {
		return signout.Done{}, fmt.Errorf("read session %s: %w", sessionID, err)
	}
	return a.Signout.RevokeSession(ctx, sess.ID, signout.CauseAdmin,
		a.auditing(ctx, by.about(sess.AccountID, audit.SessionRevoke, audit.OnSession(sess.ID), ""), receiptDetail))
}

// RevokeGrant revokes one grant with its tokens and tells its app (O7),
// its audit entry in the revocation's transaction. With owner set, a
// grant of another account is store.ErrNotFound.
func (a *Accounts) RevokeGrant(ctx context.Context, by Caller, owner, grantID string) (signout.Done, error) {
	g, err := a.Store.Grant(ctx, grantID)
	if err == nil && owner != "" && g.AccountID != owner {
		err = store.ErrNotFound
	}
	if err != nil {
		return signout.Done{}, fmt.Errorf("read grant %s: %w", grantID, err)
	}
	return a.Signout.RevokeGrant(ctx, g.ID, signout.CauseAdmin,
		a.auditing(ctx, by.about(g.AccountID, audit.GrantRevoke, audit.OnGrant(g.ID), ""), grantDetail))
}

// about is the audit entry of a change by the caller that concerns
// account accountID.
func (by Caller) about(accountID string, action audit.Action, target audit.Target, detail string) audit.Entry {
	e := by.entry(action, target, detail)
	e.Account = accountID
	return e
}

func (a *Accounts) recorder() audit.Recorder { return audit.Recorder{Store: a.Store, Now: a.Now} }

// auditing is the signout.Record that writes e, its detail said by
// detail, in the sign-out's transaction.
func (a *Accounts) auditing(ctx context.Context, e audit.Entry, detail func([]signout.Done) string) signout.Record {
	return auditing(ctx, a.recorder(), e, detail)
}

// recordAfter writes the entries of a change another package has
// committed. The change stands: a failure is logged, and the caller still
// reports it done, so that the admin does not make it again.
func (a *Accounts) recordAfter(ctx context.Context, entries ...audit.Entry) {
	for _, e := range entries {
		if err := a.recorder().After(ctx, e); err != nil {
			a.Logger.ErrorContext(ctx, "account change made, its audit entry not written", "err", err,
				"action", e.Action, "target", e.Target.ID)
		}
	}
}
