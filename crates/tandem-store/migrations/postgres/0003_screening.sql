-- Name screening: the queries people screened (re-screened when lists change), decisions on
-- (query, list entity) pairs, alerts from re-screening, and the rows of batch jobs.

-- One row per normalised query and organisation (0: none): screening the same subject again moves
-- `last_at` and counts, so monitoring re-screens each subject once.
CREATE TABLE screening_queries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    query_key       TEXT NOT NULL,
    organisation_id BIGINT NOT NULL,
    schema          TEXT NOT NULL,
    query           TEXT NOT NULL,
    user_id         BIGINT,
    username        TEXT NOT NULL,
    first_at        TEXT NOT NULL,
    last_at         TEXT NOT NULL,
    times           BIGINT NOT NULL DEFAULT 1,
    UNIQUE (query_key, organisation_id)
);

-- Decisions are kept as history: the latest per (organisation, query, entity) applies.
CREATE TABLE screening_decisions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    query_key       TEXT NOT NULL,
    query           TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    decision        TEXT NOT NULL,
    reason          TEXT NOT NULL,
    user_id         BIGINT,
    username        TEXT NOT NULL,
    organisation_id BIGINT,
    content_hash    TEXT NOT NULL,
    decided_at      TEXT NOT NULL
);
CREATE INDEX screening_decisions_by_query ON screening_decisions (query_key, entity_id);

-- An alert is raised once per (subject, list entity, list entity content).
CREATE TABLE screening_alerts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_key     TEXT NOT NULL,
    subject         TEXT NOT NULL,
    organisation_id BIGINT,
    entity_id       TEXT NOT NULL,
    caption         TEXT NOT NULL,
    dataset         TEXT NOT NULL,
    version         TEXT NOT NULL,
    score           DOUBLE PRECISION NOT NULL,
    explanations    TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    job_id          BIGINT,
    created_at      TEXT NOT NULL,
    UNIQUE (subject_key, entity_id, content_hash)
);

-- The rows of a batch screening job: input kept so an interrupted job resumes where it was.
CREATE TABLE screening_batch_rows (
    job_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    input  TEXT NOT NULL,
    result TEXT,
    PRIMARY KEY (job_id, row_no)
);
