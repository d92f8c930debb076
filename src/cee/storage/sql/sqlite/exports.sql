-- name: export-contacts-page
-- `cee export`: one page of the account's contacts after the last id seen. Keyset paging (not
-- OFFSET) keeps every page an index range scan, so a million contacts cost the same per page.
SELECT c.id, c.key_display, c.attributes, c.email_blacklisted, c.created_at, c.updated_at,
       (SELECT json_group_array(m.list_id) FROM list_members m WHERE m.contact_id = c.id)
FROM contacts c
WHERE c.account_id = ? AND c.id > ?
ORDER BY c.id
LIMIT ?;

-- name: export-list-page
-- The same, for the members of one list (its primary key leads with list_id).
SELECT c.id, c.key_display, c.attributes, c.email_blacklisted, c.created_at, c.updated_at,
       (SELECT json_group_array(o.list_id) FROM list_members o WHERE o.contact_id = c.id)
FROM list_members m
JOIN contacts c ON c.id = m.contact_id
WHERE c.account_id = ? AND m.list_id = ? AND m.contact_id > ?
ORDER BY m.contact_id
LIMIT ?;
