-- Access and refresh tokens are keyed by their expiry, then by the first
-- 16 bytes of their value's digest: the value now carries its expiry, so
-- a lookup still needs the value alone. The primary key serves both the
-- lookup and the sweeper, and the index by expiry goes: one index entry
-- per token, not two. Rows from before keep their 32-byte digest and are
-- found by it through a partial index that rows written from now on
-- (16-byte hash) never enter; it empties as they expire (14 days at most
-- with the default lifetimes). A token without an expiry is not one
-- Sesame issues; none is kept.

-- +goose Up
DELETE FROM access_tokens WHERE expires_at IS NULL;
ALTER TABLE access_tokens DROP CONSTRAINT access_tokens_pkey;
ALTER TABLE access_tokens ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE access_tokens ADD PRIMARY KEY (expires_at, hash);
DROP INDEX access_tokens_by_expiry;
CREATE INDEX access_tokens_legacy ON access_tokens (hash) WHERE length(hash) <> 16;

DELETE FROM refresh_tokens WHERE expires_at IS NULL;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey;
ALTER TABLE refresh_tokens ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE refresh_tokens ADD PRIMARY KEY (expires_at, hash);
DROP INDEX refresh_tokens_by_expiry;
CREATE INDEX refresh_tokens_legacy ON refresh_tokens (hash) WHERE length(hash) <> 16;

-- A JWT access token's record, by the same rule: its jti now leads with
-- the token's expiry (20 bytes); older jtis (16 bytes) are found through
-- the partial index.
DELETE FROM jwt_access_tokens WHERE expires_at IS NULL;
ALTER TABLE jwt_access_tokens DROP CONSTRAINT jwt_access_tokens_pkey;
ALTER TABLE jwt_access_tokens ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE jwt_access_tokens ADD PRIMARY KEY (expires_at, jti);
DROP INDEX jwt_access_tokens_by_expiry;
CREATE INDEX jwt_access_tokens_legacy ON jwt_access_tokens (jti) WHERE length(jti) <> 20;

-- +goose Down
-- Tokens issued since the upgrade (a 16-byte hash) cannot be found by the
-- release before, which looks tokens up by the digest of their value:
-- they are dropped, and their apps sign in again.
DELETE FROM access_tokens WHERE length(hash) = 16;
DROP INDEX access_tokens_legacy;
ALTER TABLE access_tokens DROP CONSTRAINT access_tokens_pkey;
ALTER TABLE access_tokens ALTER COLUMN expires_at DROP NOT NULL;
ALTER TABLE access_tokens ADD PRIMARY KEY (hash);
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

DELETE FROM refresh_tokens WHERE length(hash) = 16;
DROP INDEX refresh_tokens_legacy;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey;
ALTER TABLE refresh_tokens ALTER COLUMN expires_at DROP NOT NULL;
ALTER TABLE refresh_tokens ADD PRIMARY KEY (hash);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);

DELETE FROM jwt_access_tokens WHERE length(jti) = 20;
DROP INDEX jwt_access_tokens_legacy;
ALTER TABLE jwt_access_tokens DROP CONSTRAINT jwt_access_tokens_pkey;
ALTER TABLE jwt_access_tokens ALTER COLUMN expires_at DROP NOT NULL;
ALTER TABLE jwt_access_tokens ADD PRIMARY KEY (jti);
CREATE INDEX jwt_access_tokens_by_expiry ON jwt_access_tokens (expires_at);
