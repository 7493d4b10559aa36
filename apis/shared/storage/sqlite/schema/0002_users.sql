-- User profiles. `status` and `created_at` live only in their columns, never in `body`: a sign-in rewrites
-- the body and the folded search columns, and must not be able to write an admin's suspension back.
CREATE TABLE users (
    user_id      TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    email_domain TEXT,
    name_folded  TEXT NOT NULL,
    email_folded TEXT NOT NULL,
    body         TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_by_status ON users (status, user_id);
CREATE INDEX users_by_email_domain ON users (email_domain, user_id);
