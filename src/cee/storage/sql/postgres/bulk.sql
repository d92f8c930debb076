-- Bulk imports (see cee.storage.bulk). A job's columns are read in BulkJob's field order.

-- name: insert-bulk-job!
INSERT INTO bulk_jobs (requestid, account_id, user_id, key_prefix, path, listid, callback,
    notifyemail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: claim-bulk-jobs
-- Oldest first: queued, or running/notifying with an expired lease (by the database's clock);
-- SKIP LOCKED lets every worker of a cluster claim side by side.
UPDATE bulk_jobs SET state = CASE state WHEN 'queued' THEN 'running' ELSE state END,
    claimed_by = $1, claimed_until = now() + make_interval(secs => $2), attempts = attempts + 1
WHERE id IN (
    SELECT id FROM bulk_jobs
    WHERE state <> 'done' AND (state = 'queued' OR claimed_until < now())
    ORDER BY id LIMIT $3
    FOR UPDATE SKIP LOCKED
)
RETURNING id, requestid, account_id, user_id, key_prefix, path, listid, callback, notifyemail,
    state, attempts, rows_done, bytes_done, bytes_total, succeeded, failed, result, reason,
    notes, created_at, finished_at;

-- name: renew-bulk-job
UPDATE bulk_jobs SET claimed_until = now() + make_interval(secs => $1)
WHERE id = $2 AND claimed_by = $3 AND state IN ('running', 'notifying')
RETURNING id;

-- name: advance-bulk-job
-- The first statement of a chunk's transaction: it locks the job, and no row back means the
-- claim was lost, so the chunk writes nothing.
UPDATE bulk_jobs SET rows_done = $1, bytes_done = $2, bytes_total = $3,
    succeeded = succeeded + $4, failed = failed + $5,
    claimed_until = now() + make_interval(secs => $6)
WHERE id = $7 AND claimed_by = $8 AND state = 'running'
RETURNING id;

-- name: insert-bulk-reject!
INSERT INTO bulk_rejects (job_id, idx, line, error, details, fields)
SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::json[]);

-- name: finish-bulk-job
UPDATE bulk_jobs SET state = 'notifying', result = $1, reason = $2, finished_at = now()
WHERE id = $3 AND claimed_by = $4 AND state = 'running'
RETURNING id;

-- name: note-bulk-job
UPDATE bulk_jobs SET notes = $1,
    state = CASE WHEN $2 THEN 'done' ELSE state END,
    claimed_by = CASE WHEN $2 THEN NULL ELSE claimed_by END
WHERE id = $3 AND claimed_by = $4 AND state = 'notifying'
RETURNING id;

-- name: select-bulk-job
SELECT id, requestid, account_id, user_id, key_prefix, path, listid, callback, notifyemail,
    state, attempts, rows_done, bytes_done, bytes_total, succeeded, failed, result, reason,
    notes, created_at, finished_at
FROM bulk_jobs WHERE account_id = $1 AND requestid = $2;

-- name: select-bulk-rejects
SELECT idx, line, error, details, fields FROM bulk_rejects
WHERE job_id = $1 ORDER BY idx LIMIT $2 OFFSET $3;

-- name: select-bulk-claimers
SELECT DISTINCT claimed_by FROM bulk_jobs WHERE state <> 'done' AND claimed_by IS NOT NULL;

-- name: release-bulk-claims
UPDATE bulk_jobs SET claimed_until = now() - interval '1 second'
WHERE state <> 'done' AND claimed_by = $1
RETURNING id;

-- name: select-webhook-secret
SELECT secret FROM webhook_secrets WHERE account_id = $1;

-- name: put-webhook-secret!
INSERT INTO webhook_secrets (account_id, secret) VALUES ($1, $2)
ON CONFLICT (account_id) DO UPDATE SET secret = excluded.secret, created_at = now();

-- name: make-webhook-secret!
-- Made on first use; a concurrent first use keeps the one made first.
INSERT INTO webhook_secrets (account_id, secret) VALUES ($1, $2)
ON CONFLICT (account_id) DO NOTHING;

-- name: select-contacts-by-keys
-- A bulk chunk's existing contacts in one statement (the SQLite chunk upsert's read; the
-- PostgreSQL chunk goes through write_records, which locks them with select-contact-for-update).
SELECT id, match_key, attributes FROM contacts WHERE account_id = $1 AND match_key = ANY($2);

-- name: select-members-among
-- Which of a chunk's existing contacts are members of list $1.
SELECT contact_id FROM list_members WHERE list_id = $1 AND contact_id = ANY($2);

-- name: delete-bulk-rejects-of
-- Erasure: the rejected rows whose fields hold the contact's match key (case-insensitively, as
-- emails match). A row merely containing it is dropped too: erasing more is the safe side.
DELETE FROM bulk_rejects
WHERE job_id IN (SELECT id FROM bulk_jobs WHERE account_id = $1)
    AND position($2 in lower(fields::text)) > 0
RETURNING idx;
