-- Documents of assistants' knowledge bases: a row per document, its indexed fields as columns and the whole
-- record as JSON (`record`). An assistant's list runs oldest first by (created_at, document_id) through
-- knowledge_documents_by_assistant; the ingestion sweep reads the unfinished ones, least recently updated
-- first, through a partial index that holds only those (the query writes the same `status IN (...)` literal,
-- so that it applies). The chunks and vectors live apart, in DATA_DIR/knowledge.sqlite3.
CREATE TABLE knowledge_documents (
    document_id  TEXT PRIMARY KEY,
    assistant_id TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    record       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX knowledge_documents_by_assistant ON knowledge_documents (assistant_id, created_at, document_id);
CREATE INDEX knowledge_documents_unfinished ON knowledge_documents (updated_at, document_id)
    WHERE status IN ('uploading', 'chunking', 'embedding');
