-- A per-client limit on live grants per account (devices), as Logto's
-- maxAllowedGrants; 0 is no limit. And the index that counts them.

-- +goose Up

ALTER TABLE clients ADD COLUMN max_grants INTEGER NOT NULL DEFAULT 0;
CREATE INDEX grants_by_account_client ON grants (account_id, client_id, created_at);
