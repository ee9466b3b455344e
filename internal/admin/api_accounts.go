package admin

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/audit"
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
	// After: Create hashes the password before its own transaction.
	a.recordAfter(r, a.entry(r, audit.AccountCreate, audit.OnAccount(acct.ID), acct.ID, "username "+acct.Username))
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
	id := r.PathValue("id")
	if _, err := a.Store.Account(r.Context(), id); !a.found(w, r, "account", err) {
		return
	}
	done, err := a.Signout.AllDevices(r.Context(), id, signout.CauseAdmin,
		a.auditing(r, audit.AccountSignOutEverywhere, audit.OnAccount(id), id, func(done []signout.Done) string { return audit.SessionsEnded(len(done)) }))
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

// revokeSession ends one session as a global sign-out (O7), its audit
// entry in the sign-out's transaction.
func (a *API) revokeSession(w http.ResponseWriter, r *http.Request) {
	sess, err := a.Store.Session(r.Context(), r.PathValue("id"))
	if !a.found(w, r, "session", err) {
		return
	}
	d, err := a.Signout.RevokeSession(r.Context(), sess.ID, signout.CauseAdmin,
		a.auditing(r, audit.SessionRevoke, audit.OnSession(sess.ID), sess.AccountID, receiptDetail))
	if !a.found(w, r, "session", err) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"receipt": d.Receipt.ID, "deliveries": nonNil(d.Deliveries)})
}

// revokeGrant revokes one grant with its tokens and tells its app (O7),
// its audit entry in the revocation's transaction.
func (a *API) revokeGrant(w http.ResponseWriter, r *http.Request) {
	g, err := a.Store.Grant(r.Context(), r.PathValue("id"))
	if !a.found(w, r, "grant", err) {
		return
	}
	d, err := a.Signout.RevokeGrant(r.Context(), g.ID, signout.CauseAdmin,
		a.auditing(r, audit.GrantRevoke, audit.OnGrant(g.ID), g.AccountID, grantDetail))
	if !a.found(w, r, "grant", err) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"receipt": d.Receipt.ID, "deliveries": nonNil(d.Deliveries)})
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
		var before store.Account
		reset, err := a.Signout.ResetPassword(r.Context(), signout.PasswordReset{AccountID: acct.ID, Hash: hash,
			Edit: func(acct *store.Account) { before = *acct; in.apply(acct) }})
		if !a.found(w, r, "account", err) {
			return
		}
		// After: the reset commits in package signout's transaction.
		entries := a.accountChanges(r, before, reset.Account)
		entries = append(entries, a.entry(r, audit.AccountPasswordChange, audit.OnAccount(acct.ID), acct.ID,
			audit.SessionsEnded(len(reset.Sessions))))
		a.recordAfter(r, entries...)
		writeJSON(w, http.StatusOK, viewAccount(reset.Account))
		return
	}
	// Accounts.Update with the audit entries in its transaction.
	var before, updated store.Account
	err = a.Store.InTx(r.Context(), store.Durable, func(tx store.Tx) error {
		var err error
		if before, updated, err = account.UpdateTx(r.Context(), tx, acct.ID, a.Now(), in.apply); err != nil {
			return err
		}
		for _, e := range a.accountChanges(r, before, updated) {
			if err := a.recorder().InTx(r.Context(), tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if !a.found(w, r, "account", err) {
		return
	}
	if updated.Disabled && !before.Disabled {
		// A disabled account's sessions and tokens are refused from the
		// commit on (S4, G2); this ends them and tells their apps.
		if _, err := a.Signout.AllDevices(r.Context(), acct.ID, signout.CauseAdmin, nil); err != nil {
			a.Logger.ErrorContext(r.Context(), "admin api: account disabled, its sessions not ended", "err", err, "account_id", acct.ID)
			fail(w, http.StatusServiceUnavailable, "unavailable", "the account is disabled, but its sessions could not be ended: sign it out of all devices again", "")
			return
		}
	}
	writeJSON(w, http.StatusOK, viewAccount(updated))
}

// accountChanges are the audit entries of an account's change from
// before to after, but for its password: a lock or an unlock, and the
// profile fields that changed, by name (never their values). A patch that
// changes nothing makes none.
func (a *API) accountChanges(r *http.Request, before, after store.Account) []audit.Entry {
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
		out = append(out, a.entry(r, audit.AccountUpdate, audit.OnAccount(after.ID), after.ID, audit.Fields(fields...)))
	}
	switch {
	case after.Disabled && !before.Disabled:
		out = append(out, a.entry(r, audit.AccountDisable, audit.OnAccount(after.ID), after.ID, ""))
	case !after.Disabled && before.Disabled:
		out = append(out, a.entry(r, audit.AccountEnable, audit.OnAccount(after.ID), after.ID, ""))
	}
	return out
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

// maxQuery is the longest search the account list takes, in bytes: a
// prefix longer than any username or email finds nothing anyway.
const maxQuery = 320

// listAccounts pages through the accounts in username order (code point
// order), every one or those whose username or email starts with q: the
// username compared in its canonical form (A1), so case and width do not
// matter, the email with A to Z in either case. next_cursor, when present,
// fetches the page after this one.
func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > maxQuery || !utf8.ValidString(q) || strings.ContainsRune(q, 0) {
		fail(w, http.StatusBadRequest, "invalid", fmt.Sprintf("q must be UTF-8 text of at most %d bytes", maxQuery), "q")
		return
	}
	n := limit(r)
	search := store.AccountSearch{Limit: n + 1} // one more, to know whether a next page exists
	if c := r.URL.Query().Get("cursor"); c != "" {
		after, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(after) == 0 || !utf8.Valid(after) {
			fail(w, http.StatusBadRequest, "invalid", "cursor is not one this API gave", "cursor")
			return
		}
		search.After = string(after)
	}
	if q != "" {
		search.EmailPrefix = q
		// A search that cannot be a username (a space, a symbol RFC
		// 8265 refuses) may still start an email.
		if name, err := account.CanonicalUsername(q); err == nil {
			search.UsernamePrefix = name
		}
	}
	list, err := a.Store.SearchAccounts(r.Context(), search)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := map[string]any{}
	if len(list) > n {
		list = list[:n]
		out["next_cursor"] = base64.RawURLEncoding.EncodeToString([]byte(list[n-1].Username))
	}
	views := []accountView{}
	for _, acct := range list {
		views = append(views, viewAccount(acct))
	}
	out["accounts"] = views
	writeJSON(w, http.StatusOK, out)
}

// auditView is one audit log entry as the API shows it.
type auditView struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	Actor     auditActorView `json:"actor"`
	Action    audit.Action   `json:"action"`
	Target    *auditRefView  `json:"target,omitempty"`
	AccountID string         `json:"account_id,omitempty"`
	Address   string         `json:"address,omitempty"`
	Detail    string         `json:"detail,omitempty"`
}

// auditActorView is who made a change.
type auditActorView struct {
	Kind audit.ActorKind `json:"kind"`
	ID   string          `json:"id,omitempty"`
}

// auditRefView is what a change was made to.
type auditRefView struct {
	Kind audit.TargetKind `json:"kind"`
	ID   string           `json:"id"`
}

func viewAudit(e audit.Entry) auditView {
	v := auditView{ID: e.ID, At: e.At, Actor: auditActorView{Kind: e.Actor.Kind, ID: e.Actor.ID}, Action: e.Action,
		AccountID: e.Account, Address: e.Address, Detail: e.Detail}
	if e.Target.Kind != "" {
		v.Target = &auditRefView{Kind: e.Target.Kind, ID: e.Target.ID}
	}
	return v
}

// listAudit pages through the audit log, newest first, filtered by any of
// actor (id) and actor_kind, target (id) and target_kind, account, action
// and since (RFC 3339): who changed what, when and from where.
// next_cursor, when present, fetches the page after this one.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query()
	f := audit.Filter{
		Actor:   audit.Actor{Kind: audit.ActorKind(p.Get("actor_kind")), ID: p.Get("actor")},
		Target:  audit.Target{Kind: audit.TargetKind(p.Get("target_kind")), ID: p.Get("target")},
		Account: p.Get("account"),
		Action:  audit.Action(p.Get("action")),
		Limit:   limit(r) + 1, // one more, to know whether a next page exists
	}
	switch {
	case f.Actor.Kind != "" && !slices.Contains(audit.ActorKinds, f.Actor.Kind):
		fail(w, http.StatusBadRequest, "invalid", "actor_kind must be one of "+joined(audit.ActorKinds), "actor_kind")
		return
	case f.Target.Kind != "" && !slices.Contains(audit.TargetKinds, f.Target.Kind):
		fail(w, http.StatusBadRequest, "invalid", "target_kind must be one of "+joined(audit.TargetKinds), "target_kind")
		return
	case f.Action != "" && !slices.Contains(audit.Actions, f.Action):
		fail(w, http.StatusBadRequest, "invalid", "action must be one of "+joined(audit.Actions), "action")
		return
	}
	if since := p.Get("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			fail(w, http.StatusBadRequest, "invalid", "since must be a time in RFC 3339, e.g. 2026-03-14T15:09:26Z", "since")
			return
		}
		f.Since = t
	}
	if c := p.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n <= 0 {
			fail(w, http.StatusBadRequest, "invalid", "cursor is not one this API gave", "cursor")
			return
		}
		f.Before = n
	}
	list, err := audit.List(r.Context(), a.Store, f)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := map[string]any{}
	if n := f.Limit - 1; len(list) > n {
		list = list[:n]
		out["next_cursor"] = strconv.FormatInt(list[n-1].ID, 10)
	}
	views := []auditView{}
	for _, e := range list {
		views = append(views, viewAudit(e))
	}
	out["entries"] = views
	writeJSON(w, http.StatusOK, out)
}

// joined lists values for a message: "a, b, c".
func joined[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
