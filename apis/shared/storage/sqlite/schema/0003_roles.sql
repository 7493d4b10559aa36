-- App roles: a row per role with its JSON body; the set is small, so lists are sorted after reading.
CREATE TABLE roles (
    role_id TEXT PRIMARY KEY,
    body    TEXT NOT NULL
) WITHOUT ROWID;
