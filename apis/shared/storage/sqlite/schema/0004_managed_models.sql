-- The model catalogue; modelId is unique. The one default is a single row pointing at a model.
CREATE TABLE managed_models (
    id        TEXT PRIMARY KEY,
    model_id  TEXT NOT NULL UNIQUE,
    sort_name TEXT NOT NULL,
    body      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE default_model (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    model_ref TEXT NOT NULL REFERENCES managed_models (id)
);
