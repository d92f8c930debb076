-- name: get-meta
-- One deployment-wide value (the key-hashing secret, the config version).
SELECT value FROM meta WHERE name = $1;

-- name: put-meta!
INSERT INTO meta (name, value) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET value = excluded.value;

-- name: count-accounts
-- A database is initialised once it holds an account.
SELECT count(*) FROM accounts;
