-- The audit log: who changed what, when and from where (package audit),
-- and the admin list's search of accounts by email prefix.

-- +goose Up

-- The API searches emails by prefix, ASCII case aside: this index holds
-- the form it compares. Usernames are searched on their unique index.
CREATE INDEX accounts_by_email ON accounts (lower(email));

-- One row per change an admin, an account holder, an operator at the CLI
-- or Sesame itself made. id orders the log and is the pagination cursor;
-- AUTOINCREMENT never hands out an id again once the sweeper has deleted
-- its row, so an old cursor never points into newer entries.
CREATE TABLE audit_log (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor_kind  TEXT    NOT NULL,
    actor_id    TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    target_kind TEXT    NOT NULL DEFAULT '',
    target_id   TEXT    NOT NULL DEFAULT '',
    account_id  TEXT    NOT NULL DEFAULT '',
    address     TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT ''
) STRICT;
-- The sweeper deletes by age, and the since filter reads by time.
CREATE INDEX audit_log_by_time ON audit_log (at);
-- Each filter of the API reads its own index newest first: an index of
-- SQLite ends with the rowid (id), so these are in id order within a
-- value.
CREATE INDEX audit_log_by_actor ON audit_log (actor_id);
CREATE INDEX audit_log_by_target ON audit_log (target_id);
CREATE INDEX audit_log_by_account ON audit_log (account_id);
CREATE INDEX audit_log_by_action ON audit_log (action);

-- +goose Down
DROP TABLE audit_log;
DROP INDEX accounts_by_email;
