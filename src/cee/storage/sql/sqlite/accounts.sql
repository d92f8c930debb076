-- name: insert-account
INSERT INTO accounts (name, primary_key, created_at) VALUES (?, ?, ?) RETURNING id;

-- name: select-accounts
SELECT id, name, api_mode, primary_key, phone_region FROM accounts ORDER BY id;

-- name: update-api-mode!
UPDATE accounts SET api_mode = ? WHERE id = ?;

-- name: update-primary-key!
UPDATE accounts SET primary_key = ? WHERE id = ?;

-- name: count-contacts
SELECT count(*) FROM contacts WHERE account_id = ?;

-- name: update-phone-region!
UPDATE accounts SET phone_region = ? WHERE id = ?;
