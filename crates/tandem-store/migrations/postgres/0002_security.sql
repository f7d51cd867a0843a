-- Security and protection: organisations, users, sessions, API tokens and the audit log; field
-- encryption of protected records; the organisation that owns a dataset; the names index of the
-- entity search.

ALTER TABLE datasets ADD COLUMN owner_organisation BIGINT;

-- The key that sealed a protected row's values; NULL for rows that are not protected. Only
-- protected rows enter the index, so imports of other data do not pay for it.
ALTER TABLE entities ADD COLUMN key_id BIGINT;
CREATE INDEX entities_protected_by_key ON entities (key_id) WHERE sensitivity = 'protected';

-- Folded names and identifiers of entities that are not protected, one row per entity, joined
-- as `\nname\nname\n` (see names.rs).
CREATE TABLE entity_names (
    dataset   TEXT COLLATE "C" NOT NULL,
    entity_id TEXT COLLATE "C" NOT NULL,
    names     TEXT NOT NULL,
    PRIMARY KEY (dataset, entity_id)
);

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- A store without entities has a complete (empty) names index; a store that had entities before
-- this migration gets its index built when it is next opened.
INSERT INTO store_meta (key, value)
SELECT 'names_index', 'complete' WHERE NOT EXISTS (SELECT 1 FROM entities);

CREATE TABLE organisations (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    organisation_id      BIGINT NOT NULL REFERENCES organisations (id),
    role                 TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    disabled             BOOLEAN NOT NULL DEFAULT FALSE,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins        BIGINT NOT NULL DEFAULT 0,
    locked_until         TEXT,
    created_at           TEXT NOT NULL,
    last_login_at        TEXT
);

-- Sessions and tokens hold SHA-256 digests of what the client holds, never the secret itself.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- Append-only and hash-chained: `hash` is SHA-256 over `prev_hash` and the entry's own fields.
-- No foreign keys: the log outlives what it names.
CREATE TABLE audit_log (
    seq             BIGINT PRIMARY KEY,
    at              TEXT NOT NULL,
    actor_user_id   BIGINT,
    actor           TEXT NOT NULL,
    organisation_id BIGINT,
    action          TEXT NOT NULL,
    target          TEXT,
    outcome         TEXT NOT NULL,
    detail          TEXT NOT NULL,
    remote_addr     TEXT,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_by_target ON audit_log (target, seq);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
