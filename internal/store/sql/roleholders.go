package sql

import (
	"context"
	"fmt"

	"github.com/sesame-id/sesame/internal/store"
)

// Who holds a role (R1): the holders are found by the role through
// account_roles_by_role and client_roles_by_role, each looked up by its
// key, so neither read walks every account or every holder's roles.
const (
	// The role's holders are read whole from their index and sorted by
	// username: a page of a role held by many accounts still reads only
	// that role's holders, never the accounts who hold none.
	qAccountsWithRole = `SELECT ` + accountCols + ` FROM accounts
		WHERE id IN (SELECT account_id FROM account_roles WHERE role = $1) AND username > $2
		ORDER BY username LIMIT $3`
	qClientsWithRole = `SELECT ` + clientCols + ` FROM clients
		WHERE id IN (SELECT client_id FROM client_roles WHERE role = $1)
		ORDER BY id`
)

// AccountsWithRole lists a page of the accounts holding role, in
// username order, after the username after.
func (r reader) AccountsWithRole(ctx context.Context, role, after string, limit int) ([]store.Account, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("accounts with role %s: limit %d", role, limit)
	}
	list, err := queryList(ctx, r.q, scanAccount, qAccountsWithRole, role, after, limit)
	if err != nil {
		return nil, fmt.Errorf("accounts with role %s: %w", role, dbErr(err))
	}
	return list, nil
}

// ClientsWithRole lists the clients holding role, by id.
func (r reader) ClientsWithRole(ctx context.Context, role string) ([]store.Client, error) {
	list, err := queryList(ctx, r.q, scanClient, qClientsWithRole, role)
	if err != nil {
		return nil, fmt.Errorf("clients with role %s: %w", role, dbErr(err))
	}
	return list, nil
}
