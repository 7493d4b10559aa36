"""The file list's orders (the reference client's sortBy and sortOrder) on the fake, SQLite and DynamoDB (moto):
every ready file exactly once, in order, across pages, with or without a session; cursors bound to their list.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from apis.shared.clock import now_iso
from apis.shared.config import StorageSettings
from apis.shared.errors import InvalidPageToken
from apis.shared.files import FileRecord, FileRepository
from apis.shared.files.listing import FileSort, FileSortBy, SortOrder
from apis.shared.storage import dynamo
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Table, dynamodb_client
from apis.shared.storage.dynamo.files import DynamoFileRepository
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.files import list_query
from tests.helpers import random_session_id, random_user_id
from tests.shared.files.conftest import random_file

SORTS = [FileSort(by, order) for by, order in itertools.product(FileSortBy, SortOrder)]
# Sizes and types with ties, so that pages end and resume between files of equal value.
SHAPES = [
    (300, "text/plain"),
    (100, "application/pdf"),
    (300, "image/png"),
    (200, "text/plain"),
    (100, "image/png"),
    (300, "application/pdf"),
    (200, "text/csv"),
]


async def ready_file(repository: FileRepository, user_id: str, session_id: str, size: int, mime: str) -> FileRecord:
    record = random_file(user_id, session_id, size=size).model_copy(update={"mime_type": mime})
    await repository.create_file(record)
    ready = await repository.mark_ready(user_id, record.upload_id, max_user_bytes=10**12, now=now_iso())
    assert ready is not None
    return ready


async def stored_files(repository: FileRepository, user_id: str) -> tuple[list[FileRecord], list[str]]:
    """SHAPES as ready files over two sessions (the first holds the even ones), with files that are not listed."""
    sessions = [random_session_id(), random_session_id()]
    files = []
    for index, (size, mime) in enumerate(SHAPES):
        files.append(await ready_file(repository, user_id, sessions[index % 2], size, mime))
        await repository.create_file(random_file(user_id, sessions[0], size=150))  # pending: never listed
    await ready_file(repository, random_user_id(), sessions[0], 250, "text/plain")  # someone else's
    return files, sessions


async def every_page(
    repository: FileRepository, user_id: str, sort: FileSort, session_id: str | None, limit: int
) -> list[FileRecord]:
    listed: list[FileRecord] = []
    token: str | None = None
    while True:
        page = await repository.list_files(user_id, limit=limit, page_token=token, session_id=session_id, sort=sort)
        listed += page.items
        if page.next_token is None:
            return listed
        assert len(page.items) == limit
        token = page.next_token


@pytest.mark.parametrize("sort", SORTS, ids=str)
@pytest.mark.parametrize("in_session", [False, True], ids=["all", "one session"])
async def test_every_order_lists_each_ready_file_once_in_order(
    file_repository: FileRepository, small_dynamo_pages: None, sort: FileSort, in_session: bool
) -> None:
    owner = random_user_id()
    files, sessions = await stored_files(file_repository, owner)
    session_id = sessions[0] if in_session else None
    expected = [f for f in files if session_id is None or f.session_id == session_id]

    listed = await every_page(file_repository, owner, sort, session_id, limit=2)

    assert sorted(f.upload_id for f in listed) == sorted(f.upload_id for f in expected), "each file exactly once"
    values = [sort.key(f)[0] for f in listed]
    assert values == sorted(values, reverse=sort.descending)
    if sort.by is FileSortBy.DATE:
        assert listed == sorted(expected, key=sort.key, reverse=sort.descending)


async def test_the_default_order_is_newest_first(file_repository: FileRepository) -> None:
    owner = random_user_id()
    files, _ = await stored_files(file_repository, owner)

    page = await file_repository.list_files(owner, limit=100)

    assert page.items == files[::-1]


async def test_a_cursor_works_only_for_its_own_order_and_session(file_repository: FileRepository) -> None:
    owner = random_user_id()
    _, sessions = await stored_files(file_repository, owner)
    by_size = FileSort(FileSortBy.SIZE, SortOrder.ASC)
    token = (await file_repository.list_files(owner, limit=2, sort=by_size)).next_token
    assert token is not None

    for sort, session_id in [
        (FileSort(FileSortBy.SIZE, SortOrder.DESC), None),
        (FileSort(FileSortBy.TYPE, SortOrder.ASC), None),
        (FileSort(), None),
        (by_size, sessions[0]),
    ]:
        with pytest.raises(InvalidPageToken):
            await file_repository.list_files(owner, limit=2, page_token=token, session_id=session_id, sort=sort)
    resumed = await file_repository.list_files(owner, limit=2, page_token=token, sort=by_size)
    assert len(resumed.items) == 2


@pytest.mark.parametrize("by", [FileSortBy.SIZE, FileSortBy.TYPE])
@pytest.mark.parametrize("order", SortOrder)
async def test_sqlite_sorts_by_size_and_type_through_its_indexes(
    sqlite_database: SqliteDatabase, by: FileSortBy, order: SortOrder
) -> None:
    sort = FileSort(by, order)
    parameters = {
        "user_id": "u",
        "value": 100 if by is FileSortBy.SIZE else "text/plain",
        "upload_id": "0190f0c2-0000-7000-8000-000000000001",
        "limit": 10,
    }

    def plan_of(query: str) -> Callable[[sqlite3.Connection], list[Any]]:
        return lambda connection: connection.execute(f"EXPLAIN QUERY PLAN {query}", parameters).fetchall()

    plans = [
        await sqlite_database.run(plan_of(list_query(sort, session=False, after=after))) for after in (False, True)
    ]

    for plan in plans:
        details = [row[3] for row in plan]
        assert any(f"USING INDEX files_ready_by_{by}" in detail for detail in details), details
        assert not any("TEMP B-TREE" in detail for detail in details), details


@pytest.mark.dynamodb
async def test_storage_init_adds_the_sort_indexes_to_a_table_made_without_them(
    dynamo_storage_settings: StorageSettings,
) -> None:
    settings = dynamo_storage_settings
    client = dynamodb_client(settings)
    try:
        earlier = schema.create_table_request(settings.dynamodb_table_name)
        new = {schema.FILES_BY_SIZE.name, schema.FILES_BY_TYPE.name}
        earlier["GlobalSecondaryIndexes"] = [
            index for index in earlier["GlobalSecondaryIndexes"] if index["IndexName"] not in new
        ]
        earlier["AttributeDefinitions"] = schema.attribute_definitions(
            tuple(index for index in schema.INDEXES if index.name not in new)
        )
        client.create_table(**earlier)
        repository = DynamoFileRepository(Table(client, settings.dynamodb_table_name))
        owner = random_user_id()
        small = await ready_file(repository, owner, random_session_id(), 10, "text/plain")
        large = await ready_file(repository, owner, random_session_id(), 20, "application/pdf")

        lines = await dynamo.initialize(settings)
        again = await dynamo.initialize(settings)

        assert "index gsi2: created" in lines[0]
        assert "index gsi3: created" in lines[0]
        assert "index" not in again[0], "a second run finds them"
        by_size = await repository.list_files(owner, limit=5, sort=FileSort(FileSortBy.SIZE, SortOrder.DESC))
        by_type = await repository.list_files(owner, limit=5, sort=FileSort(FileSortBy.TYPE, SortOrder.ASC))
        assert [f.upload_id for f in by_size.items] == [large.upload_id, small.upload_id]
        assert [f.upload_id for f in by_type.items] == [large.upload_id, small.upload_id]
    finally:
        client.close()
