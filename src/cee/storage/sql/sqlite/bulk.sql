-- Bulk imports (see cee.storage.bulk). A job's columns are read in BulkJob's field order.

-- name: insert-bulk-job!
INSERT INTO bulk_jobs (requestid, account_id, user_id, key_prefix, path, listid, callback,
    notifyemail, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: claim-bulk-jobs
-- Oldest first: queued, or running/notifying with an expired lease (its worker died).
UPDATE bulk_jobs SET state = CASE state WHEN 'queued' THEN 'running' ELSE state END,
    claimed_by = ?, claimed_until = ?, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM bulk_jobs
    WHERE state <> 'done' AND (state = 'queued' OR claimed_until < ?)
    ORDER BY id LIMIT ?
)
RETURNING id, requestid, account_id, user_id, key_prefix, path, listid, callback, notifyemail,
    state, attempts, rows_done, bytes_done, bytes_total, succeeded, failed, result, reason,
    notes, created_at, finished_at;

-- name: renew-bulk-job
UPDATE bulk_jobs SET claimed_until = ?
WHERE id = ? AND claimed_by = ? AND state IN ('running', 'notifying')
RETURNING id;

-- name: advance-bulk-job
-- The first statement of a chunk's transaction: no row back means the claim was lost, and the
-- chunk writes nothing.
UPDATE bulk_jobs SET rows_done = ?, bytes_done = ?, bytes_total = ?,
    succeeded = succeeded + ?, failed = failed + ?, claimed_until = ?
WHERE id = ? AND claimed_by = ? AND state = 'running'
RETURNING id;

-- name: insert-bulk-reject!
INSERT INTO bulk_rejects (job_id, idx, line, error, details, fields) VALUES (?, ?, ?, ?, ?, ?);

-- name: finish-bulk-job
UPDATE bulk_jobs SET state = 'notifying', result = ?, reason = ?, finished_at = ?
WHERE id = ? AND claimed_by = ? AND state = 'running'
RETURNING id;

-- name: note-bulk-job
UPDATE bulk_jobs SET notes = ?,
    state = CASE WHEN ? THEN 'done' ELSE state END,
    claimed_by = CASE WHEN ? THEN NULL ELSE claimed_by END
WHERE id = ? AND claimed_by = ? AND state = 'notifying'
RETURNING id;

-- name: select-bulk-job
SELECT id, requestid, account_id, user_id, key_prefix, path, listid, callback, notifyemail,
    state, attempts, rows_done, bytes_done, bytes_total, succeeded, failed, result, reason,
    notes, created_at, finished_at
FROM bulk_jobs WHERE account_id = ? AND requestid = ?;

-- name: select-bulk-rejects
SELECT idx, line, error, details, fields FROM bulk_rejects
WHERE job_id = ? ORDER BY idx LIMIT ? OFFSET ?;

-- name: select-bulk-claimers
SELECT DISTINCT claimed_by FROM bulk_jobs WHERE state <> 'done' AND claimed_by IS NOT NULL;

-- name: release-bulk-claims
UPDATE bulk_jobs SET claimed_until = 0
WHERE state <> 'done' AND claimed_by = ?
RETURNING id;

-- name: select-webhook-secret
SELECT secret FROM webhook_secrets WHERE account_id = ?;

-- name: put-webhook-secret!
INSERT INTO webhook_secrets (account_id, secret, created_at) VALUES (?, ?, ?)
ON CONFLICT (account_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at;

-- name: make-webhook-secret!
-- Made on first use; a concurrent first use keeps the one made first.
INSERT INTO webhook_secrets (account_id, secret, created_at) VALUES (?, ?, ?)
ON CONFLICT (account_id) DO NOTHING;

-- name: select-contacts-by-keys
-- A bulk chunk's existing contacts in one statement (?2: a JSON array of match keys).
SELECT id, match_key, attributes FROM contacts
WHERE account_id = ?1 AND match_key IN (SELECT value FROM json_each(?2));

-- name: select-members-among
-- Which of a chunk's existing contacts (?2: a JSON array of ids) are members of list ?1.
SELECT contact_id FROM list_members
WHERE list_id = ?1 AND contact_id IN (SELECT value FROM json_each(?2));

-- name: delete-bulk-rejects-of
-- Erasure: the rejected rows whose fields hold the contact's match key (case-insensitively, as
-- emails match). A row merely containing it is dropped too: erasing more is the safe side.
DELETE FROM bulk_rejects
WHERE job_id IN (SELECT id FROM bulk_jobs WHERE account_id = ?1) AND instr(lower(fields), ?2) > 0
RETURNING idx;

-- name: insert-contacts-from-json!
-- A piece of a chunk whose keys none is stored yet (the common case of an import), in one
-- statement that SQLite runs without the GIL: ?2 is a JSON array of
-- [match key, key as given, attributes] where a null attribute is a clear, which json_patch
-- against {} drops as stored_attributes() does. Each row keeps its creation entry (?4-?7, see
-- migration 0006) rather than a row of contact_history. (WHERE true: SQLite's parser needs it
-- before ON CONFLICT in INSERT ... SELECT.)
INSERT INTO contacts (account_id, match_key, key_display, attributes, created_at, updated_at,
                      created_requestid, created_key_prefix, created_activity, created_listid)
SELECT ?1, value ->> 0, value ->> 1, json_patch('{}', value -> 2), ?3, ?3, ?4, ?5, ?6, ?7
FROM json_each(?2) WHERE true
ON CONFLICT (account_id, match_key) DO NOTHING;

-- name: select-keys-created-after
-- The match keys of the contacts with an id above ?1 (just inserted).
SELECT match_key FROM contacts WHERE id > ?1;

-- name: insert-members-after!
-- List ?1 gains every contact with an id above ?2 (just inserted).
INSERT INTO list_members (list_id, contact_id, added_at)
SELECT ?1, id, ?3 FROM contacts WHERE id > ?2;
