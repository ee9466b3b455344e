package admin

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/store"
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
	if _, err := a.Store.Client(r.Context(), in.ID); err == nil {
		fail(w, http.StatusConflict, "conflict", "a client "+in.ID+" exists", "id")
		return
	} else if !errors.Is(err, store.ErrNotFound) {
		a.internal(w, r, err)
		return
	}
	plain := ""
	if in.Type == client.TypeWeb || in.Type == client.TypeM2M {
		plain = secret.NewClientSecret() // C3: 256 bits, stored as SHA-256
	}
	c, ok := a.saveClient(w, r, in.spec(plain))
	if !ok {
		return
	}
	// After: the registry stores the client in its own transaction.
	a.recordAfter(r, a.entry(r, audit.ClientCreate, audit.OnClient(c.ID), "", "type "+c.Type))
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
	if a.Declared.managesClient(in.ID) {
		refuseManaged(w, "client "+in.ID, "")
		return
	}
	existing, err := a.Store.Client(r.Context(), in.ID)
	if !a.found(w, r, "client", err) {
		return
	}
	spec := in.spec("")
	shown := ""
	if !client.IsPublic(store.Client{Type: in.Type}) {
		if in.RotateSecret || existing.SecretHash == "" {
			shown = secret.NewClientSecret() // C3: a rotation ends the old secret's tokens (C5)
			spec.Secret = shown
		} else {
			spec.Secret = keepSecret
		}
	}
	c, ok := a.saveClient(w, r, spec)
	if !ok {
		return
	}
	// After: the registry stores the client in its own transaction. A
	// replacement that changes nothing records nothing.
	var entries []audit.Entry
	if fields := changedClientFields(existing, c); len(fields) > 0 {
		entries = append(entries, a.entry(r, audit.ClientUpdate, audit.OnClient(c.ID), "", audit.Fields(fields...)))
	}
	if shown != "" {
		entries = append(entries, a.entry(r, audit.ClientRotateSecret, audit.OnClient(c.ID), "", ""))
	}
	a.recordAfter(r, entries...)
	v := viewClient(c)
	v.Secret = shown
	writeJSON(w, http.StatusOK, v)
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

// keepSecret tells saveClient to keep the stored secret hash.
const keepSecret = "\x00keep"

// saveClient stores spec through the registry; on failure it answers
// the error and reports false.
func (a *API) saveClient(w http.ResponseWriter, r *http.Request, spec client.Spec) (store.Client, bool) {
	var c store.Client
	var err error
	if spec.Secret == keepSecret {
		c, err = a.Clients.UpsertKeepingSecret(r.Context(), spec)
	} else {
		c, err = a.Clients.Upsert(r.Context(), spec)
	}
	var invalid *client.InvalidError
	switch {
	case errors.As(err, &invalid):
		fail(w, http.StatusBadRequest, "invalid", strings.ReplaceAll(err.Error(), "\n", "; "), fieldOf(err.Error()))
		return c, false
	case err != nil:
		a.internal(w, r, err)
		return c, false
	}
	return c, true
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
	if a.Declared.managesClient(r.PathValue("id")) {
		refuseManaged(w, "client "+r.PathValue("id"), "")
		return
	}
	var existed bool
	err := a.Store.InTx(r.Context(), store.Durable, func(tx store.Tx) error {
		var err error
		existed, err = tx.DeleteClient(r.Context(), r.PathValue("id"), a.Now())
		if err != nil || !existed {
			return err
		}
		return a.recorder().InTx(r.Context(), tx, a.entry(r, audit.ClientDelete, audit.OnClient(r.PathValue("id")), "", ""))
	})
	if err == nil && !existed {
		err = store.ErrNotFound
	}
	if a.found(w, r, "client", err) {
		a.Clients.Forget(r.PathValue("id"))
		writeJSON(w, http.StatusOK, map[string]any{"deleted": r.PathValue("id")})
	}
}

// retryDelivery makes a delivery pending again and attempts it now (B3).
func (a *API) retryDelivery(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := a.Store.InTx(r.Context(), store.Durable, func(tx store.Tx) error {
		d, err := tx.Delivery(r.Context(), id)
		if err != nil {
			return err
		}
		if err := tx.RetryDelivery(r.Context(), id, a.Now(), time.Now()); err != nil {
			return err
		}
		// The delivery's sub is the account it tells its app about.
		return a.recorder().InTx(r.Context(), tx, a.entry(r, audit.DeliveryRetry, audit.OnDelivery(id), d.Subject,
			"client "+d.ClientID+", was "+string(d.State)))
	})
	if !a.found(w, r, "delivery", err) {
		return
	}
	a.Signout.Backchannel.AttemptAll(r.Context(), []string{id}, a.Signout.Wait)
	d, err := a.Store.Delivery(r.Context(), id)
	if a.found(w, r, "delivery", err) {
		writeJSON(w, http.StatusOK, viewDelivery(d))
	}
}
