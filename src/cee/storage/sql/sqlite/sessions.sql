-- name: insert-session!
INSERT INTO panel_sessions (id, user_id, csrf_token, address, logged_in_at, seen_at)
VALUES (?, ?, ?, ?, ?, ?);

-- name: select-session
-- Only an active user's session: disabling a user ends their sessions at the next request.
SELECT s.user_id, u.account_id, u.username, u.is_admin, s.csrf_token, s.logged_in_at, s.seen_at
FROM panel_sessions s
JOIN users u ON u.id = s.user_id
WHERE s.id = ? AND u.active = 1;

-- name: touch-session!
UPDATE panel_sessions SET seen_at = ? WHERE id = ?;

-- name: refresh-session-login!
-- The password was asked again: the session counts as freshly logged in (to show a key).
UPDATE panel_sessions SET logged_in_at = ?, seen_at = ? WHERE id = ?;

-- name: delete-session!
DELETE FROM panel_sessions WHERE id = ?;

-- name: delete-user-sessions!
DELETE FROM panel_sessions WHERE user_id = ?;

-- name: delete-idle-sessions!
DELETE FROM panel_sessions WHERE seen_at < ?;
