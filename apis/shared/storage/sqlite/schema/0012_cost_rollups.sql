-- Per-user daily totals (one row per user and UTC day, one per model) and the system's rollups (every user's
-- totals per month and per day, one row per model), all counted by upserts in the write that counts a turn's
-- cost in its user's month. Money columns count units of 1e-10 USD as integers, as in 0005.
CREATE TABLE cost_days (
    user_id                  TEXT NOT NULL,
    day                      TEXT NOT NULL,
    cost_units               INTEGER NOT NULL,
    requests                 INTEGER NOT NULL,
    input_tokens             INTEGER NOT NULL,
    output_tokens            INTEGER NOT NULL,
    total_tokens             INTEGER NOT NULL,
    cache_read_input_tokens  INTEGER NOT NULL,
    cache_write_input_tokens INTEGER NOT NULL,
    cache_savings_units      INTEGER NOT NULL,
    updated_at               TEXT NOT NULL,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
CREATE TABLE cost_day_models (
    user_id                  TEXT NOT NULL,
    day                      TEXT NOT NULL,
    model_id                 TEXT NOT NULL,
    provider                 TEXT NOT NULL,
    cost_units               INTEGER NOT NULL,
    requests                 INTEGER NOT NULL,
    input_tokens             INTEGER NOT NULL,
    output_tokens            INTEGER NOT NULL,
    cache_read_input_tokens  INTEGER NOT NULL,
    cache_write_input_tokens INTEGER NOT NULL,
    PRIMARY KEY (user_id, day, model_id)
) WITHOUT ROWID;
-- `period` is a month ("YYYY-MM", granularity 'month') or a day ("YYYY-MM-DD", granularity 'day'); active_users
-- counts the users whose first write of that month or day it was.
CREATE TABLE system_costs (
    granularity              TEXT NOT NULL,
    period                   TEXT NOT NULL,
    cost_units               INTEGER NOT NULL,
    requests                 INTEGER NOT NULL,
    input_tokens             INTEGER NOT NULL,
    output_tokens            INTEGER NOT NULL,
    total_tokens             INTEGER NOT NULL,
    cache_read_input_tokens  INTEGER NOT NULL,
    cache_write_input_tokens INTEGER NOT NULL,
    cache_savings_units      INTEGER NOT NULL,
    active_users             INTEGER NOT NULL,
    updated_at               TEXT NOT NULL,
    PRIMARY KEY (granularity, period)
) WITHOUT ROWID;
-- unique_users counts, for months, the users whose first write for that model in the month it was.
CREATE TABLE system_cost_models (
    granularity              TEXT NOT NULL,
    period                   TEXT NOT NULL,
    model_id                 TEXT NOT NULL,
    provider                 TEXT NOT NULL,
    cost_units               INTEGER NOT NULL,
    requests                 INTEGER NOT NULL,
    input_tokens             INTEGER NOT NULL,
    output_tokens            INTEGER NOT NULL,
    cache_read_input_tokens  INTEGER NOT NULL,
    cache_write_input_tokens INTEGER NOT NULL,
    unique_users             INTEGER NOT NULL,
    PRIMARY KEY (granularity, period, model_id)
) WITHOUT ROWID;
-- A month's users costliest first (top users), and by user id (the export's stable pages).
CREATE INDEX cost_summaries_by_period_cost ON cost_summaries (period, cost_units DESC, user_id);
CREATE INDEX cost_summaries_by_period_user ON cost_summaries (period, user_id);
-- The months counted before this migration, so that their rollups and active users start right; their days
-- were not kept, so a day before it has no totals.
INSERT INTO system_costs
    SELECT 'month', period, sum(cost_units), sum(requests), sum(input_tokens), sum(output_tokens),
           sum(total_tokens), sum(cache_read_input_tokens), sum(cache_write_input_tokens),
           sum(cache_savings_units), count(*), max(updated_at)
    FROM cost_summaries GROUP BY period;
INSERT INTO system_cost_models
    SELECT 'month', period, model_id, max(provider), sum(cost_units), sum(requests), sum(input_tokens),
           sum(output_tokens), sum(cache_read_input_tokens), sum(cache_write_input_tokens), count(*)
    FROM cost_summary_models GROUP BY period, model_id
