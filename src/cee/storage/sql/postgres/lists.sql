-- name: insert-list
INSERT INTO lists (account_id, name) VALUES ($1, $2)
ON CONFLICT (account_id, name) DO NOTHING
RETURNING id;

-- name: select-lists
SELECT l.id, l.name, (SELECT count(*) FROM list_members m WHERE m.list_id = l.id)
FROM lists l WHERE l.account_id = $1 ORDER BY l.id;

-- name: select-list-by-name
SELECT l.id, l.name, (SELECT count(*) FROM list_members m WHERE m.list_id = l.id)
FROM lists l WHERE l.account_id = $1 AND l.name = $2;

-- name: list-exists
-- Which of the given list ids ($1) exist, and whose they are: checked inside the write
-- transaction for a whole group commit, so a listid never needs a cache.
SELECT id, account_id FROM lists WHERE id = ANY($1::bigint[]);

-- name: insert-member
-- Several contacts ($2) join one list; the ones returned were not members before.
INSERT INTO list_members (list_id, contact_id)
SELECT $1, t.id FROM unnest($2::bigint[]) AS t(id) ORDER BY t.id
ON CONFLICT (list_id, contact_id) DO NOTHING
RETURNING contact_id;

-- name: delete-member
DELETE FROM list_members WHERE list_id = $1 AND contact_id = $2 RETURNING list_id;

-- name: select-member-keys
-- The members of a list, for the history entries that emptying it writes.
SELECT c.match_key FROM list_members m JOIN contacts c ON c.id = m.contact_id
WHERE m.list_id = $1;

-- name: delete-all-members!
DELETE FROM list_members WHERE list_id = $1;
