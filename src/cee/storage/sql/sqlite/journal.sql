-- name: insert-journal!
INSERT INTO journal (requestid, account_id, user_id, key_prefix, activity, payload, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: claim-journal
-- Oldest first; a running entry whose lease ran out belongs to a dead worker and is re-delivered.
-- `state <> 'done'` names the partial index journal_pending, read in id order up to the LIMIT.
UPDATE journal SET state = 'running', claimed_by = ?, claimed_until = ?, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM journal
    WHERE state <> 'done' AND (state = 'queued' OR claimed_until < ?)
    ORDER BY id LIMIT ?
)
RETURNING id, requestid, account_id, user_id, key_prefix, activity, payload, attempts;

-- name: check-claim
SELECT 1 FROM journal WHERE id = ? AND state = 'running' AND claimed_by = ?;

-- name: finish-journal!
-- The raw request is dropped once applied: status needs only the outcome, and the contact data
-- it held must not outlive an erasure.
UPDATE journal SET state = 'done', result = ?, records = ?, finished_at = ?, claimed_by = NULL,
    payload = '{}'
WHERE id = ?;

-- name: select-journal-status
SELECT requestid, state, result, records FROM journal WHERE account_id = ? AND requestid = ?;

-- name: journal-depth
-- IN rather than != so the (state, id) index bounds the scan: done entries are kept for status.
SELECT count(*), min(created_at) FROM journal WHERE state IN ('queued', 'running');

-- name: select-journal-claimers
-- Workers holding claims now; a worker on the same host checks whether each is still alive.
SELECT DISTINCT claimed_by FROM journal WHERE state = 'running';

-- name: release-journal-claims
-- A dead worker's claims go back to the queue at once, so they run before newer entries.
UPDATE journal SET state = 'queued', claimed_by = NULL, claimed_until = NULL
WHERE state = 'running' AND claimed_by = ?
RETURNING id;

-- name: select-recent-journal
-- The account's async requests, newest first, one page at a time (the panel's Requests page).
SELECT requestid, activity, state, result, records, created_at, finished_at FROM journal
WHERE account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?;

-- name: journal-waits
-- Whether an older entry of the account is still pending elsewhere (queued, or claimed by
-- another worker): an `update` waits for it, so it never misses the contact an earlier `add`
-- creates. `state <> 'done'` reads the partial index journal_pending: only pending entries.
SELECT 1 FROM journal
WHERE state <> 'done' AND id < ?1 AND account_id = ?2 AND (claimed_by IS NULL OR claimed_by <> ?3)
LIMIT 1;

-- name: defer-journal!
-- Back to the queue, claimed again once the older work is done; a deferral is not an attempt.
UPDATE journal SET state = 'queued', claimed_by = NULL, claimed_until = NULL,
    attempts = attempts - 1
WHERE id = ? AND state = 'running' AND claimed_by = ?;
