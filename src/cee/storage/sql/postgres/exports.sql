-- name: export-contacts-page
-- `cee export`: one page of the account's contacts after the last id seen. Keyset paging (not
-- OFFSET) keeps every page an index range scan, so a million contacts cost the same per page.
SELECT c.id, c.key_display, c.attributes, c.email_blacklisted, c.created_at, c.updated_at,
       coalesce((SELECT json_agg(m.list_id ORDER BY m.list_id) FROM list_members m
                 WHERE m.contact_id = c.id), '[]')::text
FROM contacts c
WHERE c.account_id = $1 AND c.id > $2
ORDER BY c.id
LIMIT $3;

-- name: export-list-page
-- The same, for the members of one list (its primary key leads with list_id).
SELECT c.id, c.key_display, c.attributes, c.email_blacklisted, c.created_at, c.updated_at,
       coalesce((SELECT json_agg(o.list_id ORDER BY o.list_id) FROM list_members o
                 WHERE o.contact_id = c.id), '[]')::text
FROM list_members m
JOIN contacts c ON c.id = m.contact_id
WHERE c.account_id = $1 AND m.list_id = $2 AND m.contact_id > $3
ORDER BY m.contact_id
LIMIT $4;
