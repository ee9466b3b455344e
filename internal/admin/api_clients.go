package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/web"
)

// clientView is a client as the API shows it: never its secret hash.
type clientView struct {
	ID                                string   `json:"id"`
	Name                              string   `json:"name,omitempty"`
	Type                              string   `json:"type"`
	RedirectURIs                      []string `json:"redirect_uris"`
	PostLogoutRedirectURIs            []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI              string   `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired  bool     `json:"backchannel_logout_session_required"`
	FrontchannelLogoutURI             string   `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelLogoutSessionRequired bool     `json:"frontchannel_logout_session_required"`
	FirstParty                        bool     `json:"first_party"`
	OfflineSurvivesSignout            bool     `json:"offline_survives_signout"`
	GrantTypes                        []string `json:"grant_types"`
	IDTokenSignedResponseAlg          string   `json:"id_token_signed_response_alg"`
	MaxGrants                         int      `json:"max_grants"`
	Admin                             bool     `json:"admin"`
	// RequirePKCE is the client's own require_pkce; absent: the
	// top-level setting applies (C2).
	RequirePKCE *bool `json:"require_pkce,omitempty"`
	// Secret is shown once, when it is made.
	Secret string `json:"secret,omitempty"`
}

func viewClient(c store.Client) clientView {
	return clientView{ID: c.ID, Name: c.Name, Type: c.Type, RedirectURIs: nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), BackchannelLogoutURI: c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired, FirstParty: c.FirstParty,
		FrontchannelLogoutURI: c.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: c.FrontchannelLogoutSessionRequired,
		OfflineSurvivesSignout: c.OfflineSurvivesSignout, GrantTypes: nonNil(c.GrantTypes),
		IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg, MaxGrants: c.MaxGrants, Admin: c.Admin,
		RequirePKCE: c.RequirePKCE}
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// nonNilMap is m, or an empty map for nil: JSON {} rather than null, as
// nonNil does for lists.
func nonNilMap[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}

// clientInput is a client registration in a request body.
type clientInput struct {
	ID                                string   `json:"id"`
	Name                              string   `json:"name"`
	Type                              string   `json:"type"`
	RedirectURIs                      []string `json:"redirect_uris"`
	PostLogoutRedirectURIs            []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI              string   `json:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired  bool     `json:"backchannel_logout_session_required"`
	FrontchannelLogoutURI             string   `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelLogoutSessionRequired bool     `json:"frontchannel_logout_session_required"`
	FirstParty                        bool     `json:"first_party"`
	OfflineSurvivesSignout            *bool    `json:"offline_survives_signout"`
	GrantTypes                        []string `json:"grant_types"`
	IDTokenSignedResponseAlg          string   `json:"id_token_signed_response_alg"`
	MaxGrants                         int      `json:"max_grants"`
	Admin                             bool     `json:"admin"`
	// RequirePKCE false lets a confidential client use the code flow
	// without PKCE; absent, the top-level require_pkce applies (C2).
	RequirePKCE *bool `json:"require_pkce"`
	// RotateSecret asks for a new secret on update.
	RotateSecret bool `json:"rotate_secret"`
}

func (in clientInput) spec(secret string) client.Spec {
	return client.Spec{ID: in.ID, Secret: secret, Name: in.Name, Type: in.Type, RedirectURIs: in.RedirectURIs,
		PostLogoutRedirectURIs: in.PostLogoutRedirectURIs, BackchannelLogoutURI: in.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: in.BackchannelLogoutSessionRequired, FirstParty: in.FirstParty,
		FrontchannelLogoutURI: in.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: in.FrontchannelLogoutSessionRequired,
		OfflineSurvivesSignout: in.OfflineSurvivesSignout, GrantTypes: in.GrantTypes,
		IDTokenSignedResponseAlg: in.IDTokenSignedResponseAlg, MaxGrants: in.MaxGrants, Admin: in.Admin,
		RequirePKCE: in.RequirePKCE}
}

// NewSecret makes a random value of 256 bits in base64url, for keys and
// one-off passwords. Client secrets come from secret.NewClientSecret,
// which scanners recognise and which is stored as SHA-256 (C3).
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (a *API) listClients(w http.ResponseWriter, r *http.Request) {
	listAll(a, w, r, "clients", a.Store.Clients, viewClient)
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request) {
	c, err := a.Store.Client(r.Context(), r.PathValue("id"))
	if a.found(w, r, "client", err) {
		writeJSON(w, http.StatusOK, viewClient(c))
	}
}

// createClient registers a client; a confidential one gets a secret, shown
// in this answer only and stored hashed (C1).
func (a *API) createClient(w http.ResponseWriter, r *http.Request) {
	var in clientInput
	if !decode(w, r, &in) {
		return
	}
	c, plain, err := a.clients().Create(r.Context(), a.caller(r), in.spec(""))
	if !a.clientDone(w, r, in.ID, err) {
		return
	}
	v := viewClient(c)
	v.Secret = plain
	writeJSON(w, http.StatusCreated, v)
}

// updateClient replaces a client's registration, keeping its secret unless
// rotate_secret asks for a new one. A client the configuration file
// declares is the file's to change (C4).
func (a *API) updateClient(w http.ResponseWriter, r *http.Request) {
	var in clientInput
	if !decode(w, r, &in) {
		return
	}
	in.ID = r.PathValue("id")
	c, shown, err := a.clients().Update(r.Context(), a.caller(r), in.spec(""), in.RotateSecret)
	if !a.clientDone(w, r, in.ID, err) {
		return
	}
	v := viewClient(c)
	v.Secret = shown
	writeJSON(w, http.StatusOK, v)
}

// clients are the operations on clients, with the API's store, registry,
// declarations and clock.
func (a *API) clients() *Clients {
	return &Clients{Store: a.Store, Registry: a.Clients, Declared: a.Declared, Now: a.Now, Logger: a.Logger}
}

// caller is the admin r's token speaks for, from r's address.
func (a *API) caller(r *http.Request) Caller {
	actor, _ := r.Context().Value(callerKey{}).(audit.Actor)
	return Caller{Actor: actor, Address: web.ClientIP(r)}
}

// clientDone answers the error of an operation on client id, if any, and
// reports whether there was none.
func (a *API) clientDone(w http.ResponseWriter, r *http.Request, id string, err error) bool {
	var invalid *client.InvalidError
	var reserved *client.ReservedError
	switch {
	case err == nil:
		return true
	case errors.As(err, &reserved):
		fail(w, http.StatusConflict, "conflict", reserved.Error(), "id")
	case errors.Is(err, ErrManaged):
		refuseManaged(w, "client "+id, "")
	case errors.Is(err, ErrExists):
		fail(w, http.StatusConflict, "conflict", "a client "+id+" exists", "id")
	case errors.As(err, &invalid):
		fail(w, http.StatusBadRequest, "invalid", strings.ReplaceAll(err.Error(), "\n", "; "), fieldOf(err.Error()))
	default:
		a.found(w, r, "client", err)
	}
	return false
}

// Errors of the operations on clients, tested with errors.Is; a
// registration that does not validate is a *client.InvalidError, one of
// Sesame's own clients a *client.ReservedError, and an unknown client
// store.ErrNotFound.
var (
	// ErrManaged means the configuration file declares the object (C4):
	// a change made elsewhere would be undone at the next start.
	ErrManaged = errors.New("managed by the configuration file")
	// ErrExists means a client of that id is registered already.
	ErrExists = errors.New("a client of that id exists")
)

// Caller is who asks for a change, as its audit entry names them: an
// admin (client or person, C5) and the address they asked from.
type Caller struct {
	Actor   audit.Actor
	Address string
}

// Clients are the operations on clients (apps) that the admin API and the
// console share: validation, the refusals (Sesame's own clients, those
// the configuration file declares, C4), a generated secret shown once
// (C3), and the audit entry naming the caller. Each reports its outcome
// as an error the caller turns into its own answer (JSON or a page).
type Clients struct {
	Store    store.Store
	Registry *client.Registry
	Declared Declared
	Now      func() time.Time
	Logger   *slog.Logger
}

// Managed reports whether the configuration file declares client id, so
// that only the file may change it (C4).
func (c *Clients) Managed(id string) bool { return c.Declared.managesClient(id) }

// Create registers a client from s (s.Secret is ignored). A confidential
// one (web, m2m) gets a generated secret, returned here only and stored
// hashed (C1, C3).
func (c *Clients) Create(ctx context.Context, by Caller, s client.Spec) (store.Client, string, error) {
	if err := client.CheckNotReserved(s.ID); err != nil {
		return store.Client{}, "", err
	}
	if _, err := c.Store.Client(ctx, s.ID); err == nil {
		return store.Client{}, "", ErrExists
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Client{}, "", fmt.Errorf("read client %s: %w", s.ID, err)
	}
	plain := ""
	if s.Type == client.TypeWeb || s.Type == client.TypeM2M {
		plain = secret.NewClientSecret() // C3: 256 bits, stored as SHA-256
	}
	s.Secret = plain
	saved, err := c.Registry.Create(ctx, s, func(tx store.Tx, saved store.Client) error {
		return c.recorder().InTx(ctx, tx, by.entry(audit.ClientCreate, audit.OnClient(saved.ID), "type "+saved.Type))
	})
	if errors.Is(err, store.ErrConflict) {
		return store.Client{}, "", ErrExists // created meanwhile by another request
	}
	if err != nil {
		return store.Client{}, "", err
	}
	return saved, plain, nil
}

// Update replaces the registration of the existing client s.ID with s,
// keeping its secret unless rotate asks for a new one (or it has none
// yet); a new secret is returned, only here. s.Secret is ignored. A
// client the configuration file declares is the file's to change (C4).
func (c *Clients) Update(ctx context.Context, by Caller, s client.Spec, rotate bool) (store.Client, string, error) {
	if err := client.CheckNotReserved(s.ID); err != nil {
		return store.Client{}, "", err
	}
	if c.Managed(s.ID) {
		return store.Client{}, "", ErrManaged
	}
	existing, err := c.Store.Client(ctx, s.ID)
	if err != nil {
		return store.Client{}, "", fmt.Errorf("read client %s: %w", s.ID, err)
	}
	s.Secret = ""
	shown := ""
	keep := false
	if !client.IsPublic(store.Client{Type: s.Type}) {
		if rotate || existing.SecretHash == "" {
			shown = secret.NewClientSecret() // C3: a rotation ends the old secret's tokens (C5)
			s.Secret = shown
		} else {
			keep = true
		}
	}
	var saved store.Client
	if keep {
		saved, err = c.Registry.UpsertKeepingSecret(ctx, s)
	} else {
		saved, err = c.Registry.Upsert(ctx, s)
	}
	if err != nil {
		return store.Client{}, "", err
	}
	// After: the registry stores the client in its own transaction. A
	// replacement that changes nothing records nothing.
	var entries []audit.Entry
	if fields := changedClientFields(existing, saved); len(fields) > 0 {
		entries = append(entries, by.entry(audit.ClientUpdate, audit.OnClient(saved.ID), audit.Fields(fields...)))
	}
	if shown != "" {
		entries = append(entries, by.entry(audit.ClientRotateSecret, audit.OnClient(saved.ID), ""))
	}
	c.recordAfter(ctx, entries...)
	return saved, shown, nil
}

// Delete removes client id and revokes its grants: its tokens stop
// working at once (G2). A client the configuration file declares would
// come back at the next start: it is the file's to remove (C4).
func (c *Clients) Delete(ctx context.Context, by Caller, id string) error {
	if err := client.CheckNotReserved(id); err != nil {
		return err
	}
	if c.Managed(id) {
		return ErrManaged
	}
	var existed bool
	err := c.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		var err error
		existed, err = tx.DeleteClient(ctx, id, c.Now())
		if err != nil || !existed {
			return err
		}
		return c.recorder().InTx(ctx, tx, by.entry(audit.ClientDelete, audit.OnClient(id), ""))
	})
	if err == nil && !existed {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete client %s: %w", id, err)
	}
	c.Registry.Forget(id)
	return nil
}

// SpecOf is the registration of a stored client, as Update takes it: what
// an edit starts from. The secret and the roles are not part of it.
func SpecOf(c store.Client) client.Spec {
	return client.Spec{ID: c.ID, Name: c.Name, Type: c.Type, RedirectURIs: c.RedirectURIs,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, BackchannelLogoutURI: c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired, FirstParty: c.FirstParty,
		FrontchannelLogoutURI: c.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: c.FrontchannelLogoutSessionRequired,
		OfflineSurvivesSignout: &c.OfflineSurvivesSignout, GrantTypes: c.GrantTypes,
		IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg, MaxGrants: c.MaxGrants, Admin: c.Admin,
		RequirePKCE: c.RequirePKCE}
}

// entry is the audit entry of a change by the caller.
func (by Caller) entry(action audit.Action, target audit.Target, detail string) audit.Entry {
	return audit.Entry{Actor: by.Actor, Action: action, Target: target, Address: by.Address, Detail: detail}
}

func (c *Clients) recorder() audit.Recorder { return audit.Recorder{Store: c.Store, Now: c.Now} }

// recordAfter writes the entries of a change the registry has committed.
// The change stands: a failure is logged, and the caller still reports
// it done, so that the admin does not make it again.
func (c *Clients) recordAfter(ctx context.Context, entries ...audit.Entry) {
	for _, e := range entries {
		if err := c.recorder().After(ctx, e); err != nil {
			c.Logger.ErrorContext(ctx, "client change made, its audit entry not written", "err", err,
				"action", e.Action, "target", e.Target.ID)
		}
	}
}

// changedClientFields names the registration fields of a client that
// differ from before to after, as the API spells them; the secret is not
// one of them (its rotation is an entry of its own).
func changedClientFields(before, after store.Client) []string {
	var out []string
	for _, f := range []struct {
		name    string
		changed bool
	}{
		{"name", before.Name != after.Name},
		{"type", before.Type != after.Type},
		{"redirect_uris", !slices.Equal(before.RedirectURIs, after.RedirectURIs)},
		{"post_logout_redirect_uris", !slices.Equal(before.PostLogoutRedirectURIs, after.PostLogoutRedirectURIs)},
		{"backchannel_logout_uri", before.BackchannelLogoutURI != after.BackchannelLogoutURI},
		{"backchannel_logout_session_required", before.BackchannelLogoutSessionRequired != after.BackchannelLogoutSessionRequired},
		{"frontchannel_logout_uri", before.FrontchannelLogoutURI != after.FrontchannelLogoutURI},
		{"frontchannel_logout_session_required", before.FrontchannelLogoutSessionRequired != after.FrontchannelLogoutSessionRequired},
		{"first_party", before.FirstParty != after.FirstParty},
		{"offline_survives_signout", before.OfflineSurvivesSignout != after.OfflineSurvivesSignout},
		{"grant_types", !slices.Equal(before.GrantTypes, after.GrantTypes)},
		{"id_token_signed_response_alg", before.IDTokenSignedResponseAlg != after.IDTokenSignedResponseAlg},
		{"max_grants", before.MaxGrants != after.MaxGrants},
		{"admin", before.Admin != after.Admin},
		{"require_pkce", (before.RequirePKCE == nil) != (after.RequirePKCE == nil) ||
			before.RequirePKCE != nil && after.RequirePKCE != nil && *before.RequirePKCE != *after.RequirePKCE},
	} {
		if f.changed {
			out = append(out, f.name)
		}
	}
	return out
}

// fieldOf names the field a validation message starts with, if any.
func fieldOf(msg string) string {
	first, _, _ := strings.Cut(msg, "\n")
	if f, _, ok := strings.Cut(first, ":"); ok && !strings.Contains(f, " ") {
		return f
	}
	if strings.HasPrefix(first, "id ") {
		return "id"
	}
	if strings.HasPrefix(first, "type ") {
		return "type"
	}
	return ""
}

func (a *API) clientDeliveries(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Store.Client(r.Context(), r.PathValue("id")); !a.found(w, r, "client", err) {
		return
	}
	state := store.DeliveryState(r.URL.Query().Get("state"))
	switch state {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		fail(w, http.StatusBadRequest, "invalid", "state must be pending, delivered or failed", "state")
		return
	}
	list, err := a.Store.DeliveriesByClient(r.Context(), r.PathValue("id"), state, limit(r))
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := []deliveryView{}
	for _, d := range list {
		out = append(out, viewDelivery(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}

// deliveryView is a back-channel delivery as the API shows it (B3).
type deliveryView struct {
	ID          string              `json:"id"`
	ReceiptID   string              `json:"receipt_id"`
	ClientID    string              `json:"client_id"`
	URI         string              `json:"uri"`
	Subject     string              `json:"sub"`
	SID         string              `json:"sid"`
	State       store.DeliveryState `json:"state"`
	Attempts    int                 `json:"attempts"`
	LastStatus  int                 `json:"last_status,omitempty"`
	LastError   string              `json:"last_error,omitempty"`
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
	DeliveredAt *time.Time          `json:"delivered_at,omitempty"`
	// NextAttemptAt is when a pending delivery is tried again.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
}

func viewDelivery(d store.Delivery) deliveryView {
	v := deliveryView{ID: d.ID, ReceiptID: d.ReceiptID, ClientID: d.ClientID, URI: d.URI, Subject: d.Subject, SID: d.SID,
		State: d.State, Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if !d.DeliveredAt.IsZero() {
		t := d.DeliveredAt
		v.DeliveredAt = &t
	}
	if d.State == store.DeliveryPending && !d.DueAt.IsZero() {
		t := d.DueAt
		v.NextAttemptAt = &t
	}
	return v
}

// deleteClient removes a client and revokes its grants: its tokens stop
// working at once (G2). A client the configuration file declares would
// come back at the next start: it is the file's to remove (C4).
func (a *API) deleteClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if a.clientDone(w, r, id, a.clients().Delete(r.Context(), a.caller(r), id)) {
		writeJSON(w, http.StatusOK, map[string]any{"deleted": id})
	}
}

// retryDelivery makes a delivery pending again and attempts it now (B3).
func (a *API) retryDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := a.deliveries().Retry(r.Context(), a.caller(r), r.PathValue("id"))
	if a.found(w, r, "delivery", err) {
		writeJSON(w, http.StatusOK, viewDelivery(d))
	}
}

// deliveries are the operations on deliveries, with the API's store,
// deliverer and clock.
func (a *API) deliveries() *Deliveries {
	return &Deliveries{Store: a.Store, Backchannel: a.Signout.Backchannel, Wait: a.Signout.Wait, Now: a.Now}
}

// Deliveries are the operations on back-channel deliveries (B3) that the
// admin API and the console share, with the audit entry naming the
// caller.
type Deliveries struct {
	Store store.Store
	// Backchannel makes the attempts (and the console's test tokens).
	Backchannel *backchannel.Deliverer
	// Wait is how long Retry waits for its attempt (backchannel_wait):
	// what is not done by then goes on from the queue.
	Wait time.Duration
	Now  func() time.Time
}

// Retry makes delivery id pending again, whatever its state, audited in
// the same transaction, then attempts it at once and waits for the
// attempt up to Wait. It returns the delivery as it stands then; an
// unknown id is store.ErrNotFound.
func (d *Deliveries) Retry(ctx context.Context, by Caller, id string) (store.Delivery, error) {
	rec := audit.Recorder{Store: d.Store, Now: d.Now}
	err := d.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		del, err := tx.Delivery(ctx, id)
		if err != nil {
			return err
		}
		// Due now on the wall clock: the queue's clock (B3).
		if err := tx.RetryDelivery(ctx, id, d.Now(), time.Now()); err != nil {
			return err
		}
		e := by.entry(audit.DeliveryRetry, audit.OnDelivery(id), "client "+del.ClientID+", was "+string(del.State))
		// The delivery's sub is the account it tells its app about.
		e.Account = del.Subject
		return rec.InTx(ctx, tx, e)
	})
	if err != nil {
		return store.Delivery{}, fmt.Errorf("retry delivery %s: %w", id, err)
	}
	d.Backchannel.AttemptAll(ctx, []string{id}, d.Wait)
	del, err := d.Store.Delivery(ctx, id)
	if err != nil {
		return store.Delivery{}, fmt.Errorf("read delivery %s: %w", id, err)
	}
	return del, nil
}
