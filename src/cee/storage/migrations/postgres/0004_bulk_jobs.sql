-- Bulk imports (bulkupload): one row per job, its progress committed with each chunk (so a
-- resumed job knows where to start), the rows it rejected, and the per-account secret that
-- signs completion callbacks.

CREATE TABLE bulk_jobs (
    id BIGSERIAL PRIMARY KEY,
    requestid TEXT NOT NULL UNIQUE,
    account_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    key_prefix TEXT NOT NULL,
    path TEXT NOT NULL,
    listid BIGINT,
    callback TEXT,
    notifyemail TEXT,
    state TEXT NOT NULL DEFAULT 'queued',
    claimed_by TEXT,
    claimed_until TIMESTAMPTZ,
    attempts INTEGER NOT NULL DEFAULT 0,
    rows_done BIGINT NOT NULL DEFAULT 0,
    bytes_done BIGINT NOT NULL DEFAULT 0,
    bytes_total BIGINT,
    succeeded BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    result TEXT,
    reason TEXT,
    notes JSON NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);

CREATE INDEX bulk_jobs_pending ON bulk_jobs (id) WHERE state <> 'done';

CREATE TABLE bulk_rejects (
    job_id BIGINT NOT NULL REFERENCES bulk_jobs(id),
    idx BIGINT NOT NULL,
    line BIGINT NOT NULL,
    error TEXT NOT NULL,
    details TEXT NOT NULL,
    fields JSON NOT NULL,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE webhook_secrets (
    account_id BIGINT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
