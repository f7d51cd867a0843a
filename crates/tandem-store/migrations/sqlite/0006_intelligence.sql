-- Testimony intelligence (protection spec §4.3): the actors mentioned in coded testimonies,
-- confirmed by a protection officer before they become one `restricted` actor entity each.
--
-- The protected link table ties an opaque testimony reference (HMAC-SHA-256 of the testimony
-- id under the intelligence key, which the analytics side never holds) to the case it came
-- from. The case is named twice: by a keyed blind reference (`case_ref`, so erasure finds the
-- links of a case without decrypting anything) and sealed in `body` (case id and testimony
-- record id, readable only with the field-encryption key, for protection officers).

CREATE TABLE intel_testimony_links (
    testimony_ref   TEXT PRIMARY KEY,
    case_ref        TEXT NOT NULL,
    organisation_id INTEGER NOT NULL,
    body            TEXT NOT NULL,
    key_id          INTEGER NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX intel_testimony_links_case ON intel_testimony_links (case_ref);

-- One row per confirmed actor. The guard (visible to analysts only when named in at least two
-- independent testimonies, or after a re-identification review) is computed from the
-- mentions below and the review recorded here.
CREATE TABLE intel_actors (
    actor_id            TEXT PRIMARY KEY,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    reviewed_by         TEXT,
    reviewed_by_user_id INTEGER,
    reviewed_at         TEXT,
    review_reason       TEXT
);

-- One row per actor mention of a testimony. `body` is sealed: the mention's sanitised actor
-- data and its screening candidates stay encrypted until a person confirms the actor.
CREATE TABLE intel_mentions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    testimony_ref      TEXT NOT NULL REFERENCES intel_testimony_links (testimony_ref),
    mention_index      INTEGER NOT NULL,
    organisation_id    INTEGER NOT NULL,
    body               TEXT NOT NULL,
    key_id             INTEGER NOT NULL,
    actor_id           TEXT REFERENCES intel_actors (actor_id),
    decided_by         TEXT,
    decided_by_user_id INTEGER,
    decided_at         TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (testimony_ref, mention_index)
);
CREATE INDEX intel_mentions_actor ON intel_mentions (actor_id);
CREATE INDEX intel_mentions_organisation ON intel_mentions (organisation_id, actor_id);
