-- Sign-out records (design O3, O9, B3): confirm pages waiting on a person,
-- receipts of what each sign-out did, and back-channel deliveries. Same
-- conventions as 00001. River's own tables come from River's migrations,
-- run after these.

-- +goose Up

CREATE TABLE logout_requests (
    xsrf_hash                BLOB    NOT NULL PRIMARY KEY,
    session_id               TEXT    NOT NULL DEFAULT '',
    client_id                TEXT    NOT NULL DEFAULT '',
    post_logout_redirect_uri TEXT    NOT NULL DEFAULT '',
    state                    TEXT    NOT NULL DEFAULT '',
    ui_locales               TEXT    NOT NULL DEFAULT '',
    created_at               INTEGER,
    expires_at               INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX logout_requests_session ON logout_requests (session_id) WHERE session_id <> '';
CREATE INDEX logout_requests_expiry ON logout_requests (expires_at);

CREATE TABLE receipts (
    id         TEXT NOT NULL PRIMARY KEY,
    scope      TEXT NOT NULL DEFAULT '',
    cause      TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    account_id TEXT NOT NULL DEFAULT '',
    client_id  TEXT NOT NULL DEFAULT '',
    outcomes   TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER
) STRICT;
CREATE INDEX receipts_account ON receipts (account_id, created_at);
CREATE INDEX receipts_created ON receipts (created_at);

CREATE TABLE deliveries (
    id           TEXT    NOT NULL PRIMARY KEY,
    receipt_id   TEXT    NOT NULL DEFAULT '',
    client_id    TEXT    NOT NULL DEFAULT '',
    uri          TEXT    NOT NULL DEFAULT '',
    subject      TEXT    NOT NULL DEFAULT '',
    sid          TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_status  INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER,
    updated_at   INTEGER,
    delivered_at INTEGER,
    lease_until  INTEGER
) STRICT;
CREATE INDEX deliveries_receipt ON deliveries (receipt_id, created_at);
CREATE INDEX deliveries_client ON deliveries (client_id, state, created_at);
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE state <> 'pending';
