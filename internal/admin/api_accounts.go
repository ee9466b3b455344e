package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// accountView is an account as the API shows it: never its password hash.
type accountView struct {
	ID            string    `json:"id"`
	Username      string    `json:"username"`
	Email         string    `json:"email,omitempty"`
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name,omitempty"`
	Disabled      bool      `json:"disabled"`
	CreatedAt     time.Time `json:"created_at"`
}

func viewAccount(a store.Account) accountView {
	return accountView{ID: a.ID, Username: a.Username, Email: a.Email, EmailVerified: a.EmailVerified, Name: a.Name,
		Disabled: a.Disabled, CreatedAt: a.CreatedAt}
}

// accountInput creates an account.
type accountInput struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
}

func (a *API) createAccount(w http.ResponseWriter, r *http.Request) {
	var in accountInput
	if !decode(w, r, &in) {
		return
	}
	switch {
	case in.Username == "":
		fail(w, http.StatusBadRequest, "invalid", "username is required", "username")
		return
	case len(in.Password) < 8:
		fail(w, http.StatusBadRequest, "invalid", "password must have at least 8 characters", "password")
		return
	}
	// A1: the username is taken in its canonical form, so `ALICE` or a
	// full-width twin of `alice` is refused as taken.
	acct, err := a.Accounts.Create(r.Context(), account.Spec{Username: in.Username, Password: in.Password,
		Email: in.Email, EmailVerified: in.EmailVerified, Name: in.Name})
	switch {
	case errors.Is(err, account.ErrInvalidUsername):
		fail(w, http.StatusBadRequest, "invalid", err.Error(), "username")
		return
	case errors.Is(err, account.ErrUsernameTaken):
		fail(w, http.StatusConflict, "conflict", "the username is taken", "username")
		return
	case err != nil:
		a.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, viewAccount(acct))
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request) {
	acct, err := a.Store.Account(r.Context(), r.PathValue("id"))
	if a.found(w, r, "account", err) {
		writeJSON(w, http.StatusOK, viewAccount(acct))
	}
}

// sessionView is a session (device) as the API shows it.
type sessionView struct {
	ID         string    `json:"id"`
	AuthTime   time.Time `json:"auth_time"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Apps       []string  `json:"apps"`
}

func (a *API) accountSessions(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Store.Account(r.Context(), r.PathValue("id")); !a.found(w, r, "account", err) {
		return
	}
	list, err := a.Store.SessionsByAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := []sessionView{}
	for _, s := range list {
		v := sessionView{ID: s.ID, AuthTime: s.AuthTime, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt,
			UserAgent: s.UserAgent, IP: s.IP, Apps: []string{}}
		for _, au := range s.Authorizations {
			v.Apps = append(v.Apps, au.ClientID)
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// grantView is a grant (connected app) as the API shows it.
type grantView struct {
	ID        string     `json:"id"`
	ClientID  string     `json:"client_id"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func (a *API) accountGrants(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Store.Account(r.Context(), r.PathValue("id")); !a.found(w, r, "account", err) {
		return
	}
	list, err := a.Store.GrantsByAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := []grantView{}
	for _, g := range list {
		v := grantView{ID: g.ID, ClientID: g.ClientID, Scopes: nonNil(g.Scopes), CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt}
		if !g.RevokedAt.IsZero() {
			t := g.RevokedAt
			v.RevokedAt = &t
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"grants": out})
}

// signOutAccount ends every session of the account (O6).
func (a *API) signOutAccount(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Store.Account(r.Context(), r.PathValue("id")); !a.found(w, r, "account", err) {
		return
	}
	done, err := a.Signout.AllDevices(r.Context(), r.PathValue("id"), signout.CauseAdmin)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	ids := []string{}
	for _, d := range done {
		ids = append(ids, d.Receipt.ID)
	}
	writeJSON(w, http.StatusOK, map[string]any{"receipts": ids})
}

// revokeSession ends one session as a global sign-out (O7).
func (a *API) revokeSession(w http.ResponseWriter, r *http.Request) {
	d, err := a.Signout.RevokeSession(r.Context(), r.PathValue("id"), signout.CauseAdmin)
	if a.found(w, r, "session", err) {
		writeJSON(w, http.StatusOK, map[string]any{"receipt": d.Receipt.ID, "deliveries": nonNil(d.Deliveries)})
	}
}

// revokeGrant revokes one grant with its tokens and tells its app (O7).
func (a *API) revokeGrant(w http.ResponseWriter, r *http.Request) {
	d, err := a.Signout.RevokeGrant(r.Context(), r.PathValue("id"), signout.CauseAdmin)
	if a.found(w, r, "grant", err) {
		writeJSON(w, http.StatusOK, map[string]any{"receipt": d.Receipt.ID, "deliveries": nonNil(d.Deliveries)})
	}
}

// getReceipt shows a sign-out's receipt and its deliveries' fate (O9).
func (a *API) getReceipt(w http.ResponseWriter, r *http.Request) {
	rec, err := signout.ReadReceipt(r.Context(), a.Store, r.PathValue("id"))
	if !a.found(w, r, "receipt", err) {
		return
	}
	dels := []deliveryView{}
	for _, d := range rec.Deliveries {
		dels = append(dels, viewDelivery(d))
	}
	outcomes := rec.Outcomes
	if outcomes == nil {
		outcomes = []store.ReceiptOutcome{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": rec.ID, "scope": rec.Scope, "cause": rec.Cause, "session_id": rec.SessionID, "account_id": rec.AccountID,
		"client_id": rec.ClientID, "created_at": rec.CreatedAt, "outcomes": outcomes, "deliveries": dels,
	})
}

// accountPatch changes an account; absent fields stay as they are.
type accountPatch struct {
	Password      *string `json:"password"`
	Email         *string `json:"email"`
	EmailVerified *bool   `json:"email_verified"`
	Name          *string `json:"name"`
	Disabled      *bool   `json:"disabled"`
}

// apply writes the fields p carries over a.
func (p accountPatch) apply(a *store.Account) {
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

// updateAccount changes an account. A new password ends every session of
// the account with every grant, offline ones included, and their tokens
// (A5), in the transaction that stores it with the other fields: an admin
// resets a password because someone else may know the old one, and a
// failure changes nothing. Disabling ends the sessions too (O6). A field
// the configuration file declares cannot be changed here (C4); the
// password can, since the file sets it only when it creates the user.
func (a *API) updateAccount(w http.ResponseWriter, r *http.Request) {
	var in accountPatch
	if !decode(w, r, &in) {
		return
	}
	if in.Password != nil && len(*in.Password) < 8 {
		fail(w, http.StatusBadRequest, "invalid", "password must have at least 8 characters", "password")
		return
	}
	acct, err := a.Store.Account(r.Context(), r.PathValue("id"))
	if !a.found(w, r, "account", err) {
		return
	}
	if u, ok := a.Declared.user(acct.Username); ok {
		if field := overridden(u, in); field != "" {
			refuseManaged(w, "the "+field+" of "+acct.Username, field)
			return
		}
	}
	if in.Password != nil {
		hash, err := a.Accounts.HashPassword(*in.Password) // before the transaction, never inside
		if err != nil {
			a.internal(w, r, err)
			return
		}
		reset, err := a.Signout.ResetPassword(r.Context(), signout.PasswordReset{AccountID: acct.ID, Hash: hash, Edit: in.apply})
		if !a.found(w, r, "account", err) {
			return
		}
		writeJSON(w, http.StatusOK, viewAccount(reset.Account))
		return
	}
	before, updated, err := a.Accounts.Update(r.Context(), acct.ID, in.apply)
	if !a.found(w, r, "account", err) {
		return
	}
	if updated.Disabled && !before.Disabled {
		// A disabled account's sessions and tokens are refused from the
		// commit on (S4, G2); this ends them and tells their apps.
		if _, err := a.Signout.AllDevices(r.Context(), acct.ID, signout.CauseAdmin); err != nil {
			a.Logger.ErrorContext(r.Context(), "admin api: account disabled, its sessions not ended", "err", err, "account_id", acct.ID)
			fail(w, http.StatusServiceUnavailable, "unavailable", "the account is disabled, but its sessions could not be ended: sign it out of all devices again", "")
			return
		}
	}
	writeJSON(w, http.StatusOK, viewAccount(updated))
}

// eventView is one audit log event.
type eventView struct {
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
	AccountID string    `json:"account_id,omitempty"`
	ClientID  string    `json:"client_id,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// listEvents pages through the audit log, newest first: next_cursor, when
// present, fetches the page after this one.
func (a *API) listEvents(w http.ResponseWriter, r *http.Request) {
	var before int64
	if c := r.URL.Query().Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n <= 0 {
			fail(w, http.StatusBadRequest, "invalid", "cursor is not one this API gave", "cursor")
			return
		}
		before = n
	}
	n := limit(r)
	list, err := a.Store.Events(r.Context(), before, n)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := map[string]any{}
	views := []eventView{}
	for _, e := range list {
		views = append(views, eventView{At: e.At, Kind: e.Kind, AccountID: e.AccountID, ClientID: e.ClientID, Detail: e.Detail})
	}
	out["events"] = views
	if len(list) == n {
		out["next_cursor"] = strconv.FormatInt(list[len(list)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, out)
}
