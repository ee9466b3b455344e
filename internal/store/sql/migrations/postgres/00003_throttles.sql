-- Throttling becomes a counter per key instead of a row per failure
-- (design A3): one row per account and source address, per source address,
-- and per client and source address, changed in the same transaction that
-- checks it (under the key's lock, LockThrottle), so a burst of guesses is
-- counted exactly across instances, and a flood of them rewrites one row
-- rather than adding a row each.
--
-- The same version makes usernames canonical (RFC 8265 UsernameCaseMapped,
-- design A1). SQL cannot compute that form, so Migrate does it in Go just
-- before this file runs (canonicalUsernames in migrate.go): it rewrites the
-- usernames that are not yet canonical, or stops, changing nothing, when two
-- accounts would end up with one name.

-- +goose Up

CREATE TABLE throttles (
    key           text    NOT NULL PRIMARY KEY, -- Throttle, LockThrottle, PutThrottle
    failures      integer NOT NULL DEFAULT 0,
    decay_from    timestamptz,
    blocked_until timestamptz,
    event_at      timestamptz,
    expires_at    timestamptz
);
-- Sweep: rows that mean nothing any more.
CREATE INDEX throttles_expiry ON throttles (expires_at);

DROP TABLE login_failures;
