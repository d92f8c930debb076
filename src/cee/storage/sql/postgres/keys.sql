-- name: revoke-user-keys!
-- Rotation revokes in the same transaction that stores the new key: never two live keys.
UPDATE api_keys SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL;

-- name: insert-key!
INSERT INTO api_keys (user_id, key_hash, prefix) VALUES ($1, $2, $3);

-- name: select-active-keys
-- What the in-memory key cache holds: live keys and what decides whether they authenticate.
SELECT k.key_hash, k.prefix, u.account_id, u.id, u.active, a.api_mode
FROM api_keys k
JOIN users u ON u.id = k.user_id
JOIN accounts a ON a.id = u.account_id
WHERE k.revoked_at IS NULL;
