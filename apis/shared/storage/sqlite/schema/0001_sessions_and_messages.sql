-- Sessions and their messages; a message goes with its session (ON DELETE CASCADE).
CREATE TABLE sessions (
    session_id      TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    last_message_at TEXT NOT NULL,
    title_folded    TEXT NOT NULL,
    starred         INTEGER NOT NULL,
    body            TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_owner_recent ON sessions (user_id, last_message_at DESC, session_id DESC);
CREATE TABLE messages (
    session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (session_id, message_id)
) WITHOUT ROWID;
