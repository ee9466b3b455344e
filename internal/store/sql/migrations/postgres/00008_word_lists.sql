-- The lists every session, grant and token holds (scopes, amr) are
-- stored as space-separated words, as a scope parameter is written,
-- rather than as text[]: an array's header costs some 20 bytes per list
-- (design §5: bytes per session), and SQLite stores the same form. Each
-- ALTER rewrites its table under an exclusive lock: run this migration
-- before starting the new release, as for any migration (operators.md §3).

-- +goose Up
ALTER TABLE sessions ALTER COLUMN amr DROP DEFAULT,
    ALTER COLUMN amr TYPE text USING array_to_string(amr, ' '),
    ALTER COLUMN amr SET DEFAULT '';
ALTER TABLE grants ALTER COLUMN scopes DROP DEFAULT,
    ALTER COLUMN scopes TYPE text USING array_to_string(scopes, ' '),
    ALTER COLUMN scopes SET DEFAULT '';
ALTER TABLE access_tokens ALTER COLUMN scopes DROP DEFAULT,
    ALTER COLUMN scopes TYPE text USING array_to_string(scopes, ' '),
    ALTER COLUMN scopes SET DEFAULT '';
ALTER TABLE refresh_tokens ALTER COLUMN scopes DROP DEFAULT,
    ALTER COLUMN scopes TYPE text USING array_to_string(scopes, ' '),
    ALTER COLUMN scopes SET DEFAULT '',
    ALTER COLUMN amr DROP DEFAULT,
    ALTER COLUMN amr TYPE text USING array_to_string(amr, ' '),
    ALTER COLUMN amr SET DEFAULT '';

-- +goose Down
ALTER TABLE sessions ALTER COLUMN amr DROP DEFAULT,
    ALTER COLUMN amr TYPE text[] USING COALESCE(string_to_array(NULLIF(amr, ''), ' '), '{}'),
    ALTER COLUMN amr SET DEFAULT '{}';
ALTER TABLE grants ALTER COLUMN scopes DROP DEFAULT,
    ALTER COLUMN scopes TYPE text[] USING COALESCE(string_to_array(NULLIF(scopes, ''), ' '), '{}'),
    ALTER COLUMN scopes SET DEFAULT '{}';
ALTER TABLE access_tokens ALTER COLUMN scopes DROP DEFAULT,
    ALTER COLUMN scopes TYPE text[] USING COALESCE(string_to_array(NULLIF(scopes, ''), ' '), '{}'),
    ALTER COLUMN scopes SET DEFAULT '{}';
ALTER TABLE refresh_tokens ALTER COLUMN scopes DROP DEFAULT,
    ALTER COLUMN scopes TYPE text[] USING COALESCE(string_to_array(NULLIF(scopes, ''), ' '), '{}'),
    ALTER COLUMN scopes SET DEFAULT '{}',
    ALTER COLUMN amr DROP DEFAULT,
    ALTER COLUMN amr TYPE text[] USING COALESCE(string_to_array(NULLIF(amr, ''), ' '), '{}'),
    ALTER COLUMN amr SET DEFAULT '{}';
