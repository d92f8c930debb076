-- name: insert-attribute
-- Several at once ($2 names, $3 datatypes): an account's built-ins in one statement.
INSERT INTO attributes (account_id, name, datatype, builtin)
SELECT $1, t.name, t.datatype, $4 FROM unnest($2::text[], $3::text[]) AS t(name, datatype)
ON CONFLICT (account_id, name) DO NOTHING
RETURNING name;

-- name: select-attributes
SELECT name, datatype, builtin FROM attributes WHERE account_id = $1 ORDER BY builtin DESC, name;

-- name: select-all-attributes
SELECT account_id, name, datatype FROM attributes;
