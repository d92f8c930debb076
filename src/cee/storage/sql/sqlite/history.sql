-- name: insert-history!
-- The contact's id is ?8 when the caller knows it (the creates of addsync), else looked up here
-- from the row the same transaction just wrote or read (coalesce stops at the first non-null,
-- so a known id costs no lookup). The history index is by contact id (append-only for new
-- contacts).
INSERT INTO contact_history
    (account_id, match_key, requestid, key_prefix, activity, changes, at, contact_id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
        coalesce(?8, (SELECT id FROM contacts WHERE account_id = ?1 AND match_key = ?2)));

-- name: select-history
-- Bounds are ISO-8601 text, which sorts as time does.
SELECT at, requestid, key_prefix, activity, changes FROM contact_history
WHERE contact_id = (SELECT id FROM contacts WHERE account_id = ? AND match_key = ?)
  AND (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?)
ORDER BY id;

-- name: delete-history!
-- Before the contact itself is deleted (the id is found through it).
DELETE FROM contact_history
WHERE contact_id = (SELECT id FROM contacts WHERE account_id = ? AND match_key = ?);

-- name: select-history-page
-- The activity exports: one contact's entries in [?3, ?4), of one activity (?5) and/or with one
-- change key (?6) when given, a page at a time. json_extract is NULL where the key is absent.
SELECT at, requestid, key_prefix, activity, changes FROM contact_history
WHERE contact_id = (SELECT id FROM contacts WHERE account_id = ?1 AND match_key = ?2)
  AND at >= ?3 AND at < ?4 AND (?5 IS NULL OR activity = ?5)
  AND (?6 IS NULL OR json_extract(changes, '$.' || ?6) IS NOT NULL)
ORDER BY id LIMIT ?7 OFFSET ?8;

-- name: count-history-page
-- How many entries select-history-page would page through (its ?1 to ?6).
SELECT count(*) FROM contact_history
WHERE contact_id = (SELECT id FROM contacts WHERE account_id = ?1 AND match_key = ?2)
  AND at >= ?3 AND at < ?4 AND (?5 IS NULL OR activity = ?5)
  AND (?6 IS NULL OR json_extract(changes, '$.' || ?6) IS NOT NULL);

-- The creation entries kept on contact rows (migration 0006): see storage/sqlite/creations.py.

-- name: select-kept-creation
-- The creation entry of one contact, when its row still keeps it.
SELECT created_at, created_requestid, created_key_prefix, created_activity, created_listid,
       attributes
FROM contacts
WHERE account_id = ? AND match_key = ? AND created_requestid IS NOT NULL;

-- name: select-kept-creations-of
-- Of the contacts with these ids (?1: a JSON array), those whose rows keep their creation entry.
SELECT id, account_id, match_key, created_at, created_requestid, created_key_prefix,
       created_activity, created_listid, attributes
FROM contacts
WHERE id IN (SELECT value FROM json_each(?1)) AND created_requestid IS NOT NULL
ORDER BY id;

-- name: select-kept-creations-in-list
-- Of the members of list ?1, those whose rows keep their creation entry.
SELECT id, account_id, match_key, created_at, created_requestid, created_key_prefix,
       created_activity, created_listid, attributes
FROM contacts
WHERE id IN (SELECT contact_id FROM list_members WHERE list_id = ?1)
  AND created_requestid IS NOT NULL
ORDER BY id;

-- name: forget-kept-creation!
-- Once the entry is in contact_history.
UPDATE contacts
SET created_requestid = NULL, created_key_prefix = NULL, created_activity = NULL,
    created_listid = NULL
WHERE id = ?;
