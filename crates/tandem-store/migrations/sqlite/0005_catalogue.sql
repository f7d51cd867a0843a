-- Indicator catalogue versions: the exact TOML text of every revision an administrator loaded,
-- identified by the SHA-256 of that text (the hash every assessment records), and a log of
-- activations; the active catalogue is the one activated last. The catalogue describes
-- indicators, not people: nothing here is personal data, so nothing is sealed.

CREATE TABLE catalogue_versions (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256            TEXT NOT NULL UNIQUE,
    catalogue_id      TEXT NOT NULL,
    version           TEXT NOT NULL,
    toml              TEXT NOT NULL,
    loaded_by         TEXT NOT NULL,
    loaded_by_user_id INTEGER,
    loaded_at         TEXT NOT NULL,
    note              TEXT NOT NULL DEFAULT ''
);

-- Append-only: which version became active, when and by whom. Kept as a log (not a flag) so
-- that the catalogue in force at any past moment can be told.
CREATE TABLE catalogue_activations (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256               TEXT NOT NULL REFERENCES catalogue_versions (sha256),
    activated_by         TEXT NOT NULL,
    activated_by_user_id INTEGER,
    activated_at         TEXT NOT NULL
);
