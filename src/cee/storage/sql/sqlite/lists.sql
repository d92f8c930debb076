-- name: insert-list
INSERT INTO lists (account_id, name, created_at) VALUES (?, ?, ?)
ON CONFLICT (account_id, name) DO NOTHING
RETURNING id;

-- name: select-lists
SELECT l.id, l.name, (SELECT count(*) FROM list_members m WHERE m.list_id = l.id)
FROM lists l WHERE l.account_id = ? ORDER BY l.id;

-- name: select-list-by-name
SELECT l.id, l.name, (SELECT count(*) FROM list_members m WHERE m.list_id = l.id)
FROM lists l WHERE l.account_id = ? AND l.name = ?;

-- name: list-exists
-- Checked inside the write transaction, so a listid never needs a cache.
SELECT 1 FROM lists WHERE id = ? AND account_id = ?;

-- name: insert-member
INSERT INTO list_members (list_id, contact_id, added_at) VALUES (?, ?, ?)
ON CONFLICT (list_id, contact_id) DO NOTHING
RETURNING list_id;

-- name: delete-member
DELETE FROM list_members WHERE list_id = ? AND contact_id = ? RETURNING list_id;

-- name: select-member-keys
-- The members of a list, for the history entries that emptying it writes.
SELECT c.match_key FROM list_members m JOIN contacts c ON c.id = m.contact_id
WHERE m.list_id = ?;

-- name: delete-all-members!
DELETE FROM list_members WHERE list_id = ?;
