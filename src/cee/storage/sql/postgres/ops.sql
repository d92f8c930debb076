-- name: select-applied-migrations
-- The migrations yoyo recorded as applied: /readyz compares them with the files shipped.
SELECT migration_id FROM _yoyo_migration;

-- name: count-bulk-jobs
-- Bulk upload jobs by state, for the cee_bulk_jobs gauge (a handful of rows: one per upload).
SELECT state, count(*) FROM bulk_jobs GROUP BY state;
