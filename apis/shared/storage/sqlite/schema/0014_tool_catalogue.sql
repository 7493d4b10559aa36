-- The tool catalogue (each record as JSON in `body`, with the revision a write must name) and each user's tool
-- preferences (one row per user and tool).
CREATE TABLE tools (
    tool_id  TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    body     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE tool_preferences (
    user_id TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    PRIMARY KEY (user_id, tool_id)
) WITHOUT ROWID;
