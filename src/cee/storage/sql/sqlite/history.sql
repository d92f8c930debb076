-- name: insert-history!
INSERT INTO contact_history (account_id, match_key, requestid, key_prefix, activity, changes, at)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: select-history
-- Bounds are ISO-8601 text, which sorts as time does.
SELECT at, requestid, key_prefix, activity, changes FROM contact_history
WHERE account_id = ? AND match_key = ?
  AND (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?)
ORDER BY id;

-- name: delete-history!
DELETE FROM contact_history WHERE account_id = ? AND match_key = ?;
