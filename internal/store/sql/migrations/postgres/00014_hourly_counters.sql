-- Hourly counters: the figures of the console's activity charts (sign-ins,
-- sign-outs, back-channel deliveries and their latency, live sessions),
-- one row per hour and measure, kept 30 days by the sweeper.

-- +goose Up

-- hour is the start of the UTC hour. A counter adds to count; an
-- observation adds one to count and its value to sum, so sum / count is
-- the hour's mean. The key leads with the hour: the charts read every
-- measure of a range of hours, and the sweeper deletes the oldest hours,
-- both as one range of this key.
CREATE TABLE hourly_counters (
    hour    timestamptz NOT NULL,
    measure text        NOT NULL,
    count   bigint      NOT NULL DEFAULT 0,
    sum     bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, measure)
);

-- +goose Down
DROP TABLE hourly_counters;
