-- Assistants: a row per assistant, its indexed fields as columns and the whole record as JSON (`record`),
-- and a row per share by email. Lists run newest first by (created_at, assistant_id) and page below the last
-- row shown: an owner's through assistants_by_owner, the public ones through a partial index (the query
-- writes `visibility = 'PUBLIC'` as a literal so that it applies), those shared with an email through
-- assistant_shares_by_email, which carries the assistant's creation time for that order.
CREATE TABLE assistants (
    assistant_id TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL,
    visibility   TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    record       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX assistants_by_owner ON assistants (owner_id, created_at, assistant_id);
CREATE INDEX assistants_public ON assistants (created_at, assistant_id) WHERE visibility = 'PUBLIC';
CREATE TABLE assistant_shares (
    assistant_id         TEXT NOT NULL REFERENCES assistants (assistant_id) ON DELETE CASCADE,
    email                TEXT NOT NULL,
    assistant_created_at TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    first_interacted     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (assistant_id, email)
) WITHOUT ROWID;
CREATE INDEX assistant_shares_by_email ON assistant_shares (email, assistant_created_at, assistant_id);
