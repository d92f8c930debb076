-- name: insert-history!
-- One request's entries at once: $5 keys and $6 changes, in order.
INSERT INTO contact_history (account_id, match_key, requestid, key_prefix, activity, changes)
SELECT $1, t.match_key, $2, $3, $4, t.changes
FROM unnest($5::text[], $6::json[]) WITH ORDINALITY AS t(match_key, changes, n)
ORDER BY t.n;

-- name: select-history
SELECT at, requestid, key_prefix, activity, changes FROM contact_history
WHERE account_id = $1 AND match_key = $2
  AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
ORDER BY id;

-- name: delete-history!
DELETE FROM contact_history WHERE account_id = $1 AND match_key = $2;
