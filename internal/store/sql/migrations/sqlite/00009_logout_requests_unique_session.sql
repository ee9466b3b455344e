-- The store's SQL is now written once for both databases: a session's
-- logout request replaces the one it had in one upsert on this index
-- (design O3: only the latest confirm page of a session is answered), as
-- PostgreSQL always did. The former code deleted a session's older
-- request before inserting, so at most one row per session exists.

-- +goose Up
DROP INDEX logout_requests_session;
CREATE UNIQUE INDEX logout_requests_session ON logout_requests (session_id) WHERE session_id <> '';

-- +goose Down
DROP INDEX logout_requests_session;
CREATE INDEX logout_requests_session ON logout_requests (session_id) WHERE session_id <> '';
