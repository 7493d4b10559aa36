-- The uploads never completed (pending, or failed their checks), oldest first, for the sweeper that removes
-- them across users. Partial: ready files, nearly all of them, stay out of it. Its WHERE is written exactly as
-- the sweeper's query writes it, because SQLite uses a partial index only when the query's terms imply its own.
CREATE INDEX files_unfinished_by_age ON files (created_at, upload_id) WHERE status IN ('pending', 'failed');
