-- The session cookie is now __Host-sesame_session on an https issuer
-- (design S1). Sessions made before this release were given the cookie
-- under its former name, which is still read for them, and only for them,
-- so an upgrade signs nobody out and nobody can plant a former-name cookie
-- for a session made since. They are all gone once session_max_ttl has
-- passed.

-- +goose Up

ALTER TABLE sessions ADD COLUMN legacy_cookie INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET legacy_cookie = 1;
