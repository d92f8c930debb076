-- name: revoke-user-keys!
-- Rotation revokes in the same transaction that stores the new key: never two live keys.
UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL;

-- name: insert-key!
INSERT INTO api_keys (user_id, key_hash, prefix, created_at) VALUES (?, ?, ?, ?);

-- name: select-active-keys
-- What the in-memory key cache holds: live keys and what decides whether they authenticate.
SELECT k.key_hash, k.prefix, u.account_id, u.id, u.active, a.api_mode, u.rate_per_minute
FROM api_keys k
JOIN users u ON u.id = k.user_id
JOIN accounts a ON a.id = u.account_id
WHERE k.revoked_at IS NULL;

-- name: insert-sealed-key!
-- A key with its AES-GCM sealed copy, so the panel can show it again to its owner.
INSERT INTO api_keys (user_id, key_hash, prefix, created_at, key_cipher) VALUES (?, ?, ?, ?, ?);

-- name: select-current-key
-- The user's live key: its prefix and sealed copy (NULL for keys made before sealing).
SELECT prefix, key_cipher FROM api_keys
WHERE user_id = ? AND revoked_at IS NULL ORDER BY id DESC LIMIT 1;
