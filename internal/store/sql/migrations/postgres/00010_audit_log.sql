-- The audit log: who changed what, when and from where (package audit),
-- and the admin list's search of accounts by username or email prefix.

-- +goose Up

-- The search reads a prefix as a range of an index, and the list pages
-- in username order: both need the order of code points, which the "C"
-- collation gives (and SQLite's text always has), where the database's
-- default collation may order and match otherwise ('a-b' between 'ab'
-- and 'ac'). lower() under "C" lowercases A to Z only, as SQLite's does,
-- so both databases find the same accounts. Usernames are canonical (A1),
-- so equality is unchanged; the unique index is rebuilt, the table is
-- not rewritten.
ALTER TABLE accounts ALTER COLUMN username TYPE text COLLATE "C";
ALTER TABLE accounts ALTER COLUMN email TYPE text COLLATE "C";
CREATE INDEX accounts_by_email ON accounts (lower(email));

-- One row per change an admin, an account holder, an operator at the CLI
-- or Sesame itself made. id orders the log and is the pagination cursor.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_kind  text NOT NULL,
    actor_id    text NOT NULL DEFAULT '',
    action      text NOT NULL,
    target_kind text NOT NULL DEFAULT '',
    target_id   text NOT NULL DEFAULT '',
    account_id  text NOT NULL DEFAULT '',
    address     text NOT NULL DEFAULT '',
    detail      text NOT NULL DEFAULT ''
);
-- The sweeper deletes by age, and the since filter reads by time.
CREATE INDEX audit_log_by_time ON audit_log (at);
-- Each filter of the API reads its own index newest first.
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_by_target ON audit_log (target_id, id);
CREATE INDEX audit_log_by_account ON audit_log (account_id, id);
CREATE INDEX audit_log_by_action ON audit_log (action, id);

-- +goose Down
DROP TABLE audit_log;
DROP INDEX accounts_by_email;
ALTER TABLE accounts ALTER COLUMN email TYPE text COLLATE "default";
ALTER TABLE accounts ALTER COLUMN username TYPE text COLLATE "default";
