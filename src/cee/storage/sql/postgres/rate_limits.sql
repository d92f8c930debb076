-- name: take-rate-tokens
-- A user's shared token bucket (capacity $2, refilled at $2 a minute, on the database's clock
-- so that every node reads the same one): grant up to $3 whole tokens of what is there and keep
-- the rest, in one statement (the row lock orders nodes taking at once). Returns (granted,
-- tokens left).
INSERT INTO rate_buckets AS b (user_id, tokens, granted, updated_at)
VALUES ($1, $2::float8 - LEAST($3, $2), LEAST($3, $2),
        extract(epoch FROM statement_timestamp())::float8)
ON CONFLICT (user_id) DO UPDATE SET
    granted = LEAST($3, floor(LEAST($2::float8, b.tokens + GREATEST(0,
        extract(epoch FROM statement_timestamp())::float8 - b.updated_at) * $2 / 60.0))::int),
    tokens = LEAST($2::float8, b.tokens + GREATEST(0,
        extract(epoch FROM statement_timestamp())::float8 - b.updated_at) * $2 / 60.0)
        - LEAST($3, floor(LEAST($2::float8, b.tokens + GREATEST(0,
        extract(epoch FROM statement_timestamp())::float8 - b.updated_at) * $2 / 60.0))::int),
    updated_at = extract(epoch FROM statement_timestamp())::float8
RETURNING granted, tokens;

-- name: update-user-rate-limit!
-- A new limit starts from a full bucket.
UPDATE users SET rate_per_minute = $1 WHERE id = $2;

-- name: delete-rate-bucket!
DELETE FROM rate_buckets WHERE user_id = $1;
