"""KnowledgeIndex on SQLite: chunks in FTS5 for lexical search and in sqlite-vec tables for vectors, in a file of
their own, DATA_DIR/knowledge.sqlite3, opened with apsw (knowledge_database.py says why and how).

- `chunks`: a row per chunk (its rowid is the chunk's id in the two indexes below); `dimension` names the
  vector table that holds its vector, NULL when it was stored without one.
- `chunks_fts`: FTS5, contentless (only the index is kept, the text is in `chunks`), rowid = chunk id. Column
  `terms` holds `lexical.index_terms(heading + " " + text)` joined by spaces, so both backends rank the same
  terms; the `ascii` tokenizer splits them on those spaces only and keeps each whole. Column `scope` holds one
  token made from the assistant id, so a search is `scope:<token> AND terms:(t1 OR t2 ...)`: FTS5 intersects
  the two posting lists rather than reading every assistant's matches for the terms and dropping the others.
  bm25 weighs `scope` 0, so it adds nothing to a score.
- `vec_bits_<dimension>`: a sqlite-vec vec0 table per vector dimension, made on the first put of that
  dimension, partitioned by assistant, so a KNN search reads only the assistant's vectors. A search has two
  stages. An exact scan of float vectors costs about 0.5 µs per 256-dimension vector here (55 ms over 100,000
  chunks, more than retrieval's whole budget), so the scan reads each vector's signs instead (`embedding`,
  BIT[n]: 32 bytes at 256 dimensions), by Hamming distance, for VECTOR_OVERSAMPLING times the neighbours asked;
  those candidates are then ranked exactly, by cosine similarity on their float vectors (`full`, an auxiliary
  column that the scan does not read). Sign quantisation keeps most of an embedding's neighbourhood; the
  oversampling and the exact second stage recover the order (bench/retrieval.py measures both).

A document's entries are replaced, and an assistant's removed, in one transaction each.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import Any, cast

import apsw

from apis.shared.assistants.documents import Chunk, ChunkHit
from apis.shared.assistants.lexical import index_terms
from apis.shared.storage.sqlite.knowledge_database import KnowledgeDatabase

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE chunks (
    chunk_id     INTEGER PRIMARY KEY,
    assistant_id TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    chunk_index  INTEGER NOT NULL,
    text         TEXT NOT NULL,
    filename     TEXT NOT NULL,
    heading      TEXT NOT NULL,
    dimension    INTEGER
);
CREATE INDEX chunks_by_document ON chunks (assistant_id, document_id);
CREATE VIRTUAL TABLE chunks_fts USING fts5(scope, terms, content='', contentless_delete=1, tokenize='ascii');
"""

# The best `limit` chunk ids for the query by bm25 inside FTS5 (ORDER BY rank there needs no sort of ours), then
# their rows. The assistant's token already confines the match; the outer condition only makes it plain.
LEXICAL_QUERY = """
SELECT c.document_id, c.chunk_index, c.text, c.filename, c.heading, -f.rank
FROM (
    SELECT rowid, rank FROM chunks_fts
    WHERE chunks_fts MATCH :query AND rank MATCH 'bm25(0.0, 1.0)'
    ORDER BY rank LIMIT :limit
) AS f
JOIN chunks AS c ON c.chunk_id = f.rowid
WHERE c.assistant_id = :assistant_id
ORDER BY f.rank, c.document_id, c.chunk_index
"""

# Which chunks a delete or a count reads, through chunks_by_document.
OF_DOCUMENT = "assistant_id = ? AND document_id = ?"
OF_ASSISTANT = "assistant_id = ?"

# vec0 refuses a KNN search for more neighbours than this.
_MAX_K = 4096
# Candidates of the sign scan per neighbour asked (at least _MIN_CANDIDATES), ranked exactly afterwards.
VECTOR_OVERSAMPLING = 4
_MIN_CANDIDATES = 40


def vector_table(dimension: int) -> str:
    return f"vec_bits_{dimension}"


def vector_query(dimension: int) -> str:
    """The `limit` chunks nearest to a vector: the assistant's `candidates` nearest by the signs of their vectors,
    ranked by the cosine similarity of their float vectors."""
    return f"""
SELECT c.document_id, c.chunk_index, c.text, c.filename, c.heading, 1.0 - v.distance AS similarity
FROM (
    SELECT chunk_id, vec_distance_cosine(full, :vector) AS distance FROM {vector_table(dimension)}
    WHERE embedding MATCH vec_bit(:signs) AND k = :candidates AND assistant_id = :assistant_id
) AS v
JOIN chunks AS c ON c.chunk_id = v.chunk_id
WHERE c.assistant_id = :assistant_id
ORDER BY v.distance, c.document_id, c.chunk_index
LIMIT :limit
"""


def sign_bits(vector: Sequence[float]) -> bytes:
    """The vector's signs, one bit each (1 for positive), least significant bit first, padded to whole bytes."""
    packed = bytearray((len(vector) + 7) // 8)
    for position, value in enumerate(vector):
        if value > 0:
            packed[position >> 3] |= 1 << (position & 7)
    return bytes(packed)


def scope_token(assistant_id: str) -> str:
    """The FTS5 token of an assistant: letters and digits only (the tokenizer would split anything else), and
    one token per id (hex of its bytes, so that no two ids share one, whatever they contain)."""
    return "a" + assistant_id.encode().hex()


def match_expression(assistant_id: str, terms: Iterable[str]) -> str | None:
    """The FTS5 query for `terms` within the assistant's chunks, or None when there is no term to look for."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in dict.fromkeys(terms) if term]
    if not quoted:
        return None
    return f'scope : "{scope_token(assistant_id)}" AND terms : ({" OR ".join(quoted)})'


def _vector_bytes(vector: Sequence[float]) -> bytes:
    # vec0 reads a vector as little-endian float32: array's native layout on every platform we run on.
    return array("f", vector).tobytes()


def _dimension_of(chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]] | None) -> int | None:
    """The one dimension of the document's vectors, or None when it has none; a caller's mistake raises."""
    if vectors is None or not chunks:
        if vectors:
            raise ValueError("vectors were given for a document without chunks")
        return None
    if len(vectors) != len(chunks):
        raise ValueError(f"{len(vectors)} vectors for {len(chunks)} chunks: one per chunk is needed")
    dimensions = {len(vector) for vector in vectors}
    if len(dimensions) != 1 or 0 in dimensions:
        raise ValueError(f"a document's vectors must share one dimension of at least 1: {sorted(dimensions)}")
    return dimensions.pop()


def _integer(connection: apsw.Connection, sql: str, params: tuple[str, ...] = ()) -> int:
    """The one integer that `sql` answers (a count, a pragma, a new rowid)."""
    value = connection.execute(sql, params).fetchall()[0][0]
    if not isinstance(value, int):
        raise TypeError(f"expected an integer from {sql!r}, got {type(value).__name__}")
    return value


def _hits(assistant_id: str, rows: Iterable[Sequence[Any]]) -> list[ChunkHit]:
    return [
        ChunkHit(
            assistant_id=assistant_id,
            document_id=document_id,
            index=index,
            text=text,
            filename=filename,
            heading=heading,
            score=float(score),
        )
        for document_id, index, text, filename, heading, score in rows
    ]


def entries_query(where: str) -> str:
    """The ids of the chunks that `where` (OF_DOCUMENT or OF_ASSISTANT) picks, and their vectors' dimensions."""
    return f"SELECT chunk_id, dimension FROM chunks WHERE {where}"


def count_query(where: str) -> str:
    """Chunks and vectors: a chunk and its vector are written and removed in one transaction, so the chunks'
    `dimension` counts the vectors."""
    return f"SELECT count(*) + count(dimension) FROM chunks WHERE {where}"


def _delete_entries(connection: apsw.Connection, where: str, params: tuple[str, ...]) -> None:
    """Remove the chunks that `where` picks from the vector tables, FTS5 and `chunks`."""
    rows = connection.execute(entries_query(where), params).fetchall()
    by_dimension: dict[int, list[tuple[int]]] = {}
    for chunk_id, dimension in rows:
        if dimension is not None:
            by_dimension.setdefault(cast(int, dimension), []).append((cast(int, chunk_id),))
    for dimension, ids in by_dimension.items():
        # One point delete per id: vec0 answers `chunk_id = ?` by its key, an IN list by scanning the table.
        connection.executemany(f"DELETE FROM {vector_table(dimension)} WHERE chunk_id = ?", ids)
    connection.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(row[0],) for row in rows])
    connection.execute(f"DELETE FROM chunks WHERE {where}", params)


class SqliteKnowledgeIndex:
    """Chunks, their terms and their vectors in DATA_DIR/knowledge.sqlite3."""

    def __init__(self, database: KnowledgeDatabase) -> None:
        self._db = database
        # Dimensions whose vector table is known to exist: tables are made, never dropped, so a yes stays true
        # (a no is asked again: the other service may have made it meanwhile).
        self._dimensions: set[int] = set()

    async def create_schema(self) -> str:
        """Create the tables unless they exist (WAL from then on); says which it was."""

        def create(connection: apsw.Connection) -> str:
            # WAL is a property of the file: set once, outside any transaction, and kept from then on.
            connection.execute("PRAGMA journal_mode = WAL").fetchall()
            with self._db.write_transaction(connection):
                version = _integer(connection, "PRAGMA user_version")
                if version >= SCHEMA_VERSION:
                    return "schema up to date"
                connection.execute(_SCHEMA)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return "schema created"

        return await self._db.run(create)

    async def put_document(
        self,
        assistant_id: str,
        document_id: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]] | None,
    ) -> None:
        dimension = _dimension_of(chunks, vectors)
        if any(chunk.document_id != document_id for chunk in chunks):
            raise ValueError(f"every chunk put for document {document_id} must belong to it")

        def write(connection: apsw.Connection) -> None:
            # Stems first, on this worker thread and outside the write lock: the transaction only writes.
            scope = scope_token(assistant_id)
            rows = [(chunk, " ".join(index_terms(f"{chunk.heading} {chunk.text}"))) for chunk in chunks]
            with self._db.write_transaction(connection):
                _delete_entries(connection, OF_DOCUMENT, (assistant_id, document_id))
                if dimension is not None:
                    self._create_vector_table(connection, dimension)
                for position, (chunk, terms) in enumerate(rows):
                    chunk_id = self._insert_chunk(connection, assistant_id, chunk, dimension)
                    connection.execute(
                        "INSERT INTO chunks_fts (rowid, scope, terms) VALUES (?, ?, ?)", (chunk_id, scope, terms)
                    )
                    if dimension is not None and vectors is not None:
                        vector = vectors[position]
                        connection.execute(
                            f"INSERT INTO {vector_table(dimension)} (chunk_id, assistant_id, embedding, full)"
                            " VALUES (?, ?, vec_bit(?), ?)",
                            (chunk_id, assistant_id, sign_bits(vector), _vector_bytes(vector)),
                        )

        await self._db.run(write)

    @staticmethod
    def _insert_chunk(connection: apsw.Connection, assistant_id: str, chunk: Chunk, dimension: int | None) -> int:
        connection.execute(
            "INSERT INTO chunks (assistant_id, document_id, chunk_index, text, filename, heading, dimension)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (assistant_id, chunk.document_id, chunk.index, chunk.text, chunk.filename, chunk.heading, dimension),
        )
        return connection.last_insert_rowid()

    def _create_vector_table(self, connection: apsw.Connection, dimension: int) -> None:
        """Inside the put's transaction: a put that fails leaves no table behind that nothing uses."""
        if dimension in self._dimensions:
            return
        connection.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {vector_table(dimension)} USING vec0("
            "chunk_id INTEGER PRIMARY KEY, assistant_id TEXT PARTITION KEY,"
            f" embedding BIT[{8 * ((dimension + 7) // 8)}], +full BLOB)"
        )

    def _has_vector_table(self, connection: apsw.Connection, dimension: int) -> bool:
        if dimension not in self._dimensions and connection.table_exists(None, vector_table(dimension)):
            self._dimensions.add(dimension)
        return dimension in self._dimensions

    async def delete_document(self, assistant_id: str, document_id: str) -> None:
        def remove(connection: apsw.Connection) -> None:
            with self._db.write_transaction(connection):
                _delete_entries(connection, OF_DOCUMENT, (assistant_id, document_id))

        await self._db.run(remove)

    async def delete_assistant(self, assistant_id: str) -> None:
        def remove(connection: apsw.Connection) -> None:
            with self._db.write_transaction(connection):
                _delete_entries(connection, OF_ASSISTANT, (assistant_id,))

        await self._db.run(remove)

    async def search_lexical(self, assistant_id: str, terms: Sequence[str], *, limit: int) -> list[ChunkHit]:
        query = match_expression(assistant_id, terms)
        if query is None or limit < 1:
            return []
        params = {"query": query, "limit": limit, "assistant_id": assistant_id}
        return await self._db.run(
            lambda connection: _hits(assistant_id, connection.execute(LEXICAL_QUERY, params).fetchall())
        )

    async def search_vectors(self, assistant_id: str, vector: Sequence[float], *, limit: int) -> list[ChunkHit]:
        dimension = len(vector)
        if dimension == 0 or limit < 1:
            return []
        params = {
            "vector": _vector_bytes(vector),
            "signs": sign_bits(vector),
            "candidates": min(max(limit * VECTOR_OVERSAMPLING, _MIN_CANDIDATES), _MAX_K),
            "limit": limit,
            "assistant_id": assistant_id,
        }

        def search(connection: apsw.Connection) -> list[ChunkHit]:
            if not self._has_vector_table(connection, dimension):
                return []  # no vector of this dimension was ever stored
            return _hits(assistant_id, connection.execute(vector_query(dimension), params).fetchall())

        return await self._db.run(search)

    async def count_entries(self, assistant_id: str, document_id: str | None = None) -> int:
        params: tuple[str, ...] = (assistant_id,) if document_id is None else (assistant_id, document_id)
        sql = count_query(OF_ASSISTANT if document_id is None else OF_DOCUMENT)
        return await self._db.run(lambda connection: _integer(connection, sql, params))
