"""SQLite specifics of the knowledge base: the documents' lists and the index's searches read through their
indexes (FTS5 within the assistant's scope, vec0 within its partition), the index file is private and keeps
its data across a restart, and a locked or schemaless index fails as the main database does."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import apsw
import pytest
from prometheus_client import REGISTRY

from apis.shared.assistants import Chunk, KnowledgeIndex
from apis.shared.assistants.lexical import query_terms
from apis.shared.clock import new_id
from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.storage import Storage, initialize_storage, open_storage
from apis.shared.storage.sqlite import knowledge_path
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.knowledge import UNFINISHED_QUERY, list_query
from apis.shared.storage.sqlite.knowledge_database import KnowledgeDatabase
from apis.shared.storage.sqlite.knowledge_index import (
    LEXICAL_QUERY,
    OF_ASSISTANT,
    OF_DOCUMENT,
    SqliteKnowledgeIndex,
    count_query,
    entries_query,
    match_expression,
    vector_query,
)
from apis.shared.storage.sqlite.migrations import migrate
from tests.helpers import local_storage_settings

PASSAGES = ["Containers are deployed on Tuesdays.", "Invoices are paid within thirty days."]


def chunks(document_id: str) -> list[Chunk]:
    return [Chunk(document_id, index, text, "handbook.md") for index, text in enumerate(PASSAGES)]


def storage_errors(kind: str) -> float:
    return REGISTRY.get_sample_value("colloquy_storage_errors_total", {"backend": "sqlite", "kind": kind}) or 0.0


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "colloquy.sqlite3", busy_timeout_ms=5000)
    await database.run(migrate)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
async def knowledge_database(tmp_path: Path) -> AsyncIterator[KnowledgeDatabase]:
    database = KnowledgeDatabase(tmp_path / "knowledge.sqlite3", busy_timeout_ms=5000)
    index = SqliteKnowledgeIndex(database)
    await index.create_schema()
    # A vector table to plan against, made as the first put of a dimension makes it.
    await index.put_document("a", "d", [Chunk("d", 0, "text", "f.md")], [[1.0, 0.0, 0.0]])
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
async def local_storage(tmp_path: Path) -> AsyncIterator[Storage]:
    settings = local_storage_settings(tmp_path / "data", sqlite_busy_timeout_ms=50)
    await initialize_storage(settings)
    storage = await open_storage(settings)
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give a service, under which files would be 0644 unless made otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def plan_of(sql: str, parameters: Any) -> Any:
    """Work for either database's `run`: the details of `sql`'s query plan."""
    return lambda connection: [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]


def assert_no_scan_or_sort(details: list[str]) -> None:
    assert not any("TEMP B-TREE" in detail for detail in details), details
    assert not any(detail.startswith("SCAN") and "USING" not in detail for detail in details), details


# ---- query plans


@pytest.mark.parametrize(
    ("sql", "parameters", "index"),
    [
        (list_query(paged=False), {"assistant_id": "a", "limit": 10}, "knowledge_documents_by_assistant"),
        (
            list_query(paged=True),
            {"assistant_id": "a", "created_at": "x", "document_id": "y", "limit": 10},
            "knowledge_documents_by_assistant",
        ),
        (UNFINISHED_QUERY, {"limit": 10}, "knowledge_documents_unfinished"),
        ("SELECT count(*) FROM knowledge_documents WHERE assistant_id = ?", ("a",), "knowledge_documents_by_assistant"),
    ],
)
async def test_sqlite_reads_each_document_list_through_its_index(
    sqlite_database: SqliteDatabase, sql: str, parameters: Any, index: str
) -> None:
    details: list[str] = await sqlite_database.run(plan_of(sql, parameters))

    assert any(index in detail for detail in details), details
    assert_no_scan_or_sort(details)


async def test_a_lexical_search_ranks_inside_fts5_within_the_assistants_scope(
    knowledge_database: KnowledgeDatabase,
) -> None:
    query = match_expression("a", ["deploy", "contain"])
    parameters = {"query": query, "limit": 5, "assistant_id": "a"}

    details: list[str] = await knowledge_database.run(plan_of(LEXICAL_QUERY, parameters))

    fts = next(detail for detail in details if "chunks_fts" in detail)
    index_number, index_string = fts.rsplit("INDEX ", 1)[1].split(":", 1)
    assert "M" in index_string, fts  # a full-text MATCH
    assert int(index_number) & 0x20, fts  # FTS5 returns them in rank order: no sort of every match
    assert "SEARCH c USING INTEGER PRIMARY KEY" in " ".join(details), details
    assert query == 'scope : "a61" AND terms : ("deploy" OR "contain")'


async def test_a_vector_search_reads_only_the_assistants_partition(knowledge_database: KnowledgeDatabase) -> None:
    parameters = {"vector": bytes(12), "signs": bytes(1), "candidates": 40, "limit": 5, "assistant_id": "a"}

    details: list[str] = await knowledge_database.run(plan_of(vector_query(3), parameters))

    vec = next(detail for detail in details if "vec_bits_3" in detail)
    index_string = vec.rsplit(":", 1)[1]
    # sqlite-vec's plan: '3' a KNN search, then 4-character blocks: '{' the query vector, '}' k, ']A' a
    # constraint on the first partition key (assistant_id).
    assert index_string.startswith("3"), vec
    assert {"{___", "}___"} <= {index_string[i : i + 4] for i in range(1, len(index_string), 4)}, vec
    assert "]A" in index_string, vec
    assert "SEARCH c USING INTEGER PRIMARY KEY" in " ".join(details), details


@pytest.mark.parametrize("sql", [entries_query(OF_DOCUMENT), entries_query(OF_ASSISTANT), count_query(OF_DOCUMENT)])
async def test_deletes_and_counts_find_chunks_through_their_index(
    knowledge_database: KnowledgeDatabase, sql: str
) -> None:
    parameters = ("a", "d") if sql.count("?") == 2 else ("a",)

    details: list[str] = await knowledge_database.run(plan_of(sql, parameters))

    assert any("chunks_by_document" in detail for detail in details), details
    assert_no_scan_or_sort(details)


async def test_a_vector_is_deleted_by_its_key(knowledge_database: KnowledgeDatabase) -> None:
    details: list[str] = await knowledge_database.run(plan_of("DELETE FROM vec_bits_3 WHERE chunk_id = ?", (1,)))

    assert any(detail.endswith(":2!___") for detail in details), details  # a point lookup, not a scan


# ---- the file


async def test_initialize_reports_the_knowledge_index_and_is_idempotent(tmp_path: Path) -> None:
    settings = local_storage_settings(tmp_path)

    first = await initialize_storage(settings)
    again = await initialize_storage(settings)

    assert first[-1] == f"sqlite {knowledge_path(settings)}: knowledge index schema created"
    assert again[-1] == f"sqlite {knowledge_path(settings)}: knowledge index schema up to date"


@pytest.mark.usefixtures("usual_umask")
async def test_the_index_file_and_its_companions_are_private(tmp_path: Path) -> None:
    settings = local_storage_settings(tmp_path / "data")
    storage = await open_storage(settings)
    try:
        document = new_id()
        await storage.knowledge.put_document(new_id(), document, chunks(document), [[1.0, 0.0], [0.0, 1.0]])
        path = knowledge_path(settings)
        files = [path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")]

        modes = {file.name: oct(stat.S_IMODE(file.stat().st_mode)) for file in files}
    finally:
        await storage.close()

    assert modes == {file.name: oct(0o600) for file in files}
    assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700


async def test_reopening_keeps_the_index(tmp_path: Path) -> None:
    settings = local_storage_settings(tmp_path)
    assistant, document = new_id(), new_id()
    storage = await open_storage(settings)
    try:
        await storage.knowledge.put_document(assistant, document, chunks(document), [[1.0, 0.0], [0.0, 1.0]])
    finally:
        await storage.close()

    reopened = await open_storage(settings)
    try:
        lexical = await reopened.knowledge.search_lexical(assistant, query_terms("paid invoices"), limit=5)
        vectors = await reopened.knowledge.search_vectors(assistant, [0.0, 1.0], limit=5)
        count = await reopened.knowledge.count_entries(assistant)
    finally:
        await reopened.close()

    assert [hit.key for hit in lexical] == [(document, 1)]
    assert [hit.key for hit in vectors] == [(document, 1), (document, 0)]
    assert count == 4


# ---- failures


async def test_a_locked_index_is_unavailable_for_now_and_reads_go_on(local_storage: Storage, tmp_path: Path) -> None:
    index = local_storage.knowledge
    assistant, document = new_id(), new_id()
    await index.put_document(assistant, document, chunks(document), None)
    other = apsw.Connection(str(tmp_path / "data" / "knowledge.sqlite3"))
    before = storage_errors("unavailable")
    try:
        other.execute("BEGIN IMMEDIATE")  # the other service holds the write lock

        with pytest.raises(StorageUnavailableError):
            await index.put_document(assistant, document, chunks(document)[:1], None)
        with pytest.raises(StorageUnavailableError):
            await index.delete_assistant(assistant)
        hits = await index.search_lexical(assistant, ["invoic"], limit=5)  # WAL: readers are not blocked
        failure = local_storage.writes.recorded_failure()
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert storage_errors("unavailable") == before + 2
    assert failure is not None
    assert "SQLITE_BUSY" in failure
    assert [hit.key for hit in hits] == [(document, 1)]
    assert await index.count_entries(assistant, document) == 2  # nothing of the failed writes landed
    await index.put_document(assistant, document, chunks(document)[:1], None)
    assert await index.count_entries(assistant, document) == 1
    assert local_storage.writes.recorded_failure() is None


async def test_an_index_without_its_schema_is_a_storage_error(tmp_path: Path) -> None:
    database = KnowledgeDatabase(tmp_path / "knowledge.sqlite3", busy_timeout_ms=50)
    before = storage_errors("error")
    try:
        with pytest.raises(StorageError, match="storage init") as raised:
            await SqliteKnowledgeIndex(database).count_entries("a")
    finally:
        database.close()

    assert not isinstance(raised.value, StorageUnavailableError)
    assert storage_errors("error") == before + 1


async def test_a_closed_index_refuses_calls(tmp_path: Path) -> None:
    database = KnowledgeDatabase(tmp_path / "knowledge.sqlite3", busy_timeout_ms=50)
    index = SqliteKnowledgeIndex(database)
    await index.create_schema()
    database.close()

    with pytest.raises(StorageUnavailableError):
        await index.count_entries("a")


async def test_concurrent_searches_and_writes_share_the_pool_safely(tmp_path: Path) -> None:
    storage = await open_storage(local_storage_settings(tmp_path))
    index: KnowledgeIndex = storage.knowledge
    assistant = new_id()
    documents = [new_id() for _ in range(8)]
    found: list[int] = []

    async def write(document: str) -> None:
        await index.put_document(assistant, document, chunks(document), [[1.0, 0.0], [0.0, 1.0]])

    async def read() -> None:
        found.append(len(await index.search_lexical(assistant, ["invoic"], limit=50)))
        await index.search_vectors(assistant, [1.0, 0.0], limit=5)

    try:
        async with anyio.create_task_group() as group:
            for document in documents:
                group.start_soon(write, document)
                group.start_soon(read)
        count = await index.count_entries(assistant)
        invoices = await index.search_lexical(assistant, ["invoic"], limit=50)
    finally:
        await storage.close()

    assert count == 4 * len(documents)
    assert len(invoices) == len(documents)
    assert all(0 <= count <= len(documents) for count in found)
