package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/web"
)

// ScopeAdmin is the scope an admin token must carry.
const ScopeAdmin = grant.ScopeAdmin

// API is the admin JSON API under /api. Every call needs a bearer access
// token carrying the sesame:admin scope, of one of two holders of the
// admin role (C5): an admin m2m client (client_credentials), or a person
// whose account holds the role, signed in through a first-party app such
// as the console. None or an invalid one is 401, a token without the
// scope 403. The role is read at every call, not when the token was
// issued: a client or account that lost it, or a disabled account, is
// 401 at once. Every change it makes is written to the audit log (package
// audit) with the caller as its actor and the request's address.
type API struct {
	Store    store.Store
	Tokens   *token.Service
	Clients  *client.Registry
	Accounts *account.Service
	Signout  *signout.Service
	// AdminClients are the configuration's admin_clients: with their own
	// admin flag, the clients that hold the admin role by its deprecated
	// ways (C5).
	AdminClients []string
	// Resources tells who holds the admin role as a role (C5); nil reads
	// the deprecated ways alone, and no account is an admin.
	Resources *resource.Registry
	// Declared are the objects the configuration file manages (C4).
	Declared Declared
	Now      func() time.Time
	Logger   *slog.Logger
}

// Route is one admin API route: its method, path pattern and handler.
type Route struct {
	Method, Pattern string
	Handler         http.HandlerFunc
}

// Routes lists the API's routes; routes.go mounts them and a test checks
// the OpenAPI document names every one.
func (a *API) Routes() []Route {
	return []Route{
		{"GET", "/api/clients", a.auth(a.listClients)},
		{"POST", "/api/clients", a.auth(a.createClient)},
		{"GET", "/api/clients/{id}", a.auth(a.getClient)},
		{"PUT", "/api/clients/{id}", a.auth(a.updateClient)},
		{"GET", "/api/clients/{id}/deliveries", a.auth(a.clientDeliveries)},
		{"GET", "/api/accounts", a.auth(a.listAccounts)},
		{"POST", "/api/accounts", a.auth(a.createAccount)},
		{"GET", "/api/accounts/{id}", a.auth(a.getAccount)},
		{"GET", "/api/accounts/{id}/sessions", a.auth(a.accountSessions)},
		{"GET", "/api/accounts/{id}/grants", a.auth(a.accountGrants)},
		{"POST", "/api/accounts/{id}/sign-out", a.auth(a.signOutAccount)},
		{"DELETE", "/api/sessions/{id}", a.auth(a.revokeSession)},
		{"DELETE", "/api/grants/{id}", a.auth(a.revokeGrant)},
		{"GET", "/api/receipts/{id}", a.auth(a.getReceipt)},
		{"DELETE", "/api/clients/{id}", a.auth(a.deleteClient)},
		{"PATCH", "/api/accounts/{id}", a.auth(a.updateAccount)},
		{"POST", "/api/deliveries/{id}/retry", a.auth(a.retryDelivery)},
		{"GET", "/api/events", a.auth(a.listEvents)},
		{"GET", "/api/audit", a.auth(a.listAudit)},
		{"GET", "/api/resources", a.auth(a.listResources)},
		{"POST", "/api/resources", a.auth(a.createResource)},
		{"PUT", "/api/resources/{indicator}", a.auth(a.updateResource)},
		{"DELETE", "/api/resources/{indicator}", a.auth(a.deleteResource)},
		{"GET", "/api/roles", a.auth(a.listRoles)},
		{"PUT", "/api/roles/{name}", a.auth(a.putRole)},
		{"DELETE", "/api/roles/{name}", a.auth(a.deleteRole)},
		{"PUT", "/api/accounts/{id}/roles", a.auth(a.putAccountRoles)},
		{"PUT", "/api/clients/{id}/roles", a.auth(a.putClientRoles)},
		{"GET", "/api/openapi.json", serveOpenAPI},
	}
}

// apiError is every error the API answers, with the field at fault when
// there is one.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error","message":"could not encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func fail(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, apiError{Error: code, Message: msg, Field: field})
}

// auth checks the admin token before h runs.
func (a *API) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || value == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sesame-admin"`)
			fail(w, http.StatusUnauthorized, "unauthorized", "an admin bearer token is required", "")
			return
		}
		act, err := a.Tokens.CheckAccess(r.Context(), strings.TrimSpace(value))
		var denied *token.Denied
		switch {
		case errors.As(err, &denied):
			w.Header().Set("WWW-Authenticate", `Bearer realm="sesame-admin", error="invalid_token"`)
			fail(w, http.StatusUnauthorized, "unauthorized", "the token is not active", "")
			return
		case err != nil:
			a.internal(w, r, err)
			return
		case !slices.Contains(act.Token.Scopes, ScopeAdmin):
			w.Header().Set("WWW-Authenticate", `Bearer realm="sesame-admin", error="insufficient_scope", scope="`+ScopeAdmin+`"`)
			fail(w, http.StatusForbidden, "forbidden", "the token lacks the sesame:admin scope", "")
			return
		}
		caller, admin, err := a.holder(r.Context(), act)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !admin):
			w.Header().Set("WWW-Authenticate", `Bearer realm="sesame-admin", error="invalid_token"`)
			fail(w, http.StatusUnauthorized, "unauthorized", "the token's holder no longer holds the admin role", "")
			return
		case err != nil:
			a.internal(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)))
	}
}

// holder is who an admin token speaks for, and whether they hold the
// admin role now (C5) — for a person, also whether the app the token came
// through may still carry it (client.MayGrantAdmin). The role is read at every call, not only when the
// token was issued, so a demotion (the role taken away by API or CLI, the
// admin flag cleared, the client gone from admin_clients at a restart)
// ends the tokens at once; the registries forget a client or a holder's
// roles as soon as a change to them is heard. A person's token is live
// only while the account is (CheckAccess reads it).
func (a *API) holder(ctx context.Context, act token.Active) (audit.Actor, bool, error) {
	if act.Token.AccountID != "" {
		actor := audit.ByAdminAccount(act.Token.AccountID)
		if a.Resources == nil || slices.Contains(act.Grant.Scopes, grant.ScopeOfflineAccess) {
			// Admin authority never rides on an offline grant (C5).
			return actor, false, nil
		}
		// The app it came through must still be one that may carry it.
		c, err := a.Clients.Get(ctx, act.Token.ClientID)
		if err != nil || !client.MayGrantAdmin(c) {
			return actor, false, err
		}
		ok, err := a.Resources.HasRole(ctx, resource.Account(act.Token.AccountID), resource.RoleAdmin)
		return actor, ok, err
	}
	actor := audit.ByAdminClient(act.Token.ClientID)
	c, err := a.Clients.Get(ctx, act.Token.ClientID)
	if err != nil {
		return actor, false, err
	}
	ok, err := a.isAdmin(ctx, c)
	return actor, ok, err
}

// callerKey is the context key of the admin a request's token speaks for
// (an audit.Actor), set by auth once the token is checked.
type callerKey struct{}

// recorder is the audit log's recorder, on the API's store and clock.
func (a *API) recorder() audit.Recorder { return audit.Recorder{Store: a.Store, Now: a.Now} }

// entry is an audit entry of r's change: the admin (client or person)
// that made it, from the request's address.
func (a *API) entry(r *http.Request, action audit.Action, target audit.Target, accountID, detail string) audit.Entry {
	caller, _ := r.Context().Value(callerKey{}).(audit.Actor)
	return audit.Entry{Actor: caller, Action: action, Target: target, Account: accountID,
		Address: web.ClientIP(r), Detail: detail}
}

// isAdmin reports whether c holds the admin role (C5), as the token
// endpoint reads it when it grants sesame:admin: as a role, or by the
// deprecated admin flag or admin_clients.
func (a *API) isAdmin(ctx context.Context, c store.Client) (bool, error) {
	var roles client.RoleHolders
	if a.Resources != nil {
		roles = a.Resources
	}
	return client.HoldsAdmin(ctx, c, a.AdminClients, roles)
}

// listAll answers every record load reads, each as view shows it, under
// key (an empty list is [], never null).
func listAll[R, V any](a *API, w http.ResponseWriter, r *http.Request, key string, load func(context.Context) ([]R, error), view func(R) V) {
	list, err := load(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := make([]V, 0, len(list))
	for _, x := range list {
		out = append(out, view(x))
	}
	writeJSON(w, http.StatusOK, map[string]any{key: out})
}

func (a *API) internal(w http.ResponseWriter, r *http.Request, err error) {
	a.Logger.ErrorContext(r.Context(), "admin api", "err", err, "path", r.URL.Path)
	fail(w, http.StatusServiceUnavailable, "unavailable", "the request could not be completed; nothing was changed", "")
}

// found answers 404 for ErrNotFound and 503 for other errors; it reports
// whether err was nil.
func (a *API) found(w http.ResponseWriter, r *http.Request, what string, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, "not_found", "no "+what+" "+strconv.Quote(r.PathValue("id")), "")
	default:
		a.internal(w, r, err)
	}
	return false
}

// decode reads a JSON body strictly: unknown fields and wrong types are a
// 400 naming the field.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &maxErr):
		fail(w, http.StatusBadRequest, "invalid", fmt.Sprintf("the body is larger than %d bytes", maxErr.Limit), "")
	case errors.As(err, &typeErr):
		fail(w, http.StatusBadRequest, "invalid", fmt.Sprintf("%s must be %s", typeErr.Field, typeErr.Type), typeErr.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		fail(w, http.StatusBadRequest, "invalid", "unknown field "+field, field)
	default:
		fail(w, http.StatusBadRequest, "invalid", "the body is not valid JSON: "+err.Error(), "")
	}
	return false
}

// limit reads ?limit=, 1 to 500, default 100.
func limit(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n < 1 || n > 500 {
		return 100
	}
	return n
}

// NotFound answers an unknown /api path in JSON, as the rest of the API.
func NotFound(w http.ResponseWriter, r *http.Request) {
	fail(w, http.StatusNotFound, "not_found", "no such API path: "+r.Method+" "+r.URL.Path, "")
}
