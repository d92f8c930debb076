-- name: insert-user
-- No row back means the username is taken (usernames are global: they log in).
INSERT INTO users (account_id, username, password_hash, is_admin) VALUES ($1, $2, $3, $4)
ON CONFLICT (username) DO NOTHING
RETURNING id;

-- name: select-users
-- Every user with the prefix of their current key (NULL when they have none).
SELECT u.id, u.account_id, u.username, u.is_admin, u.active, u.password_hash,
       (SELECT k.prefix FROM api_keys k
         WHERE k.user_id = u.id AND k.revoked_at IS NULL ORDER BY k.id DESC LIMIT 1),
       u.rate_per_minute
FROM users u
WHERE $1::bigint IS NULL OR u.account_id = $1
ORDER BY u.id;

-- name: update-user-active!
UPDATE users SET active = $1 WHERE id = $2;

-- name: update-user-password!
UPDATE users SET password_hash = $1 WHERE id = $2;

-- name: update-user-admin!
UPDATE users SET is_admin = $1 WHERE id = $2;
