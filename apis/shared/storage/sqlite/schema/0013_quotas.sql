-- Quotas: tiers, assignments, overrides (each with its record as JSON in `body`, beside the columns that are
-- looked up) and the event log. An assignment names its tier through a foreign key, so a tier that an
-- assignment names cannot be deleted; the repository checks it first, in the same transaction, to answer 409.
-- A user and an app role have at most one assignment each (a partial unique index), a token role, a domain
-- pattern and the default any number. Events are listed newest first by (timestamp, event_id): one user's
-- through quota_events_by_user, one tier's through quota_events_by_tier, all of them through quota_events_by_time.
CREATE TABLE quota_tiers (
    tier_id TEXT PRIMARY KEY,
    body    TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE quota_assignments (
    assignment_id   TEXT PRIMARY KEY,
    tier_id         TEXT NOT NULL REFERENCES quota_tiers (tier_id),
    assignment_type TEXT NOT NULL,
    target          TEXT NOT NULL,
    body            TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX quota_assignments_by_target ON quota_assignments (assignment_type, target);
CREATE INDEX quota_assignments_by_tier ON quota_assignments (tier_id);
CREATE UNIQUE INDEX quota_assignments_one_per_user_or_app_role ON quota_assignments (assignment_type, target)
    WHERE assignment_type IN ('direct_user', 'app_role');
CREATE TABLE quota_overrides (
    override_id TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    body        TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX quota_overrides_by_user ON quota_overrides (user_id);
CREATE TABLE quota_events (
    event_id   TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    tier_id    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    timestamp  TEXT NOT NULL,
    body       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX quota_events_by_user ON quota_events (user_id, timestamp, event_id);
CREATE INDEX quota_events_by_tier ON quota_events (tier_id, timestamp, event_id);
CREATE INDEX quota_events_by_time ON quota_events (timestamp, event_id);
