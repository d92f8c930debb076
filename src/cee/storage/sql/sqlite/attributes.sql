-- name: insert-attribute
INSERT INTO attributes (account_id, name, datatype, builtin, created_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (account_id, name) DO NOTHING
RETURNING name;

-- name: select-attributes
SELECT name, datatype, builtin FROM attributes WHERE account_id = ? ORDER BY builtin DESC, name;

-- name: select-all-attributes
SELECT account_id, name, datatype FROM attributes;
