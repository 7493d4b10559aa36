-- The file list sorts by size and by type as well as by upload (the reference client's `sortBy`), each
-- followed by the upload id, and pages by a cursor on both. Partial, as the list shows ready files only: its
-- query writes `status = 'ready'` as a literal, because SQLite uses a partial index only when the query's
-- terms imply its WHERE. The order by upload reads files_by_owner and files_by_owner_session (0006).
CREATE INDEX files_ready_by_size ON files (user_id, size_bytes, upload_id) WHERE status = 'ready';
CREATE INDEX files_ready_by_type ON files (user_id, mime_type, upload_id) WHERE status = 'ready';
