-- The audit log: sign-ins, failed sign-ins, sign-outs, revoked grants,
-- refresh-token reuse and failed deliveries, for admins to read.

-- +goose Up

CREATE TABLE events (
    seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at         INTEGER,
    kind       TEXT    NOT NULL,
    account_id TEXT    NOT NULL DEFAULT '',
    client_id  TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX events_by_time ON events (at);
