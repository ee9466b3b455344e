-- Each back-channel delivery's attempts, for the console's diagnostics
-- (B3): when each started, how long it took, the app's status code and
-- the error. The delivery's own row keeps only the count and the last
-- answer.

-- +goose Up

-- One row per attempt, written in the transaction that records the
-- attempt's outcome on the delivery; attempt numbers them from 1. The key
-- leads with the delivery, so a delivery's history is one range of it
-- (WITHOUT ROWID keeps the rows in that order), read latest first. The
-- rows go with their delivery: the sweeper deletes finished deliveries,
-- and the cascade their attempts, found by that same key. started_at is
-- in unix nanoseconds as every time column, took_us in microseconds;
-- status is 0 when the app gave no answer; error is at most 300 bytes.
CREATE TABLE delivery_attempts (
    delivery_id TEXT    NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    started_at  INTEGER,
    took_us     INTEGER NOT NULL DEFAULT 0,
    status      INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, attempt)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE delivery_attempts;
