package sql

import (
	"context"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const clientCols = `id, secret_hash, type, name, redirect_uris, post_logout_redirect_uris,
	backchannel_logout_uri, backchannel_logout_session_required, first_party, offline_survives_signout,
	grant_types, id_token_signed_response_alg, created_at, updated_at, max_grants, admin, require_pkce,
	frontchannel_logout_uri, frontchannel_logout_session_required`

const (
	qClient       = `SELECT ` + clientCols + ` FROM clients WHERE id = $1`
	qClients      = `SELECT ` + clientCols + ` FROM clients ORDER BY id`
	qInsertClient = `
		INSERT INTO clients (` + clientCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`
	qCreateClient = qInsertClient + ` ON CONFLICT DO NOTHING`
	qUpsertClient = qInsertClient + `
		ON CONFLICT (id) DO UPDATE SET
			secret_hash = excluded.secret_hash,
			type = excluded.type,
			name = excluded.name,
			redirect_uris = excluded.redirect_uris,
			post_logout_redirect_uris = excluded.post_logout_redirect_uris,
			backchannel_logout_uri = excluded.backchannel_logout_uri,
			backchannel_logout_session_required = excluded.backchannel_logout_session_required,
			first_party = excluded.first_party,
			offline_survives_signout = excluded.offline_survives_signout,
			grant_types = excluded.grant_types,
			id_token_signed_response_alg = excluded.id_token_signed_response_alg,
			updated_at = excluded.updated_at,
			max_grants = excluded.max_grants,
			admin = excluded.admin,
			require_pkce = excluded.require_pkce,
			frontchannel_logout_uri = excluded.frontchannel_logout_uri,
			frontchannel_logout_session_required = excluded.frontchannel_logout_session_required`
	qDeleteClient       = `DELETE FROM clients WHERE id = $1`
	qRevokeClientGrants = `UPDATE grants SET revoked_at = $2, revoke_reason = 'client_deleted'
		WHERE client_id = $1 AND revoked_at IS NULL`
)

func scanClient(row scanner) (store.Client, error) {
	var c store.Client
	err := row.Scan(&c.ID, &c.SecretHash, &c.Type, &c.Name, listDest{&c.RedirectURIs}, listDest{&c.PostLogoutRedirectURIs},
		&c.BackchannelLogoutURI, &c.BackchannelLogoutSessionRequired, &c.FirstParty, &c.OfflineSurvivesSignout,
		listDest{&c.GrantTypes}, &c.IDTokenSignedResponseAlg, timeDest{&c.CreatedAt}, timeDest{&c.UpdatedAt}, &c.MaxGrants, &c.Admin, &c.RequirePKCE,
		&c.FrontchannelLogoutURI, &c.FrontchannelLogoutSessionRequired)
	return c, err
}

// Client reads one client by id.
func (r reader) Client(ctx context.Context, id string) (store.Client, error) {
	c, err := scanClient(r.q.queryRow(ctx, qClient, id))
	if err != nil {
		return store.Client{}, fmt.Errorf("read client %s: %w", id, dbErr(err))
	}
	return c, nil
}

// Clients lists every client, ordered by id.
func (r reader) Clients(ctx context.Context) ([]store.Client, error) {
	list, err := queryList(ctx, r.q, scanClient, qClients)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return list, nil
}

// clientArgs are c's columns, in clientCols' order.
func clientArgs(c store.Client) []any {
	return []any{c.ID, c.SecretHash, c.Type, c.Name, listArg(c.RedirectURIs), listArg(c.PostLogoutRedirectURIs),
		c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired, c.FirstParty, c.OfflineSurvivesSignout,
		listArg(c.GrantTypes), c.IDTokenSignedResponseAlg, timeArg(c.CreatedAt), timeArg(c.UpdatedAt), c.MaxGrants, c.Admin, c.RequirePKCE,
		c.FrontchannelLogoutURI, c.FrontchannelLogoutSessionRequired}
}

// UpsertClient creates the client or replaces every field but CreatedAt.
func (t *tx) UpsertClient(ctx context.Context, c store.Client) error {
	if _, err := t.q.exec(ctx, qUpsertClient, clientArgs(c)...); err != nil {
		return fmt.Errorf("upsert client %s: %w", c.ID, dbErr(err))
	}
	return t.changed(ctx, store.Change{Kind: store.ChangeClient, ID: c.ID})
}

// CreateClient stores a new client; a client of its id, one committed by
// a concurrent transaction included, is store.ErrConflict (insertNew).
func (t *tx) CreateClient(ctx context.Context, c store.Client) error {
	if err := insertNew(ctx, t.q, qCreateClient, clientArgs(c)...); err != nil {
		return fmt.Errorf("create client %s: %w", c.ID, err)
	}
	return t.changed(ctx, store.Change{Kind: store.ChangeClient, ID: c.ID})
}

// DeleteClient removes a client with the roles it held, revokes its
// grants, and reports whether it existed.
func (t *tx) DeleteClient(ctx context.Context, id string, at time.Time) (bool, error) {
	n, err := exec(ctx, t.q, qDeleteClient, id)
	if err != nil {
		return false, fmt.Errorf("delete client %s: %w", id, err)
	}
	if _, err := exec(ctx, t.q, qRevokeClientGrants, id, timeArg(at)); err != nil {
		return false, fmt.Errorf("revoke grants of client %s: %w", id, err)
	}
	// A client made again under the same id starts with no role.
	roles, err := exec(ctx, t.q, qDeleteClientRoles, id)
	if err != nil {
		return false, fmt.Errorf("delete roles of client %s: %w", id, err)
	}
	if roles > 0 {
		if err := t.changed(ctx, store.Change{Kind: store.ChangeResources, ID: store.ResourceHolderClient + id}); err != nil {
			return false, err
		}
	}
	return n > 0, t.changed(ctx, store.Change{Kind: store.ChangeClient, ID: id})
}
