package store

import "context"

// roleHolderReader reads who holds a role (R1), for the pages that show a
// role with its holders; Reader embeds it. Both reads find the holders by
// the role (account_roles_by_role, client_roles_by_role), never by
// reading every holder's roles.
type roleHolderReader interface {
	// AccountsWithRole lists the accounts that hold role, in username
	// order (code point order, as SearchAccounts), those after the
	// username after ("" starts at the first), at most limit of them.
	// An unknown role is held by nobody: an empty list, not an error.
	AccountsWithRole(ctx context.Context, role, after string, limit int) ([]Account, error)
	// ClientsWithRole lists the clients that hold role, by id; an
	// unknown role is held by none.
	ClientsWithRole(ctx context.Context, role string) ([]Client, error)
}
