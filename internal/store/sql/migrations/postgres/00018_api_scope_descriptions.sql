-- An API resource may say in words what each of its scopes lets an app
-- do as the person (R1), for the consent page: a JSON object, scope to
-- description, jsonb as the other JSON documents are. A constant default:
-- adding the column rewrites nothing, and the resources stored before
-- read as describing none.

-- +goose Up
ALTER TABLE api_resources ADD COLUMN scope_descriptions jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE api_resources DROP COLUMN scope_descriptions;
