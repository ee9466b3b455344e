-- A client may register a front-channel logout page (F1, OpenID
-- Connect Front-Channel Logout 1.0): '' for none. Constant defaults, so
-- adding the columns rewrites no row and the existing clients read as
-- having none.

-- +goose Up

ALTER TABLE clients ADD COLUMN frontchannel_logout_uri text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN frontchannel_logout_session_required boolean NOT NULL DEFAULT false;
