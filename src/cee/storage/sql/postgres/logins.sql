-- name: insert-login-failure!
INSERT INTO login_failures (username, address) VALUES ($1, $2);

-- name: count-login-failures
-- Failures in the window for the user and for the address, each on its own index.
SELECT (SELECT count(*) FROM login_failures
         WHERE username = $1 AND at >= now() - make_interval(secs => $3)),
       (SELECT count(*) FROM login_failures
         WHERE address = $2 AND at >= now() - make_interval(secs => $3));

-- name: delete-login-failures!
-- Old failures no longer count; dropped so the table stays small.
DELETE FROM login_failures WHERE at < now() - make_interval(secs => $1);
