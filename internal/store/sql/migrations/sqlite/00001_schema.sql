-- The first Sesame schema. Forward-only: never edit it once landed; add a
-- new numbered file instead.
--
-- Conventions, so every table reads the same way:
--   * times are INTEGER unix nanoseconds UTC; NULL is the zero time.Time;
--   * string lists are JSON arrays in TEXT ('[]' when empty);
--   * booleans are INTEGER 0 or 1;
--   * codes and tokens are keyed by the SHA-256 of their value, never the
--     value itself (design doc: secrets never reach the store in clear).
-- STRICT makes SQLite refuse a value of the wrong type instead of storing
-- it silently.

-- +goose Up

CREATE TABLE accounts (
    id             TEXT    NOT NULL PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    email          TEXT    NOT NULL DEFAULT '',
    email_verified INTEGER NOT NULL DEFAULT 0,
    name           TEXT    NOT NULL DEFAULT '',
    password_hash  TEXT    NOT NULL DEFAULT '',
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER,
    updated_at     INTEGER
) STRICT;

CREATE TABLE clients (
    id                                  TEXT    NOT NULL PRIMARY KEY,
    secret_hash                         TEXT    NOT NULL DEFAULT '',
    type                                TEXT    NOT NULL DEFAULT '',
    name                                TEXT    NOT NULL DEFAULT '',
    redirect_uris                       TEXT    NOT NULL DEFAULT '[]',
    post_logout_redirect_uris           TEXT    NOT NULL DEFAULT '[]',
    backchannel_logout_uri              TEXT    NOT NULL DEFAULT '',
    backchannel_logout_session_required INTEGER NOT NULL DEFAULT 0,
    first_party                         INTEGER NOT NULL DEFAULT 0,
    offline_survives_signout            INTEGER NOT NULL DEFAULT 0,
    grant_types                         TEXT    NOT NULL DEFAULT '[]',
    id_token_signed_response_alg        TEXT    NOT NULL DEFAULT '',
    created_at                          INTEGER,
    updated_at                          INTEGER
) STRICT;

CREATE TABLE sessions (
    id             TEXT NOT NULL PRIMARY KEY,
    cookie_hash    BLOB NOT NULL UNIQUE, -- every request with a cookie looks it up
    account_id     TEXT NOT NULL,
    auth_time      INTEGER,
    amr            TEXT NOT NULL DEFAULT '[]',
    acr            TEXT NOT NULL DEFAULT '',
    created_at     INTEGER,
    last_seen_at   INTEGER,
    expires_at     INTEGER,
    max_expires_at INTEGER,
    user_agent     TEXT NOT NULL DEFAULT '',
    ip             TEXT NOT NULL DEFAULT ''
) STRICT;
-- The account page lists sessions newest first.
CREATE INDEX sessions_by_account ON sessions (account_id, created_at);
-- The sweeper deletes by either expiry while holding the write lock; without
-- these it would scan every session.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_max_expiry ON sessions (max_expires_at);

-- One row per client that signed in through a session (design S2, S3). The
-- primary key starts with session_id, so reading a session's authorizations
-- is a range scan; they go when their session goes.
CREATE TABLE authorizations (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    sid        TEXT NOT NULL,
    grant_id   TEXT NOT NULL DEFAULT '',
    created_at INTEGER,
    PRIMARY KEY (session_id, client_id)
) STRICT, WITHOUT ROWID;

-- Grants outlive the session they were made from (offline_access), so
-- session_id is no foreign key.
CREATE TABLE grants (
    id            TEXT NOT NULL PRIMARY KEY,
    account_id    TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    session_id    TEXT NOT NULL DEFAULT '',
    scopes        TEXT NOT NULL DEFAULT '[]',
    created_at    INTEGER,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    revoke_reason TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX grants_by_account ON grants (account_id, created_at);
CREATE INDEX grants_by_expiry ON grants (expires_at);
-- Partial: most grants are never revoked, and the sweeper only asks for the
-- revoked ones.
CREATE INDEX grants_revoked ON grants (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE auth_requests (
    id           TEXT NOT NULL PRIMARY KEY,
    browser_hash BLOB,
    client_id    TEXT NOT NULL,
    params       TEXT NOT NULL, -- store.AuthParams as JSON
    account_id   TEXT NOT NULL DEFAULT '',
    session_id   TEXT NOT NULL DEFAULT '',
    prompt       TEXT NOT NULL DEFAULT '',
    created_at   INTEGER,
    expires_at   INTEGER
) STRICT;
CREATE INDEX auth_requests_by_expiry ON auth_requests (expires_at);

-- Codes and tokens are looked up only by hash: WITHOUT ROWID makes the
-- primary key the table itself, one B-tree search per lookup.
CREATE TABLE auth_codes (
    hash                  BLOB NOT NULL PRIMARY KEY,
    client_id             TEXT NOT NULL,
    grant_id              TEXT NOT NULL,
    session_id            TEXT NOT NULL DEFAULT '',
    account_id            TEXT NOT NULL,
    sid                   TEXT NOT NULL DEFAULT '',
    family_id             TEXT NOT NULL DEFAULT '',
    redirect_uri          TEXT NOT NULL DEFAULT '',
    scopes                TEXT NOT NULL DEFAULT '[]',
    nonce                 TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    auth_time             INTEGER,
    amr                   TEXT NOT NULL DEFAULT '[]',
    acr                   TEXT NOT NULL DEFAULT '',
    created_at            INTEGER,
    expires_at            INTEGER,
    used_at               INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX auth_codes_by_expiry ON auth_codes (expires_at);

CREATE TABLE access_tokens (
    hash       BLOB NOT NULL PRIMARY KEY,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    family_id  TEXT NOT NULL DEFAULT '',
    scopes     TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER
) STRICT, WITHOUT ROWID;
-- grant_id: the sweeper drops the tokens of revoked grants (design G2);
-- family_id: code replay revokes a family (spec T5).
CREATE INDEX access_tokens_by_grant ON access_tokens (grant_id);
CREATE INDEX access_tokens_by_family ON access_tokens (family_id);
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

CREATE TABLE refresh_tokens (
    hash       BLOB NOT NULL PRIMARY KEY,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    family_id  TEXT NOT NULL DEFAULT '',
    sid        TEXT NOT NULL DEFAULT '',
    auth_time  INTEGER,
    amr        TEXT NOT NULL DEFAULT '[]',
    acr        TEXT NOT NULL DEFAULT '',
    scopes     TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER,
    expires_at INTEGER,
    used_at    INTEGER,
    revoked_at INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);

CREATE TABLE signing_keys (
    id             TEXT NOT NULL PRIMARY KEY,
    alg            TEXT NOT NULL,
    public_jwk     BLOB,
    sealed_private BLOB,
    created_at     INTEGER,
    not_before     INTEGER,
    retired_at     INTEGER
) STRICT;

-- One row per failed sign-in (design A3), counted in a sliding window.
CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    fail_key TEXT    NOT NULL,
    at       INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_by_key ON login_failures (fail_key, at);
CREATE INDEX login_failures_by_time ON login_failures (at);
