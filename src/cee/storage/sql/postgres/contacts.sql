-- name: insert-contact
-- The addsync hot path, for a whole group commit in one statement. $1 is one JSON array with an
-- object per new contact: one parameter to encode, where nine arrays cost the driver a type
-- check per element (on 1,000-contact arrays the driver's share of the server's CPU fell from
-- ~20 % to ~6 %). Deduplicated by the caller; the insert sorts by (account, key) so that concurrent batches of several
-- nodes take their locks in one order. DO NOTHING + RETURNING tells created (a row) from
-- duplicate (none); the membership (list_id not NULL) and the history entry (changes not NULL)
-- of each created contact are written by the same statement.
WITH input AS (
    SELECT * FROM json_to_recordset($1::json) AS t(
        account_id bigint, match_key text, key_display text, attributes json, list_id bigint,
        changes json, requestid text, key_prefix text, activity text
    )
), created AS (
    INSERT INTO contacts (account_id, match_key, key_display, attributes)
    SELECT account_id, match_key, key_display, attributes FROM input
    ORDER BY account_id, match_key
    ON CONFLICT (account_id, match_key) DO NOTHING
    RETURNING id, account_id, match_key
), joined AS (
    INSERT INTO list_members (list_id, contact_id)
    SELECT i.list_id, c.id FROM created c JOIN input i USING (account_id, match_key)
    WHERE i.list_id IS NOT NULL
), logged AS (
    INSERT INTO contact_history
        (account_id, match_key, requestid, key_prefix, activity, changes, contact_id)
    SELECT i.account_id, i.match_key, i.requestid, i.key_prefix, i.activity, i.changes, c.id
    FROM created c JOIN input i USING (account_id, match_key)
    WHERE i.changes IS NOT NULL
    ORDER BY c.id
)
SELECT id, account_id, match_key FROM created;

-- name: reserve-contact-ids
-- Ids for the new contacts copyin.py copies in, one per key of $1, handed out in key order as
-- insert-contact's ORDER BY hands them out (nextval runs after the sort).
SELECT k, nextval('contacts_id_seq') FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) AS s;

-- name: select-contact-for-update
-- Every given key ($2) that exists, locked in key order (the order inserts take too).
SELECT id, match_key, attributes, email_blacklisted FROM contacts
WHERE account_id = $1 AND match_key = ANY($2::text[])
ORDER BY match_key
FOR UPDATE;

-- name: update-contact-attributes!
UPDATE contacts c SET attributes = u.attributes, updated_at = now()
FROM unnest($1::bigint[], $2::json[]) AS u(id, attributes)
WHERE c.id = u.id;

-- name: update-contact-blacklist!
UPDATE contacts SET email_blacklisted = $1, updated_at = now() WHERE id = $2;

-- name: select-contact
SELECT id, key_display, attributes, email_blacklisted, created_at, updated_at
FROM contacts WHERE account_id = $1 AND match_key = $2;

-- name: select-contact-lists
SELECT list_id FROM list_members WHERE contact_id = $1 ORDER BY list_id;

-- name: delete-contact-members!
DELETE FROM list_members WHERE contact_id = $1;

-- name: delete-contact!
DELETE FROM contacts WHERE id = $1;

-- name: insert-new-contacts!
-- The SQLite store's batched insert (its created rows read back by id); PostgreSQL's store
-- uses insert-contact and never runs this: kept so that both dialects define the same names.
INSERT INTO contacts (account_id, match_key, key_display, attributes, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (account_id, match_key) DO NOTHING;

-- name: max-contact-id
-- The SQLite store's way of telling created rows apart; PostgreSQL's store uses RETURNING
-- (insert-contact) and never runs this: kept so that both dialects define the same names.
SELECT coalesce(max(id), 0) FROM contacts;

-- name: select-contacts-created-after
-- As max-contact-id: SQLite's counterpart of RETURNING, unused on PostgreSQL.
SELECT coalesce(json_agg(json_build_array(id, account_id, match_key)), '[]')
FROM contacts WHERE id > $1;
