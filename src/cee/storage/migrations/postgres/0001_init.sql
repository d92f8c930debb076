-- The whole schema of the first release.
-- JSON documents (attributes, history changes, journal payloads and reports) are `json`, not
-- `jsonb`: they are written and read whole, never queried inside, and `json` keeps the text
-- exactly as SQLite does (key order, and a \u0000 escape, which jsonb refuses).

CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    api_mode BOOLEAN NOT NULL DEFAULT TRUE,
    primary_key TEXT NOT NULL DEFAULT 'EMAIL',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);

CREATE TABLE attributes (
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    datatype TEXT NOT NULL,
    builtin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, name)
);

CREATE TABLE lists (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, name)
);

CREATE TABLE contacts (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    match_key TEXT NOT NULL,
    key_display TEXT NOT NULL,
    attributes JSON NOT NULL,
    email_blacklisted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, match_key)
);

CREATE TABLE list_members (
    list_id BIGINT NOT NULL REFERENCES lists(id),
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    added_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (list_id, contact_id)
);

CREATE INDEX list_members_by_contact ON list_members (contact_id);

CREATE TABLE contact_history (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL,
    match_key TEXT NOT NULL,
    requestid TEXT NOT NULL,
    key_prefix TEXT NOT NULL,
    activity TEXT NOT NULL,
    changes JSON NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX contact_history_by_contact ON contact_history (account_id, match_key, id);

CREATE TABLE journal (
    id BIGSERIAL PRIMARY KEY,
    requestid TEXT NOT NULL UNIQUE,
    account_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    key_prefix TEXT NOT NULL,
    activity TEXT NOT NULL,
    payload JSON NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    claimed_by TEXT,
    claimed_until TIMESTAMPTZ,
    result TEXT,
    records JSON,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);

CREATE INDEX journal_by_state ON journal (state, id);

-- What workers claim from: small however long the done history grows.
CREATE INDEX journal_pending ON journal (id) WHERE state <> 'done';

-- Configuration changes reach every node: any write to the tables the in-memory catalog is
-- built from (keys, users, accounts and API Mode, attributes, lists) bumps a version in meta
-- and NOTIFYs cee_config, in the writer's own transaction, whichever tool made the change
-- (cee, the panel, or psql). Nodes LISTEN, and poll the version as a fallback.
INSERT INTO meta (name, value) VALUES ('config_version', '0');

CREATE FUNCTION cee_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meta SET value = (value::bigint + 1)::text WHERE name = 'config_version';
    PERFORM pg_notify('cee_config', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

CREATE TRIGGER accounts_config AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION cee_config_changed();
CREATE TRIGGER users_config AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION cee_config_changed();
CREATE TRIGGER api_keys_config AFTER INSERT OR UPDATE OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION cee_config_changed();
CREATE TRIGGER attributes_config AFTER INSERT OR UPDATE OR DELETE ON attributes
    FOR EACH STATEMENT EXECUTE FUNCTION cee_config_changed();
CREATE TRIGGER lists_config AFTER INSERT OR UPDATE OR DELETE ON lists
    FOR EACH STATEMENT EXECUTE FUNCTION cee_config_changed();
