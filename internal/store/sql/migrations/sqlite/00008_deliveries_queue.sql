-- The deliveries table becomes the back-channel queue (design B3): a
-- pending delivery is due at due_at, and workers claim due rows with a
-- lease. River's tables go; what River held is already in deliveries
-- (each job only named its delivery), so every pending delivery is made
-- due at once and its lease, if a crashed attempt held one, is dropped.

-- +goose Up
ALTER TABLE deliveries ADD COLUMN due_at INTEGER;
UPDATE deliveries SET due_at = COALESCE(updated_at, created_at), lease_until = NULL WHERE state = 'pending';
-- ClaimDeliveries: the pending deliveries in due order.
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE state = 'pending';

DROP TABLE IF EXISTS river_client_queue;
DROP TABLE IF EXISTS river_client;
DROP TABLE IF EXISTS river_job;
DROP TABLE IF EXISTS river_leader;
DROP TABLE IF EXISTS river_queue;
DROP TABLE IF EXISTS river_migration;
DROP TABLE IF EXISTS river_notification;

-- +goose Down
DROP INDEX deliveries_due;
ALTER TABLE deliveries DROP COLUMN due_at;
