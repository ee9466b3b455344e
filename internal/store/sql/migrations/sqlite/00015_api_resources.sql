-- API resources and roles (design R1, R2): the APIs apps get JWT access
-- tokens for, the roles that permit their scopes, and the accounts and
-- clients holding those roles; the API resources a grant covers; and the
-- record of each JWT access token, by which introspection finds its
-- grant (R3). Resources and roles the configuration file declares are
-- marked declared, so that the admin API can refuse to change them (C4).

-- +goose Up

-- One line per resource, `indicator scope scope...`, as package store/sql
-- writes it; empty (one byte) for the grants of no API, which are most.
ALTER TABLE grants ADD COLUMN resources TEXT NOT NULL DEFAULT '';

-- A few rows, read whole into each instance's memory.
CREATE TABLE api_resources (
    indicator        TEXT    NOT NULL PRIMARY KEY,
    name             TEXT    NOT NULL DEFAULT '',
    scopes           TEXT    NOT NULL DEFAULT '', -- words
    access_token_ttl INTEGER NOT NULL DEFAULT 0,  -- nanoseconds; 0: the top-level access_token_ttl
    declared         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER,
    updated_at       INTEGER
) STRICT, WITHOUT ROWID;

CREATE TABLE roles (
    name       TEXT    NOT NULL PRIMARY KEY,
    declared   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER,
    updated_at INTEGER
) STRICT, WITHOUT ROWID;

-- A role's scopes on one resource. The key starts with the role, so a
-- role's permissions are one range; they go when their role goes.
CREATE TABLE role_permissions (
    role      TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    indicator TEXT NOT NULL,
    scopes    TEXT NOT NULL DEFAULT '', -- words
    PRIMARY KEY (role, indicator)
) STRICT, WITHOUT ROWID;

-- Who holds which role: each holder's roles are one range of the key.
CREATE TABLE account_roles (
    account_id TEXT NOT NULL,
    role       TEXT NOT NULL,
    PRIMARY KEY (account_id, role)
) STRICT, WITHOUT ROWID;
CREATE TABLE client_roles (
    client_id TEXT NOT NULL,
    role      TEXT NOT NULL,
    PRIMARY KEY (client_id, role)
) STRICT, WITHOUT ROWID;

-- One row per JWT access token issued, keyed by its jti decoded (16
-- bytes), swept when the token expires.
CREATE TABLE jwt_access_tokens (
    jti        BLOB NOT NULL PRIMARY KEY,
    grant_id   TEXT NOT NULL DEFAULT '',
    client_id  TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    resource   TEXT NOT NULL,
    created_at INTEGER,
    expires_at INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX jwt_access_tokens_by_expiry ON jwt_access_tokens (expires_at);

-- +goose Down
DROP TABLE jwt_access_tokens;
DROP TABLE client_roles;
DROP TABLE account_roles;
DROP TABLE role_permissions;
DROP TABLE roles;
DROP TABLE api_resources;
ALTER TABLE grants DROP COLUMN resources;
