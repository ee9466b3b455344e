-- API resources and roles (design R1, R2): the APIs apps get JWT access
-- tokens for, the roles that permit their scopes, and the accounts and
-- clients holding those roles; the API resources a grant covers; and the
-- record of each JWT access token, by which introspection finds its
-- grant (R3). Resources and roles the configuration file declares are
-- marked declared, so that the admin API can refuse to change them (C4).
-- Names and indicators use the "C" collation, so that lists come in code
-- point order, as on SQLite.

-- +goose Up

-- One line per resource, `indicator scope scope...`, as package store/sql
-- writes it; empty (one byte) for the grants of no API, which are most.
-- A constant default: adding the column rewrites nothing.
ALTER TABLE grants ADD COLUMN resources text NOT NULL DEFAULT '';

-- A few rows, read whole into each instance's memory.
CREATE TABLE api_resources (
    indicator        text COLLATE "C" NOT NULL PRIMARY KEY,
    name             text    NOT NULL DEFAULT '',
    scopes           text    NOT NULL DEFAULT '', -- words
    access_token_ttl bigint  NOT NULL DEFAULT 0,  -- nanoseconds; 0: the top-level access_token_ttl
    declared         boolean NOT NULL DEFAULT false,
    created_at       timestamptz,
    updated_at       timestamptz
);

CREATE TABLE roles (
    name       text COLLATE "C" NOT NULL PRIMARY KEY,
    declared   boolean NOT NULL DEFAULT false,
    created_at timestamptz,
    updated_at timestamptz
);

-- A role's scopes on one resource. The key starts with the role, so a
-- role's permissions are one range; they go when their role goes.
CREATE TABLE role_permissions (
    role      text COLLATE "C" NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    indicator text COLLATE "C" NOT NULL,
    scopes    text NOT NULL DEFAULT '', -- words
    PRIMARY KEY (role, indicator)
);

-- Who holds which role: each holder's roles are one range of the key.
CREATE TABLE account_roles (
    account_id text NOT NULL,
    role       text COLLATE "C" NOT NULL,
    PRIMARY KEY (account_id, role)
);
CREATE TABLE client_roles (
    client_id text NOT NULL,
    role      text COLLATE "C" NOT NULL,
    PRIMARY KEY (client_id, role)
);

-- One row per JWT access token issued, keyed by its jti decoded (16
-- bytes), swept when the token expires.
CREATE TABLE jwt_access_tokens (
    jti        bytea NOT NULL PRIMARY KEY,
    grant_id   text  NOT NULL DEFAULT '',
    client_id  text  NOT NULL,
    subject    text  NOT NULL DEFAULT '',
    resource   text  NOT NULL,
    created_at timestamptz,
    expires_at timestamptz
);
CREATE INDEX jwt_access_tokens_by_expiry ON jwt_access_tokens (expires_at);

-- +goose Down
DROP TABLE jwt_access_tokens;
DROP TABLE client_roles;
DROP TABLE account_roles;
DROP TABLE role_permissions;
DROP TABLE roles;
DROP TABLE api_resources;
ALTER TABLE grants DROP COLUMN resources;
