-- Chat attachments: a row per upload (its bytes live in the blob store) and a usage row per user.
-- Upload ids are UUIDv7 strings, unique across users, so sorting by them sorts by creation time.
-- `file_usage` counts only ready files; it changes in the same transaction as the status that causes it.
CREATE TABLE files (
    upload_id   TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    filename    TEXT NOT NULL,
    mime_type   TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL,
    storage_key TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX files_by_owner ON files (user_id, upload_id);
CREATE INDEX files_by_owner_session ON files (user_id, session_id, upload_id);
CREATE TABLE file_usage (
    user_id    TEXT PRIMARY KEY,
    used_bytes INTEGER NOT NULL,
    file_count INTEGER NOT NULL
) WITHOUT ROWID;
