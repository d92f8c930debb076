-- name: insert-audit!
INSERT INTO audit_log (account_id, actor, action, target, address, at) VALUES (?, ?, ?, ?, ?, ?);

-- name: select-audit
-- Newest first, one page at a time.
SELECT id, at, actor, action, target, address FROM audit_log
WHERE account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?;
