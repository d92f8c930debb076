-- name: select-applied-migrations
-- The migrations yoyo recorded as applied: /readyz compares them with the files shipped.
SELECT migration_id FROM _yoyo_migration;
