-- name: insert-login-failure!
INSERT INTO login_failures (username, address, at) VALUES (?, ?, ?);

-- name: count-login-failures
-- Failures since the cutoff for the user and for the address, each on its own index.
SELECT (SELECT count(*) FROM login_failures WHERE username = ? AND at >= ?),
       (SELECT count(*) FROM login_failures WHERE address = ? AND at >= ?);

-- name: delete-login-failures!
-- Old failures no longer count; dropped so the table stays small.
DELETE FROM login_failures WHERE at < ?;
