-- Bulk imports (bulkupload): one row per job, its progress committed with each chunk (so a
-- resumed job knows where to start), the rows it rejected, and the per-account secret that
-- signs completion callbacks.

CREATE TABLE bulk_jobs (
    id INTEGER PRIMARY KEY,
    requestid TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    key_prefix TEXT NOT NULL,
    path TEXT NOT NULL,
    listid INTEGER,
    callback TEXT,
    notifyemail TEXT,
    state TEXT NOT NULL DEFAULT 'queued',
    claimed_by TEXT,
    claimed_until REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    rows_done INTEGER NOT NULL DEFAULT 0,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    bytes_total INTEGER,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    reason TEXT,
    notes TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    finished_at TEXT
);

CREATE INDEX bulk_jobs_pending ON bulk_jobs (id) WHERE state <> 'done';

CREATE TABLE bulk_rejects (
    job_id INTEGER NOT NULL REFERENCES bulk_jobs(id),
    idx INTEGER NOT NULL,
    line INTEGER NOT NULL,
    error TEXT NOT NULL,
    details TEXT NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;

CREATE TABLE webhook_secrets (
    account_id INTEGER PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);
