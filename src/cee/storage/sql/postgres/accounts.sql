-- name: insert-account
-- No row back means the name is taken: a duplicate never aborts the group transaction.
INSERT INTO accounts (name, primary_key) VALUES ($1, $2)
ON CONFLICT (name) DO NOTHING
RETURNING id;

-- name: select-accounts
SELECT id, name, api_mode, primary_key, phone_region FROM accounts ORDER BY id;

-- name: update-api-mode!
UPDATE accounts SET api_mode = $1 WHERE id = $2;

-- name: update-primary-key!
UPDATE accounts SET primary_key = $1 WHERE id = $2;

-- name: count-contacts
SELECT count(*) FROM contacts WHERE account_id = $1;

-- name: update-phone-region!
UPDATE accounts SET phone_region = $1 WHERE id = $2;
