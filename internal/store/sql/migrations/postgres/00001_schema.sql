-- The first PostgreSQL schema of Sesame: every table the SQLite backend has
-- after its migrations 00001-00004, in one file. Forward-only: never edit it
-- once landed; add a new numbered file instead.
--
-- Conventions, so every table reads the same way:
--   * times are timestamptz (microseconds, what the conformance suite
--     asks for); NULL is the zero time.Time;
--   * string lists are text[] ('{}' when empty, never NULL);
--   * structured values (an authorization request's parameters, a
--     receipt's outcomes) are jsonb;
--   * codes, tokens, cookies and xsrf tokens are keyed by the SHA-256 of
--     their value (bytea), never the value itself.
-- Every index below serves one query of the package, named in its comment;
-- the sweeper's indexes let it delete expired rows without scanning tables.
-- River's own tables come from River's migrations, run after these.

-- +goose Up

CREATE TABLE accounts (
    id             text    NOT NULL PRIMARY KEY,
    username       text    NOT NULL UNIQUE, -- AccountByUsername, and the rule
    email          text    NOT NULL DEFAULT '',
    email_verified boolean NOT NULL DEFAULT false,
    name           text    NOT NULL DEFAULT '',
    password_hash  text    NOT NULL DEFAULT '',
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz,
    updated_at     timestamptz
);

CREATE TABLE clients (
    id                                  text    NOT NULL PRIMARY KEY,
    secret_hash                         text    NOT NULL DEFAULT '',
    type                                text    NOT NULL DEFAULT '',
    name                                text    NOT NULL DEFAULT '',
    redirect_uris                       text[]  NOT NULL DEFAULT '{}',
    post_logout_redirect_uris           text[]  NOT NULL DEFAULT '{}',
    backchannel_logout_uri              text    NOT NULL DEFAULT '',
    backchannel_logout_session_required boolean NOT NULL DEFAULT false,
    first_party                         boolean NOT NULL DEFAULT false,
    offline_survives_signout            boolean NOT NULL DEFAULT false,
    grant_types                         text[]  NOT NULL DEFAULT '{}',
    id_token_signed_response_alg        text    NOT NULL DEFAULT '',
    max_grants                          integer NOT NULL DEFAULT 0,
    admin                               boolean NOT NULL DEFAULT false,
    created_at                          timestamptz,
    updated_at                          timestamptz
);

CREATE TABLE sessions (
    id             text   NOT NULL PRIMARY KEY,
    -- Every request with a cookie looks the session up by this.
    cookie_hash    bytea  NOT NULL UNIQUE,
    account_id     text   NOT NULL,
    auth_time      timestamptz,
    amr            text[] NOT NULL DEFAULT '{}',
    acr            text   NOT NULL DEFAULT '',
    created_at     timestamptz,
    last_seen_at   timestamptz,
    expires_at     timestamptz,
    max_expires_at timestamptz,
    user_agent     text   NOT NULL DEFAULT '',
    ip             text   NOT NULL DEFAULT ''
);
-- SessionsByAccount: newest first is a backward scan of this index.
CREATE INDEX sessions_by_account ON sessions (account_id, created_at, id);
-- Sweep deletes by either expiry, one statement per index.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_max_expiry ON sessions (max_expires_at);

-- One row per client that signed in through a session (design S2, S3). The
-- primary key starts with session_id, so a session's authorizations are one
-- index range; they go when their session goes.
CREATE TABLE authorizations (
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  text NOT NULL,
    sid        text NOT NULL,
    grant_id   text NOT NULL DEFAULT '',
    created_at timestamptz,
    PRIMARY KEY (session_id, client_id)
);

-- Grants outlive the session they were made from (offline_access), so
-- session_id is no foreign key.
CREATE TABLE grants (
    id            text   NOT NULL PRIMARY KEY,
    account_id    text   NOT NULL,
    client_id     text   NOT NULL,
    session_id    text   NOT NULL DEFAULT '',
    scopes        text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz,
    expires_at    timestamptz,
    revoked_at    timestamptz,
    revoke_reason text   NOT NULL DEFAULT ''
);
-- GrantsByAccount (newest first: a backward scan).
CREATE INDEX grants_by_account ON grants (account_id, created_at, id);
-- LiveGrants: one account's grants for one client, oldest first.
CREATE INDEX grants_by_account_client ON grants (account_id, client_id, created_at, id);
-- DeleteClient revokes the client's standing grants.
CREATE INDEX grants_by_client ON grants (client_id) WHERE revoked_at IS NULL;
-- Sweep: expired grants, and revoked ones (partial: most never are).
CREATE INDEX grants_by_expiry ON grants (expires_at);
CREATE INDEX grants_revoked ON grants (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE auth_requests (
    id           text  NOT NULL PRIMARY KEY,
    browser_hash bytea,
    client_id    text  NOT NULL,
    params       jsonb NOT NULL, -- store.AuthParams
    account_id   text  NOT NULL DEFAULT '',
    session_id   text  NOT NULL DEFAULT '',
    prompt       text  NOT NULL DEFAULT '',
    created_at   timestamptz,
    expires_at   timestamptz
);
CREATE INDEX auth_requests_by_expiry ON auth_requests (expires_at);

-- Codes and tokens are looked up by hash: the primary key.
CREATE TABLE auth_codes (
    hash                  bytea  NOT NULL PRIMARY KEY,
    client_id             text   NOT NULL,
    grant_id              text   NOT NULL,
    session_id            text   NOT NULL DEFAULT '',
    account_id            text   NOT NULL,
    sid                   text   NOT NULL DEFAULT '',
    family_id             text   NOT NULL DEFAULT '',
    redirect_uri          text   NOT NULL DEFAULT '',
    scopes                text[] NOT NULL DEFAULT '{}',
    nonce                 text   NOT NULL DEFAULT '',
    code_challenge        text   NOT NULL DEFAULT '',
    code_challenge_method text   NOT NULL DEFAULT '',
    auth_time             timestamptz,
    amr                   text[] NOT NULL DEFAULT '{}',
    acr                   text   NOT NULL DEFAULT '',
    created_at            timestamptz,
    expires_at            timestamptz,
    used_at               timestamptz
);
CREATE INDEX auth_codes_by_expiry ON auth_codes (expires_at);

CREATE TABLE access_tokens (
    hash       bytea  NOT NULL PRIMARY KEY,
    grant_id   text   NOT NULL,
    client_id  text   NOT NULL,
    account_id text   NOT NULL DEFAULT '',
    family_id  text   NOT NULL DEFAULT '',
    scopes     text[] NOT NULL DEFAULT '{}',
    created_at timestamptz,
    expires_at timestamptz,
    revoked_at timestamptz
);
-- grant_id: the sweeper drops the tokens of dead grants (design G2);
-- family_id: code replay revokes a family (spec T5), never the empty one,
-- which every token issued without a code shares.
CREATE INDEX access_tokens_by_grant ON access_tokens (grant_id);
CREATE INDEX access_tokens_by_family ON access_tokens (family_id) WHERE family_id <> '';
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

CREATE TABLE refresh_tokens (
    hash       bytea  NOT NULL PRIMARY KEY,
    grant_id   text   NOT NULL,
    client_id  text   NOT NULL,
    account_id text   NOT NULL DEFAULT '',
    family_id  text   NOT NULL DEFAULT '',
    sid        text   NOT NULL DEFAULT '',
    auth_time  timestamptz,
    amr        text[] NOT NULL DEFAULT '{}',
    acr        text   NOT NULL DEFAULT '',
    scopes     text[] NOT NULL DEFAULT '{}',
    created_at timestamptz,
    expires_at timestamptz,
    used_at    timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id) WHERE family_id <> '';
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);

CREATE TABLE signing_keys (
    id             text  NOT NULL PRIMARY KEY,
    alg            text  NOT NULL,
    public_jwk     bytea,
    sealed_private bytea,
    created_at     timestamptz,
    not_before     timestamptz,
    retired_at     timestamptz
);

-- One row per failed sign-in (design A3), counted in a sliding window.
CREATE TABLE login_failures (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fail_key text        NOT NULL,
    at       timestamptz NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (fail_key, at);
CREATE INDEX login_failures_by_time ON login_failures (at);

-- Sign-out records (design O3, O9, B3): confirm pages waiting on a person,
-- receipts of what each sign-out did, and back-channel deliveries.

CREATE TABLE logout_requests (
    xsrf_hash                bytea NOT NULL PRIMARY KEY,
    session_id               text  NOT NULL DEFAULT '',
    client_id                text  NOT NULL DEFAULT '',
    post_logout_redirect_uri text  NOT NULL DEFAULT '',
    state                    text  NOT NULL DEFAULT '',
    ui_locales               text  NOT NULL DEFAULT '',
    created_at               timestamptz,
    expires_at               timestamptz
);
-- Unique: a session has at most one confirm page that can be confirmed,
-- the latest (O3). CreateLogoutRequest replaces the row on this key, so two
-- pages opened at the same instant cannot both stay confirmable.
CREATE UNIQUE INDEX logout_requests_session ON logout_requests (session_id) WHERE session_id <> '';
CREATE INDEX logout_requests_expiry ON logout_requests (expires_at);

CREATE TABLE receipts (
    id         text  NOT NULL PRIMARY KEY,
    scope      text  NOT NULL DEFAULT '',
    cause      text  NOT NULL DEFAULT '',
    session_id text  NOT NULL DEFAULT '',
    account_id text  NOT NULL DEFAULT '',
    client_id  text  NOT NULL DEFAULT '',
    outcomes   jsonb NOT NULL DEFAULT '[]', -- []store.ReceiptOutcome
    created_at timestamptz
);
-- ReceiptsByAccount, newest first.
CREATE INDEX receipts_account ON receipts (account_id, created_at, id);
CREATE INDEX receipts_created ON receipts (created_at);

CREATE TABLE deliveries (
    id           text    NOT NULL PRIMARY KEY,
    receipt_id   text    NOT NULL DEFAULT '',
    client_id    text    NOT NULL DEFAULT '',
    uri          text    NOT NULL DEFAULT '',
    subject      text    NOT NULL DEFAULT '',
    sid          text    NOT NULL DEFAULT '',
    state        text    NOT NULL DEFAULT 'pending',
    attempts     integer NOT NULL DEFAULT 0,
    last_status  integer NOT NULL DEFAULT 0,
    last_error   text    NOT NULL DEFAULT '',
    created_at   timestamptz,
    updated_at   timestamptz,
    delivered_at timestamptz,
    lease_until  timestamptz
);
-- DeliveriesByReceipt, oldest first.
CREATE INDEX deliveries_receipt ON deliveries (receipt_id, created_at, id);
-- DeliveriesByClient in one state, newest first.
CREATE INDEX deliveries_client ON deliveries (client_id, state, created_at, id);
-- Sweep: finished deliveries past their keep.
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE state <> 'pending';

-- The audit log: sign-ins, failed sign-ins, sign-outs, revoked grants,
-- refresh-token reuse and failed deliveries, for admins to read. seq is
-- the pagination cursor.
CREATE TABLE events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz,
    kind       text   NOT NULL,
    account_id text   NOT NULL DEFAULT '',
    client_id  text   NOT NULL DEFAULT '',
    detail     text   NOT NULL DEFAULT ''
);
CREATE INDEX events_by_time ON events (at);
