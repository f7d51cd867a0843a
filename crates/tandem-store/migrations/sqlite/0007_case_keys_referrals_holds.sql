-- Per-case data keys (crypto-shredding), referrals and transfers between organisations, and
-- legal holds on erasure.
--
-- case_keys: one random data key per case, wrapped (sealed) by the deployment's key-encryption
-- keys (the keyring, kept outside the database); `key_id` names the keyring key that wrapped
-- it, so rotation re-wraps only what is stale. Every body of the case's rows is sealed with the
-- data key; such rows carry `key_id` 0 ("the case's data key"). Rows written before this
-- migration keep their keyring ciphertext until `tandem keys rotate` moves them under the
-- data key. Erasure deletes the key row first: what remains of the case anywhere (backups
-- included, once the keyring key that wrapped it is retired) cannot be opened.
CREATE TABLE case_keys (
    case_id    TEXT PRIMARY KEY REFERENCES cases (id),
    wrapped    TEXT NOT NULL,
    key_id     INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX case_keys_by_key ON case_keys (key_id);

-- A referral (to a service of another organisation) or a transfer (ownership of the case moves
-- to another organisation). Workflow metadata is clear; what is shared with the receiver is
-- sealed in `body` with the case's data key.
CREATE TABLE case_referrals (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id              TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL,
    from_organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    to_organisation_id   INTEGER NOT NULL REFERENCES organisations (id),
    state                TEXT NOT NULL,
    created_by           INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    decided_by           INTEGER,
    body                 TEXT NOT NULL,
    key_id               INTEGER NOT NULL
);
CREATE INDEX case_referrals_by_case ON case_referrals (case_id, id);
CREATE INDEX case_referrals_to ON case_referrals (to_organisation_id, state);
CREATE INDEX case_referrals_from ON case_referrals (from_organisation_id, state);
CREATE INDEX case_referrals_by_key ON case_referrals (key_id);

-- Legal holds pause erasure (e.g. proceedings the person chose to support). The reason may
-- describe criminal proceedings (tier T4): sealed with the case's data key. The review date is
-- clear so that reviews are listed without decrypting anything.
CREATE TABLE case_holds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    placed_by   INTEGER NOT NULL,
    placed_at   TEXT NOT NULL,
    review_on   TEXT NOT NULL,
    released_by INTEGER,
    released_at TEXT,
    body        TEXT NOT NULL,
    key_id      INTEGER NOT NULL
);
CREATE INDEX case_holds_by_case ON case_holds (case_id, id);
CREATE INDEX case_holds_by_key ON case_holds (key_id);
