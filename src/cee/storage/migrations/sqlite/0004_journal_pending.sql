-- The entries not yet done, in order, as PostgreSQL has had since 0001: a claim reads the oldest
-- of them through this index and stops at its LIMIT. Through journal_by_state, the claim's
-- "queued, or running with an expired lease" took every queued entry into a sort first: with
-- 30,000 entries queued, 6.6 ms a claim against 0.6 ms here.

CREATE INDEX journal_pending ON journal (id) WHERE state <> 'done';
