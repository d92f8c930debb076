-- name: insert-user
INSERT INTO users (account_id, username, password_hash, is_admin, created_at)
VALUES (?, ?, ?, ?, ?) RETURNING id;

-- name: select-users
-- Every user with the prefix of their current key (NULL when they have none).
SELECT u.id, u.account_id, u.username, u.is_admin, u.active, u.password_hash,
       (SELECT k.prefix FROM api_keys k
         WHERE k.user_id = u.id AND k.revoked_at IS NULL ORDER BY k.id DESC LIMIT 1),
       u.rate_per_minute
FROM users u
WHERE ? IS NULL OR u.account_id = ?
ORDER BY u.id;

-- name: update-user-active!
UPDATE users SET active = ? WHERE id = ?;

-- name: update-user-password!
UPDATE users SET password_hash = ? WHERE id = ?;

-- name: update-user-admin!
UPDATE users SET is_admin = ? WHERE id = ?;
