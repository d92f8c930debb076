-- name: insert-journal!
-- Every async request waiting in a group commit, in one statement.
INSERT INTO journal (requestid, account_id, user_id, key_prefix, activity, payload)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::json[]);

-- name: claim-journal
-- Oldest first; SKIP LOCKED lets any number of workers claim side by side, and a running
-- entry whose lease ran out (by the database's clock) belongs to a dead worker: re-delivered.
UPDATE journal SET state = 'running', claimed_by = $1,
    claimed_until = now() + make_interval(secs => $2), attempts = attempts + 1
WHERE id IN (
    SELECT id FROM journal
    WHERE state <> 'done' AND (state = 'queued' OR claimed_until < now())
    ORDER BY id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
RETURNING id, requestid, account_id, user_id, key_prefix, activity, payload, attempts;

-- name: check-claim
-- Locks the entry for the applying transaction, so no other worker can claim it meanwhile.
SELECT 1 FROM journal WHERE id = $1 AND state = 'running' AND claimed_by = $2 FOR UPDATE;

-- name: finish-journal!
-- The raw request is dropped once applied: status needs only the outcome, and the contact data
-- it held must not outlive an erasure.
UPDATE journal SET state = 'done', result = $1, records = $2, finished_at = now(),
    claimed_by = NULL, payload = '{}'
WHERE id = $3;

-- name: select-journal-status
SELECT requestid, state, result, records FROM journal WHERE account_id = $1 AND requestid = $2;

-- name: journal-depth
-- The age by the database's clock, so nodes with skewed clocks agree.
SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
FROM journal WHERE state <> 'done';

-- name: select-journal-claimers
-- Workers holding claims now; a worker on the same host checks whether each is still alive.
SELECT DISTINCT claimed_by FROM journal WHERE state = 'running';

-- name: release-journal-claims
-- A dead worker's claims go back to the queue at once, so they run before newer entries.
UPDATE journal SET state = 'queued', claimed_by = NULL, claimed_until = NULL
WHERE state = 'running' AND claimed_by = $1
RETURNING id;

-- name: select-recent-journal
-- The account's async requests, newest first, one page at a time (the panel's Requests page).
SELECT requestid, activity, state, result, records, created_at, finished_at FROM journal
WHERE account_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3;

-- name: journal-waits
-- Whether an older entry of the account is still pending elsewhere (queued, or claimed by
-- another worker): an `update` waits for it, so it never misses the contact an earlier `add`
-- creates. An entry another worker is claiming right now is still not done here either.
SELECT 1 FROM journal
WHERE state <> 'done' AND id < $1 AND account_id = $2 AND (claimed_by IS NULL OR claimed_by <> $3)
LIMIT 1;

-- name: defer-journal!
-- Back to the queue, claimed again once the older work is done; a deferral is not an attempt.
UPDATE journal SET state = 'queued', claimed_by = NULL, claimed_until = NULL,
    attempts = attempts - 1
WHERE id = $1 AND state = 'running' AND claimed_by = $2;
