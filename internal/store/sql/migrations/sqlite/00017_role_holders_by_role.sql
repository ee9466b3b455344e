-- Deleting a role takes it from every account and client that holds it,
-- and deleting an API resource takes every role's permission on it (R1):
-- each is found by an index, so neither reads its table whole.

-- +goose Up

CREATE INDEX account_roles_by_role ON account_roles (role);
CREATE INDEX client_roles_by_role ON client_roles (role);
CREATE INDEX role_permissions_by_indicator ON role_permissions (indicator);
