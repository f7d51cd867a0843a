-- Tandem's store on SQLite. Entities keep one row per (dataset, entity id) with their values as
-- JSON, so that an import writes one row per entity rather than one per statement.

CREATE TABLE datasets (
    name        TEXT PRIMARY KEY,
    title       TEXT,
    sensitivity TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE dataset_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset     TEXT NOT NULL REFERENCES datasets (name),
    version     TEXT NOT NULL,
    mode        TEXT NOT NULL,
    source      TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    added       INTEGER NOT NULL DEFAULT 0,
    changed     INTEGER NOT NULL DEFAULT 0,
    removed     INTEGER NOT NULL DEFAULT 0,
    kept        INTEGER NOT NULL DEFAULT 0,
    entities    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (dataset, version)
);

-- The tables an import fills in bulk (entities, entity_refs, entity_changes) have no foreign
-- keys: only the store writes them, in one transaction per import that keeps them consistent,
-- and per-row checks would cost more than the rest of the import.
CREATE TABLE entities (
    dataset          TEXT NOT NULL,
    entity_id        TEXT NOT NULL,
    schema           TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    sensitivity      TEXT NOT NULL,
    confidence       REAL,
    -- {"property": ["value", …]}
    properties       TEXT NOT NULL,
    -- [["property", "value", "first seen"], …] for values first seen after the entity itself
    value_first_seen TEXT,
    first_seen       TEXT NOT NULL,
    last_seen        TEXT NOT NULL,
    version_id       INTEGER NOT NULL,
    UNIQUE (dataset, entity_id)
);
CREATE INDEX entities_by_entity_id ON entities (entity_id, dataset);
CREATE INDEX entities_by_schema ON entities (dataset, schema);

-- Entity-typed values, so that what points at an entity is found without reading every row.
CREATE TABLE entity_refs (
    dataset   TEXT NOT NULL,
    source_id TEXT NOT NULL,
    prop      TEXT NOT NULL,
    target_id TEXT NOT NULL,
    PRIMARY KEY (dataset, source_id, prop, target_id)
) WITHOUT ROWID;
CREATE INDEX entity_refs_by_target ON entity_refs (target_id);

CREATE TABLE entity_changes (
    version_id INTEGER NOT NULL,
    entity_id  TEXT NOT NULL,
    schema     TEXT NOT NULL,
    change     TEXT NOT NULL,
    PRIMARY KEY (version_id, entity_id)
) WITHOUT ROWID;

CREATE TABLE jobs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    state      TEXT NOT NULL,
    params     TEXT NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0,
    total      INTEGER,
    checkpoint TEXT,
    message    TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state);
