-- A new contact's creation entry is kept on its row instead of a row of contact_history, until
-- the contact's first change: most contacts are never changed, and the history row (with a
-- second copy of every attribute, and its index entry) was a third of what a create wrote.
-- created_requestid IS NOT NULL: the entry is on the row (at = created_at; the changes are
-- every attribute from null to its value, plus `_list_joined` = created_listid when it joined
-- a list). NULL: it is in contact_history, as for every contact written before this migration.

ALTER TABLE contacts ADD COLUMN created_requestid TEXT;
ALTER TABLE contacts ADD COLUMN created_key_prefix TEXT;
ALTER TABLE contacts ADD COLUMN created_activity TEXT;
ALTER TABLE contacts ADD COLUMN created_listid INTEGER;
