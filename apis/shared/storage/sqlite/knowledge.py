"""DocumentRepository on SQLite: `knowledge_documents` (indexed columns and the record as JSON) in the main file.

Migration 0011 holds the table and the two indexes its lists read. The chunks and vectors of the documents are
not here but in the knowledge index (knowledge_index.py), a database of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from apis.shared.assistants.documents import UNFINISHED_STATUSES, Document
from apis.shared.assistants.knowledge_repository import DocumentPosition
from apis.shared.errors import ConflictError
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction

# The condition of the partial index knowledge_documents_unfinished, written as the same literal in the query:
# SQLite uses a partial index only for a query whose WHERE implies the index's, and a bound parameter does not.
UNFINISHED_CONDITION = "status IN ({})".format(", ".join(f"'{status.value}'" for status in UNFINISHED_STATUSES))

UNFINISHED_QUERY = (
    f"SELECT record FROM knowledge_documents WHERE {UNFINISHED_CONDITION} ORDER BY updated_at, document_id LIMIT :limit"
)


def list_query(*, paged: bool) -> str:
    """An assistant's documents after a position (when `paged`), through knowledge_documents_by_assistant."""
    after = " AND (created_at, document_id) > (:created_at, :document_id)" if paged else ""
    return (
        f"SELECT record FROM knowledge_documents WHERE assistant_id = :assistant_id{after}"
        " ORDER BY created_at, document_id LIMIT :limit"
    )


def _documents(rows: Sequence[Sequence[Any]]) -> list[Document]:
    return [Document.model_validate_json(row[0]) for row in rows]


class SqliteDocumentRepository:
    """Knowledge-base documents in the shared SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def create(self, document: Document) -> Document:
        row = (
            document.document_id,
            document.assistant_id,
            document.status.value,
            document.created_at,
            document.updated_at,
            document.model_dump_json(),
        )

        def insert(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                inserted = connection.execute(
                    "INSERT INTO knowledge_documents"
                    " (document_id, assistant_id, status, created_at, updated_at, record)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (document_id) DO NOTHING",
                    row,
                )
                return inserted.rowcount == 1

        if not await self._db.run(insert):
            raise ConflictError(f"document id {document.document_id} is taken")
        return document

    async def get(self, assistant_id: str, document_id: str) -> Document | None:
        sql = "SELECT record FROM knowledge_documents WHERE document_id = ? AND assistant_id = ?"

        def read(connection: sqlite3.Connection) -> Document | None:
            row = connection.execute(sql, (document_id, assistant_id)).fetchone()
            return Document.model_validate_json(row[0]) if row else None

        return await self._db.run(read)

    async def replace_if(self, document: Document, *, expected_updated_at: str) -> Document | None:
        # One conditional UPDATE: the check and the write are one statement, so no other writer comes between.
        values = (
            document.status.value,
            document.updated_at,
            document.model_dump_json(),
            document.document_id,
            document.assistant_id,
            expected_updated_at,
        )

        def write(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                updated = connection.execute(
                    "UPDATE knowledge_documents SET status = ?, updated_at = ?, record = ?"
                    " WHERE document_id = ? AND assistant_id = ? AND updated_at = ?",
                    values,
                )
                return updated.rowcount == 1

        return document if await self._db.run(write) else None

    async def delete(self, assistant_id: str, document_id: str) -> bool:
        def remove(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                removed = connection.execute(
                    "DELETE FROM knowledge_documents WHERE document_id = ? AND assistant_id = ?",
                    (document_id, assistant_id),
                )
                return removed.rowcount == 1

        return await self._db.run(remove)

    async def list_documents(self, assistant_id: str, *, after: DocumentPosition | None, limit: int) -> list[Document]:
        params: dict[str, Any] = {"assistant_id": assistant_id, "limit": limit}
        if after is not None:
            params |= {"created_at": after[0], "document_id": after[1]}
        sql = list_query(paged=after is not None)
        return await self._db.run(lambda connection: _documents(connection.execute(sql, params).fetchall()))

    async def count(self, assistant_id: str) -> int:
        sql = "SELECT count(*) FROM knowledge_documents WHERE assistant_id = ?"
        return await self._db.run(lambda connection: int(connection.execute(sql, (assistant_id,)).fetchone()[0]))

    async def list_unfinished(self, *, limit: int) -> list[Document]:
        params = {"limit": limit}
        return await self._db.run(
            lambda connection: _documents(connection.execute(UNFINISHED_QUERY, params).fetchall())
        )
