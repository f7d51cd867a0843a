-- Tandem's store on PostgreSQL. Entities keep one row per (dataset, entity id) with their values
-- as JSON text, so that an import writes one row per entity rather than one per statement.
-- Names and ids use the "C" collation so that "id order" is byte order, as on SQLite.

CREATE TABLE datasets (
    name        TEXT COLLATE "C" PRIMARY KEY,
    title       TEXT,
    sensitivity TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE dataset_versions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dataset     TEXT COLLATE "C" NOT NULL REFERENCES datasets (name),
    version     TEXT NOT NULL,
    mode        TEXT NOT NULL,
    source      TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    added       BIGINT NOT NULL DEFAULT 0,
    changed     BIGINT NOT NULL DEFAULT 0,
    removed     BIGINT NOT NULL DEFAULT 0,
    kept        BIGINT NOT NULL DEFAULT 0,
    entities    BIGINT NOT NULL DEFAULT 0,
    UNIQUE (dataset, version)
);

-- The tables an import fills in bulk (entities, entity_refs, entity_changes) have no foreign
-- keys: only the store writes them, in one transaction per import that keeps them consistent,
-- and per-row checks would cost more than the rest of the import.
CREATE TABLE entities (
    dataset          TEXT COLLATE "C" NOT NULL,
    entity_id        TEXT COLLATE "C" NOT NULL,
    schema           TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    sensitivity      TEXT NOT NULL,
    confidence       DOUBLE PRECISION,
    -- {"property": ["value", …]}
    properties       TEXT NOT NULL,
    -- [["property", "value", "first seen"], …] for values first seen after the entity itself
    value_first_seen TEXT,
    first_seen       TEXT NOT NULL,
    last_seen        TEXT NOT NULL,
    version_id       BIGINT NOT NULL,
    PRIMARY KEY (dataset, entity_id)
)
-- Room in each page lets a re-import update last_seen of unchanged entities in place (HOT).
WITH (fillfactor = 80);
CREATE INDEX entities_by_entity_id ON entities (entity_id, dataset);
CREATE INDEX entities_by_schema ON entities (dataset, schema);

-- Entity-typed values, so that what points at an entity is found without reading every row.
CREATE TABLE entity_refs (
    dataset   TEXT COLLATE "C" NOT NULL,
    source_id TEXT COLLATE "C" NOT NULL,
    prop      TEXT NOT NULL,
    target_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (dataset, source_id, prop, target_id)
);
CREATE INDEX entity_refs_by_target ON entity_refs (target_id);

CREATE TABLE entity_changes (
    version_id BIGINT NOT NULL,
    entity_id  TEXT COLLATE "C" NOT NULL,
    schema     TEXT NOT NULL,
    change     TEXT NOT NULL,
    PRIMARY KEY (version_id, entity_id)
);

CREATE TABLE jobs (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT NOT NULL,
    state      TEXT NOT NULL,
    params     TEXT NOT NULL,
    done       BIGINT NOT NULL DEFAULT 0,
    total      BIGINT,
    checkpoint TEXT,
    message    TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state);
