-- A client may set its own require_pkce (design C2): NULL follows the
-- top-level require_pkce, 0 lets a confidential client use the code flow
-- without PKCE, 1 requires it whatever the top-level setting.

-- +goose Up

ALTER TABLE clients ADD COLUMN require_pkce INTEGER;
