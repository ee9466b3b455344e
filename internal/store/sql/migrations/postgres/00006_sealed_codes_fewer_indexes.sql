-- Fewer writes per sign-in and refresh, less stored per session (design §5).
--
-- An authorization code is now sealed (AES-GCM under a key derived from
-- secret_key) into its own value, so issuing one writes nothing; only its
-- single use is recorded when it is redeemed, keyed by its expiry first so
-- that one B-tree both finds a replay and is swept in order. Codes issued
-- before the upgrade (they live a minute) stop working: the app starts its
-- sign-in again.
--
-- Token families are found through their grant (a grant holds few tokens),
-- so the family indexes go; grants of an account are listed through
-- grants_by_account_client; and a session's expires_at never passes its
-- max_expires_at, so the sweeper needs only the one expiry index.

-- +goose Up
DROP TABLE auth_codes;
CREATE TABLE used_codes (
    expires_at timestamptz NOT NULL,
    hash       bytea       NOT NULL,
    PRIMARY KEY (expires_at, hash)
);

DROP INDEX access_tokens_by_family;
DROP INDEX refresh_tokens_by_family;
DROP INDEX grants_by_account;
DROP INDEX sessions_by_max_expiry;
UPDATE sessions SET expires_at = max_expires_at WHERE expires_at > max_expires_at;

-- +goose Down
CREATE INDEX sessions_by_max_expiry ON sessions (max_expires_at);
CREATE INDEX grants_by_account ON grants (account_id, created_at, id);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id) WHERE family_id <> '';
CREATE INDEX access_tokens_by_family ON access_tokens (family_id) WHERE family_id <> '';
DROP TABLE used_codes;
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
