-- The lists every session, grant and token holds (scopes, amr) are
-- stored as space-separated words, as a scope parameter is written,
-- rather than as JSON arrays: fewer bytes per session (design §5), the
-- same form as on PostgreSQL. json_each walks an array in order. The
-- columns keep their former default '[]', which the store reads as empty
-- (SQLite cannot change a default); every insert writes them.

-- +goose Up
UPDATE sessions SET amr = COALESCE((SELECT group_concat(value, ' ') FROM json_each(sessions.amr)), '');
UPDATE grants SET scopes = COALESCE((SELECT group_concat(value, ' ') FROM json_each(grants.scopes)), '');
UPDATE access_tokens SET scopes = COALESCE((SELECT group_concat(value, ' ') FROM json_each(access_tokens.scopes)), '');
UPDATE refresh_tokens SET scopes = COALESCE((SELECT group_concat(value, ' ') FROM json_each(refresh_tokens.scopes)), ''),
    amr = COALESCE((SELECT group_concat(value, ' ') FROM json_each(refresh_tokens.amr)), '');

-- +goose Down
UPDATE sessions SET amr = CASE WHEN amr = '' THEN '[]' ELSE '["' || replace(amr, ' ', '","') || '"]' END;
UPDATE grants SET scopes = CASE WHEN scopes = '' THEN '[]' ELSE '["' || replace(scopes, ' ', '","') || '"]' END;
UPDATE access_tokens SET scopes = CASE WHEN scopes = '' THEN '[]' ELSE '["' || replace(scopes, ' ', '","') || '"]' END;
UPDATE refresh_tokens SET scopes = CASE WHEN scopes = '' THEN '[]' ELSE '["' || replace(scopes, ' ', '","') || '"]' END,
    amr = CASE WHEN amr = '' THEN '[]' ELSE '["' || replace(amr, ' ', '","') || '"]' END;
