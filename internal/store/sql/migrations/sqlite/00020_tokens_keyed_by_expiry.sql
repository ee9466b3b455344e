-- Access and refresh tokens are keyed by their expiry, then by the first
-- 16 bytes of their value's digest: the value now carries its expiry, so
-- a lookup still needs the value alone. A new token's row is written at
-- the end of its table, the sweeper's batch is the start of it, and the
-- index by expiry goes: one page written per token, not two. Rows from
-- before keep their 32-byte digest and are found by it through a partial
-- index that rows written from now on (16-byte hash) never enter; it
-- empties as they expire (14 days at most with the default lifetimes).
-- A token without an expiry is not one Sesame issues; none is kept.

-- +goose Up
CREATE TABLE access_tokens_keyed (
    expires_at INTEGER NOT NULL,
    hash       BLOB    NOT NULL,
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    account_id TEXT    NOT NULL DEFAULT '',
    scopes     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER,
    revoked_at INTEGER,
    PRIMARY KEY (expires_at, hash)
) STRICT, WITHOUT ROWID;
INSERT INTO access_tokens_keyed (expires_at, hash, grant_id, client_id, account_id, scopes, created_at, revoked_at)
    SELECT expires_at, hash, grant_id, client_id, account_id, scopes, created_at, revoked_at
    FROM access_tokens WHERE expires_at IS NOT NULL;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_keyed RENAME TO access_tokens;
CREATE INDEX access_tokens_legacy ON access_tokens (hash) WHERE length(hash) <> 16;

CREATE TABLE refresh_tokens_keyed (
    expires_at INTEGER NOT NULL,
    hash       BLOB    NOT NULL,
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    account_id TEXT    NOT NULL DEFAULT '',
    sid        TEXT    NOT NULL DEFAULT '',
    auth_time  INTEGER,
    amr        TEXT    NOT NULL DEFAULT '',
    acr        TEXT    NOT NULL DEFAULT '',
    scopes     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER,
    used_at    INTEGER,
    revoked_at INTEGER,
    PRIMARY KEY (expires_at, hash)
) STRICT, WITHOUT ROWID;
INSERT INTO refresh_tokens_keyed (expires_at, hash, grant_id, client_id, account_id, sid, auth_time, amr, acr, scopes,
        created_at, used_at, revoked_at)
    SELECT expires_at, hash, grant_id, client_id, account_id, sid, auth_time, amr, acr, scopes,
        created_at, used_at, revoked_at
    FROM refresh_tokens WHERE expires_at IS NOT NULL;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_keyed RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_legacy ON refresh_tokens (hash) WHERE length(hash) <> 16;

-- A JWT access token's record, by the same rule: its jti now leads with
-- the token's expiry (20 bytes); older jtis (16 bytes) are found through
-- the partial index.
CREATE TABLE jwt_access_tokens_keyed (
    expires_at INTEGER NOT NULL,
    jti        BLOB    NOT NULL,
    grant_id   TEXT    NOT NULL DEFAULT '',
    client_id  TEXT    NOT NULL,
    subject    TEXT    NOT NULL DEFAULT '',
    resource   TEXT    NOT NULL,
    created_at INTEGER,
    PRIMARY KEY (expires_at, jti)
) STRICT, WITHOUT ROWID;
INSERT INTO jwt_access_tokens_keyed (expires_at, jti, grant_id, client_id, subject, resource, created_at)
    SELECT expires_at, jti, grant_id, client_id, subject, resource, created_at
    FROM jwt_access_tokens WHERE expires_at IS NOT NULL;
DROP TABLE jwt_access_tokens;
ALTER TABLE jwt_access_tokens_keyed RENAME TO jwt_access_tokens;
CREATE INDEX jwt_access_tokens_legacy ON jwt_access_tokens (jti) WHERE length(jti) <> 20;

-- +goose Down
-- Tokens issued since the upgrade (a 16-byte hash) cannot be found by the
-- release before, which looks tokens up by the digest of their value:
-- they are dropped, and their apps sign in again.
CREATE TABLE access_tokens_by_hash (
    hash       BLOB NOT NULL PRIMARY KEY,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    scopes     TEXT NOT NULL DEFAULT '',
    created_at INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER
) STRICT, WITHOUT ROWID;
INSERT INTO access_tokens_by_hash (hash, grant_id, client_id, account_id, scopes, created_at, expires_at, revoked_at)
    SELECT hash, grant_id, client_id, account_id, scopes, created_at, expires_at, revoked_at
    FROM access_tokens WHERE length(hash) <> 16;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_by_hash RENAME TO access_tokens;
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

CREATE TABLE refresh_tokens_by_hash (
    hash       BLOB NOT NULL PRIMARY KEY,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    sid        TEXT NOT NULL DEFAULT '',
    auth_time  INTEGER,
    amr        TEXT NOT NULL DEFAULT '',
    acr        TEXT NOT NULL DEFAULT '',
    scopes     TEXT NOT NULL DEFAULT '',
    created_at INTEGER,
    expires_at INTEGER,
    used_at    INTEGER,
    revoked_at INTEGER
) STRICT, WITHOUT ROWID;
INSERT INTO refresh_tokens_by_hash (hash, grant_id, client_id, account_id, sid, auth_time, amr, acr, scopes,
        created_at, expires_at, used_at, revoked_at)
    SELECT hash, grant_id, client_id, account_id, sid, auth_time, amr, acr, scopes,
        created_at, expires_at, used_at, revoked_at
    FROM refresh_tokens WHERE length(hash) <> 16;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_by_hash RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);

CREATE TABLE jwt_access_tokens_by_jti (
    jti        BLOB NOT NULL PRIMARY KEY,
    grant_id   TEXT NOT NULL DEFAULT '',
    client_id  TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    resource   TEXT NOT NULL,
    created_at INTEGER,
    expires_at INTEGER
) STRICT, WITHOUT ROWID;
INSERT INTO jwt_access_tokens_by_jti (jti, grant_id, client_id, subject, resource, created_at, expires_at)
    SELECT jti, grant_id, client_id, subject, resource, created_at, expires_at
    FROM jwt_access_tokens WHERE length(jti) <> 20;
DROP TABLE jwt_access_tokens;
ALTER TABLE jwt_access_tokens_by_jti RENAME TO jwt_access_tokens;
CREATE INDEX jwt_access_tokens_by_expiry ON jwt_access_tokens (expires_at);
