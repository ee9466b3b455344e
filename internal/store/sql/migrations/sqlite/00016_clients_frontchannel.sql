-- A client may register a front-channel logout page (F1, OpenID
-- Connect Front-Channel Logout 1.0): '' for none. Constant defaults, so
-- the existing clients read as having none.

-- +goose Up

ALTER TABLE clients ADD COLUMN frontchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN frontchannel_logout_session_required INTEGER NOT NULL DEFAULT 0;
