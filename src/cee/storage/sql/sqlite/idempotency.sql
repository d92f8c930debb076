-- name: delete-stale-idempotency!
-- An answer is kept ?3 seconds (24 h); a claim whose request never answered (its process
-- died) is given up after ?4, so that the client's retry can run. ?5 is now.
DELETE FROM idempotency_keys
WHERE account_id = ?1 AND key = ?2
  AND (created_at < ?5 - ?3 OR (status IS NULL AND created_at < ?5 - ?4));

-- name: insert-idempotency
-- The first request with a key claims it; a second finds the claim (and waits or replays).
INSERT INTO idempotency_keys (account_id, key, fingerprint, requestid, created_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
RETURNING 1;

-- name: select-idempotency
SELECT fingerprint, requestid, status, answer FROM idempotency_keys
WHERE account_id = ? AND key = ?;

-- name: finish-idempotency!
UPDATE idempotency_keys SET status = ?, answer = ?
WHERE account_id = ? AND key = ? AND requestid = ?;

-- name: release-idempotency!
-- A request that ended in a fault or a 429 gives its key back: a retry should run, not replay.
DELETE FROM idempotency_keys
WHERE account_id = ? AND key = ? AND requestid = ? AND status IS NULL;

-- name: purge-idempotency!
DELETE FROM idempotency_keys WHERE created_at < ?;
