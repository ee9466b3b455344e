-- The console's page of a user lists that account's latest sign-ins: a
-- backward range of this index, however many events other accounts wrote
-- since. Before it, the page read the whole log's latest events, newest
-- first, to pick the account's out of them.

-- +goose Up
CREATE INDEX events_by_account ON events (account_id, seq);

-- +goose Down
DROP INDEX events_by_account;
