-- An account holds a few sessions and grants: its lists are found by
-- account and sorted, so the indexes need not carry the sort columns
-- (design §5: bytes per session, one index entry each).

-- +goose Up
DROP INDEX sessions_by_account;
CREATE INDEX sessions_by_account ON sessions (account_id);
DROP INDEX grants_by_account_client;
CREATE INDEX grants_by_account_client ON grants (account_id, client_id);

-- +goose Down
DROP INDEX grants_by_account_client;
CREATE INDEX grants_by_account_client ON grants (account_id, client_id, created_at, id);
DROP INDEX sessions_by_account;
CREATE INDEX sessions_by_account ON sessions (account_id, created_at, id);
