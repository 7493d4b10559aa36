-- Per-user monthly cost totals (one row per user and month) and each model's share (one row per model).
-- Money columns count units of 1e-10 USD as integers (costs.models.MONEY_SCALE), so sums are exact.
-- Every counter is added to in place by an upsert, never rewritten from a value read earlier.
CREATE TABLE cost_summaries (
    user_id                  TEXT NOT NULL,
    period                   TEXT NOT NULL,
    cost_units               INTEGER NOT NULL,
    requests                 INTEGER NOT NULL,
    input_tokens             INTEGER NOT NULL,
    output_tokens            INTEGER NOT NULL,
    total_tokens             INTEGER NOT NULL,
    cache_read_input_tokens  INTEGER NOT NULL,
    cache_write_input_tokens INTEGER NOT NULL,
    cache_savings_units      INTEGER NOT NULL,
    updated_at               TEXT NOT NULL,
    PRIMARY KEY (user_id, period)
) WITHOUT ROWID;
CREATE TABLE cost_summary_models (
    user_id                  TEXT NOT NULL,
    period                   TEXT NOT NULL,
    model_id                 TEXT NOT NULL,
    provider                 TEXT NOT NULL,
    cost_units               INTEGER NOT NULL,
    requests                 INTEGER NOT NULL,
    input_tokens             INTEGER NOT NULL,
    output_tokens            INTEGER NOT NULL,
    cache_read_input_tokens  INTEGER NOT NULL,
    cache_write_input_tokens INTEGER NOT NULL,
    PRIMARY KEY (user_id, period, model_id)
) WITHOUT ROWID;
