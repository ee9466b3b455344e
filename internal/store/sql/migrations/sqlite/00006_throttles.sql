-- Throttling becomes a counter per key instead of a row per failure
-- (design A3): one row per account and source address, per source address,
-- and per client and source address, changed in the same transaction that
-- checks it, so a burst of guesses is counted exactly and a flood of them
-- writes one row over and over rather than a row each.
--
-- The same version makes usernames canonical (RFC 8265 UsernameCaseMapped,
-- design A1). SQL cannot compute that form, so Migrate does it in Go just
-- before this file runs (canonicalUsernames in migrate.go): it rewrites the
-- usernames that are not yet canonical, or stops, changing nothing, when two
-- accounts would end up with one name.

-- +goose Up

CREATE TABLE throttles (
    key           TEXT    NOT NULL PRIMARY KEY,
    failures      INTEGER NOT NULL DEFAULT 0,
    decay_from    INTEGER,
    blocked_until INTEGER,
    event_at      INTEGER,
    expires_at    INTEGER
) STRICT;
-- Sweep: rows that mean nothing any more.
CREATE INDEX throttles_expiry ON throttles (expires_at);

DROP TABLE login_failures;
