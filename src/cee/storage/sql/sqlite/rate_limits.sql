-- name: take-rate-tokens
-- A user's shared token bucket (capacity ?2, refilled at ?2 a minute; ?4 is now, in seconds):
-- grant up to ?3 whole tokens of what is there and keep the rest, in one statement so that
-- processes taking tokens at once each see the other's take. Returns (granted, tokens left).
INSERT INTO rate_buckets (user_id, tokens, granted, updated_at)
VALUES (?1, ?2 - min(?3, ?2), min(?3, ?2), ?4)
ON CONFLICT (user_id) DO UPDATE SET
    granted = min(?3, CAST(min(?2, tokens + max(0, ?4 - updated_at) * ?2 / 60.0) AS INTEGER)),
    tokens = min(?2, tokens + max(0, ?4 - updated_at) * ?2 / 60.0)
        - min(?3, CAST(min(?2, tokens + max(0, ?4 - updated_at) * ?2 / 60.0) AS INTEGER)),
    updated_at = ?4
RETURNING granted, tokens;

-- name: update-user-rate-limit!
-- A new limit starts from a full bucket.
UPDATE users SET rate_per_minute = ? WHERE id = ?;

-- name: delete-rate-bucket!
DELETE FROM rate_buckets WHERE user_id = ?;
