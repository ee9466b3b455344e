-- A client may set its own require_pkce (design C2): NULL follows the
-- top-level require_pkce, false lets a confidential client use the code
-- flow without PKCE, true requires it whatever the top-level setting.

-- +goose Up

ALTER TABLE clients ADD COLUMN require_pkce boolean;
