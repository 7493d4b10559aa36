-- Long-term memory: each user's records (the record as JSON in `body`, beside the columns that are looked up)
-- and the users who turned memory off for themselves. Record ids are UUIDv7, so (user_id, kind, record_id)
-- lists a user's records of a kind newest first, and its oldest first when a new one pushes the kind past
-- MEMORY_MAX_RECORDS_PER_USER; a session's summaries are found through memories_by_session.
CREATE TABLE memories (
    user_id    TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    session_id TEXT,
    body       TEXT NOT NULL,
    PRIMARY KEY (user_id, record_id)
) WITHOUT ROWID;
CREATE INDEX memories_by_kind ON memories (user_id, kind, record_id);
CREATE INDEX memories_by_session ON memories (user_id, session_id, kind, record_id);
CREATE TABLE memory_opt_outs (
    user_id TEXT PRIMARY KEY
) WITHOUT ROWID;
