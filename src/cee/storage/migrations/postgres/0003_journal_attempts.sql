-- How many times an entry was claimed: one that keeps failing (a poison request) is finished as
-- Failed after a bound instead of being re-delivered forever.

ALTER TABLE journal ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
