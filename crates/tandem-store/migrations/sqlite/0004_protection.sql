-- Protection: victims' cases, their events, consents, identification assessments and coded
-- testimonies. Everything that describes the person is sealed by the application (field
-- encryption with the store's keyring, associated data binding table and case) before it
-- reaches the database: the `body` columns hold ciphertext as hex and `key_id` names the key that
-- sealed it, so that rotation and key usage are answered without reading the ciphertext. What
-- stays in the clear is metadata: a random opaque case id, the owning organisation, the
-- workflow state, dates, the retention deadline, kinds of events, consent scopes and the
-- catalogue version an assessment used.
--
-- Erasure deletes a case's rows (children go with it by cascade); the audit log keeps the
-- tombstone.

CREATE TABLE cases (
    id              TEXT PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    state           TEXT NOT NULL,
    created_by      INTEGER NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    retention_until TEXT NOT NULL,
    body            TEXT NOT NULL,
    key_id          INTEGER NOT NULL
);
CREATE INDEX cases_by_organisation ON cases (organisation_id, updated_at);
CREATE INDEX cases_by_retention ON cases (retention_until);
CREATE INDEX cases_by_key ON cases (key_id);

CREATE TABLE case_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    actor_user_id INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT NOT NULL,
    key_id        INTEGER NOT NULL
);
CREATE INDEX case_events_by_case ON case_events (case_id, id);
CREATE INDEX case_events_by_key ON case_events (key_id);

CREATE TABLE case_consents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    scope         TEXT NOT NULL,
    given         BOOLEAN NOT NULL,
    at            TEXT NOT NULL,
    recorded_by   INTEGER NOT NULL,
    body          TEXT NOT NULL,
    key_id        INTEGER NOT NULL
);
CREATE INDEX case_consents_by_case ON case_consents (case_id, scope, id);
CREATE INDEX case_consents_by_key ON case_consents (key_id);

CREATE TABLE case_assessments (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id           TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at                TEXT NOT NULL,
    assessed_by       INTEGER NOT NULL,
    catalogue_version TEXT NOT NULL,
    catalogue_sha256  TEXT NOT NULL,
    body              TEXT NOT NULL,
    key_id            INTEGER NOT NULL
);
CREATE INDEX case_assessments_by_case ON case_assessments (case_id, id);
CREATE INDEX case_assessments_by_key ON case_assessments (key_id);

CREATE TABLE case_testimonies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    coded_by    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    key_id      INTEGER NOT NULL
);
CREATE INDEX case_testimonies_by_case ON case_testimonies (case_id, id);
CREATE INDEX case_testimonies_by_key ON case_testimonies (key_id);

-- Keys of the protection side that are not the field-encryption keys themselves (e.g. the key
-- of the opaque references from intelligence to testimonies), sealed like every body above:
-- wrapped by the keyring, so the database alone does not reveal them.
CREATE TABLE protection_secrets (
    name   TEXT PRIMARY KEY,
    body   TEXT NOT NULL,
    key_id INTEGER NOT NULL
);
