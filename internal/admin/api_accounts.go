package admin

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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
	acct, err := a.accounts().Create(r.Context(), a.caller(r), NewAccount(in))
	if a.accountDone(w, r, "account", err) {
		writeJSON(w, http.StatusCreated, viewAccount(acct))
	}
}

// accounts are the operations on accounts, with the API's store,
// services, declarations and clock.
func (a *API) accounts() *Accounts {
	return &Accounts{Store: a.Store, Accounts: a.Accounts, Signout: a.Signout, Roles: a.registry(), Declared: a.Declared,
		Now: a.Now, Logger: a.Logger}
}

// accountDone answers the error of an operation on an account (or on the
// session or grant what names), if any, and reports whether there was
// none.
func (a *API) accountDone(w http.ResponseWriter, r *http.Request, what string, err error) bool {
	var field *FieldError
	var declared *DeclaredError
	switch {
	case err == nil:
		return true
	case errors.As(err, &field):
		fail(w, http.StatusBadRequest, "invalid", field.Msg, field.Field)
	case errors.As(err, &declared):
		fail(w, http.StatusConflict, "conflict", declared.Error(), declared.Field)
	case errors.Is(err, account.ErrUsernameTaken):
		fail(w, http.StatusConflict, "conflict", "the username is taken", "username")
	case errors.Is(err, ErrSessionsNotEnded):
		fail(w, http.StatusServiceUnavailable, "unavailable", ErrSessionsNotEnded.Error()+": sign it out of all devices again", "")
	default:
		a.found(w, r, what, err)
	}
	return false
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
	done, err := a.accounts().SignOutEverywhere(r.Context(), a.caller(r), r.PathValue("id"))
	if !a.accountDone(w, r, "account", err) {
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
	d, err := a.accounts().RevokeSession(r.Context(), a.caller(r), "", r.PathValue("id"))
	if a.accountDone(w, r, "session", err) {
		writeJSON(w, http.StatusOK, map[string]any{"receipt": d.Receipt.ID, "deliveries": nonNil(d.Deliveries)})
	}
}

// revokeGrant revokes one grant with its tokens and tells its app (O7),
// its audit entry in the revocation's transaction.
func (a *API) revokeGrant(w http.ResponseWriter, r *http.Request) {
	d, err := a.accounts().RevokeGrant(r.Context(), a.caller(r), "", r.PathValue("id"))
	if a.accountDone(w, r, "grant", err) {
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

// accountPatch is the body of PATCH /api/accounts/{id}; absent fields
// stay as they are.
type accountPatch = AccountPatch

// updateAccount changes an account (Accounts.Update): a new password ends
// every session and grant of the account (A5), disabling ends its
// sessions (O6), and a field the configuration file declares is refused
// (C4).
func (a *API) updateAccount(w http.ResponseWriter, r *http.Request) {
	var in accountPatch
	if !decode(w, r, &in) {
		return
	}
	done, err := a.accounts().Update(r.Context(), a.caller(r), r.PathValue("id"), in)
	if a.accountDone(w, r, "account", err) {
		writeJSON(w, http.StatusOK, viewAccount(done.Account))
	}
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

// listAccounts pages through the accounts in username order, every one
// or those whose username or email starts with q (Accounts.Search).
// next_cursor, when present, fetches the page after this one.
func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) {
	page, err := a.accounts().Search(r.Context(), AccountQuery{Q: r.URL.Query().Get("q"), Cursor: r.URL.Query().Get("cursor"), Limit: limit(r)})
	if !a.accountDone(w, r, "account", err) {
		return
	}
	out := map[string]any{}
	if page.Next != "" {
		out["next_cursor"] = page.Next
	}
	views := []accountView{}
	for _, acct := range page.Accounts {
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
