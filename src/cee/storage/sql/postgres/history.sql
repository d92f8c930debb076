-- name: insert-history!
-- One request's entries at once: $5 keys and $6 changes, in order.
INSERT INTO contact_history
    (account_id, match_key, requestid, key_prefix, activity, changes, contact_id)
SELECT $1, t.match_key, $2, $3, $4, t.changes,
       (SELECT c.id FROM contacts c WHERE c.account_id = $1 AND c.match_key = t.match_key)
FROM unnest($5::text[], $6::json[]) WITH ORDINALITY AS t(match_key, changes, n)
ORDER BY t.n;

-- name: select-history
SELECT at, requestid, key_prefix, activity, changes FROM contact_history
WHERE contact_id = (SELECT id FROM contacts WHERE account_id = $1 AND match_key = $2)
  AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
ORDER BY id;

-- name: delete-history!
-- Before the contact itself is deleted (the id is found through it).
DELETE FROM contact_history
WHERE contact_id = (SELECT id FROM contacts WHERE account_id = $1 AND match_key = $2);

-- name: select-history-page
-- The activity exports: one contact's entries in [$3, $4), of one activity ($5) and/or with one
-- change key ($6) when given, a page at a time. json_extract_path is NULL where the key is absent.
SELECT at, requestid, key_prefix, activity, changes FROM contact_history
WHERE contact_id = (SELECT id FROM contacts WHERE account_id = $1 AND match_key = $2)
  AND at >= $3 AND at < $4 AND ($5::text IS NULL OR activity = $5)
  AND ($6::text IS NULL OR json_extract_path(changes, $6) IS NOT NULL)
ORDER BY id LIMIT $7 OFFSET $8;

-- name: count-history-page
-- How many entries select-history-page would page through (its $1 to $6).
SELECT count(*) FROM contact_history
WHERE contact_id = (SELECT id FROM contacts WHERE account_id = $1 AND match_key = $2)
  AND at >= $3 AND at < $4 AND ($5::text IS NULL OR activity = $5)
  AND ($6::text IS NULL OR json_extract_path(changes, $6) IS NOT NULL);
