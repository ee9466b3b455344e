-- Clients gain a device limit (live grants per account, as Logto's
-- maxAllowedGrants; 0 is no limit) and an admin flag (an m2m client that
-- may get the sesame:admin scope). Grants are found by account and client
-- (the limit) and by client (deleting a client revokes its grants).

-- +goose Up

ALTER TABLE clients ADD COLUMN max_grants INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
CREATE INDEX grants_by_account_client ON grants (account_id, client_id, created_at);
CREATE INDEX grants_by_client ON grants (client_id) WHERE revoked_at IS NULL;
