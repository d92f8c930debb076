-- name: insert-session!
INSERT INTO panel_sessions (id, user_id, csrf_token, address) VALUES ($1, $2, $3, $4);

-- name: select-session
-- Only an active user's session: disabling a user ends their sessions at the next request.
-- Ages by the database's clock, so nodes with skewed clocks agree on the idle timeout.
SELECT s.user_id, u.account_id, u.username, u.is_admin, s.csrf_token,
       extract(epoch FROM now() - s.logged_in_at)::float8 AS login_age,
       extract(epoch FROM now() - s.seen_at)::float8 AS seen_age
FROM panel_sessions s
JOIN users u ON u.id = s.user_id
WHERE s.id = $1 AND u.active;

-- name: touch-session!
UPDATE panel_sessions SET seen_at = now() WHERE id = $1;

-- name: refresh-session-login!
-- The password was asked again: the session counts as freshly logged in (to show a key).
UPDATE panel_sessions SET logged_in_at = now(), seen_at = now() WHERE id = $1;

-- name: delete-session!
DELETE FROM panel_sessions WHERE id = $1;

-- name: delete-user-sessions!
DELETE FROM panel_sessions WHERE user_id = $1;

-- name: delete-idle-sessions!
DELETE FROM panel_sessions WHERE seen_at < now() - make_interval(secs => $1);
