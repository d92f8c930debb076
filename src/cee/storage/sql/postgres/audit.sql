-- name: insert-audit!
INSERT INTO audit_log (account_id, actor, action, target, address) VALUES ($1, $2, $3, $4, $5);

-- name: select-audit
-- Newest first, one page at a time.
SELECT id, at, actor, action, target, address FROM audit_log
WHERE account_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3;
