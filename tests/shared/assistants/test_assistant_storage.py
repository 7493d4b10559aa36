"""Backend specifics of the assistants: SQLite reads its lists through their indexes; storage init adds gsi4."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from apis.shared.assistants import AssistantFields, Visibility
from apis.shared.assistants import service as assistants_service
from apis.shared.config import StorageSettings
from apis.shared.errors import StorageError
from apis.shared.storage import dynamo
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.assistants import DynamoAssistantRepository
from apis.shared.storage.dynamo.client import Table, dynamodb_client
from apis.shared.storage.sqlite.assistants import below_position, owned_query, public_query, shared_query
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.migrations import migrate
from tests.helpers import random_user_id


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "colloquy.sqlite3", busy_timeout_ms=5000)
    await database.run(migrate)
    try:
        yield database
    finally:
        database.close()


@pytest.mark.parametrize(
    ("query", "index", "columns"),
    [
        (owned_query, "assistants_by_owner", ("created_at", "assistant_id")),
        (public_query, "assistants_public", ("created_at", "assistant_id")),
        (shared_query, "assistant_shares_by_email", ("s.assistant_created_at", "s.assistant_id")),
    ],
)
@pytest.mark.parametrize("paged", [False, True])
async def test_sqlite_reads_each_list_through_its_index(
    sqlite_database: SqliteDatabase,
    query: Callable[[str], str],
    index: str,
    columns: tuple[str, str],
    paged: bool,
) -> None:
    sql = query(below_position(*columns) if paged else "")
    parameters = {"owner_id": "o", "email": "e@x", "created_at": "x", "assistant_id": "y", "limit": 10}

    def plan(connection: sqlite3.Connection) -> list[Any]:
        return connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters).fetchall()

    details = [row[3] for row in await sqlite_database.run(plan)]

    assert any(index in detail for detail in details), details
    assert not any("TEMP B-TREE" in detail for detail in details), details
    assert not any(detail.startswith("SCAN") and "USING" not in detail for detail in details), details


@pytest.mark.dynamodb
async def test_storage_init_adds_the_public_assistants_index_to_an_earlier_table(
    dynamo_storage_settings: StorageSettings,
) -> None:
    settings = dynamo_storage_settings
    client = dynamodb_client(settings)
    try:
        earlier = schema.create_table_request(settings.dynamodb_table_name)
        new = schema.PUBLIC_ASSISTANTS.name
        earlier["GlobalSecondaryIndexes"] = [i for i in earlier["GlobalSecondaryIndexes"] if i["IndexName"] != new]
        earlier["AttributeDefinitions"] = schema.attribute_definitions(
            tuple(index for index in schema.INDEXES if index.name != new)
        )
        client.create_table(**earlier)
        repository = DynamoAssistantRepository(Table(client, settings.dynamodb_table_name))
        fields = AssistantFields(name="Open", visibility=Visibility.PUBLIC)
        public = await assistants_service.create(
            assistants=repository, owner_id=random_user_id(), owner_name="O", assistant_in=fields
        )

        lines = await dynamo.initialize(settings)
        listed = await repository.list_public(before=None, limit=5)

        assert f"index {new}: created" in lines[0]
        assert [entry.position for entry in listed] == [public.position]
    finally:
        client.close()


@pytest.mark.dynamodb
async def test_a_delete_that_fails_part_way_keeps_the_assistant_and_the_same_call_finishes(
    dynamo_storage_settings: StorageSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = dynamo_storage_settings
    await dynamo.initialize(settings)
    client = dynamodb_client(settings)
    try:
        repository = DynamoAssistantRepository(Table(client, settings.dynamodb_table_name))
        fields = AssistantFields(name="Shared", visibility=Visibility.SHARED)
        assistant = await assistants_service.create(
            assistants=repository, owner_id=random_user_id(), owner_name="O", assistant_in=fields
        )
        await assistants_service.share(assistants=repository, assistant=assistant, emails=["a@x.edu", "b@x.edu"])
        original = client.delete_item

        def refused(**_: Any) -> Any:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "try later"}}, "DeleteItem")

        monkeypatch.setattr(client, "delete_item", refused)
        with pytest.raises(StorageError):
            await assistants_service.delete(assistants=repository, assistant=assistant)
        kept = await repository.get(assistant.assistant_id)
        monkeypatch.setattr(client, "delete_item", original)
        await assistants_service.delete(assistants=repository, assistant=assistant)

        assert kept == assistant
        assert await repository.get(assistant.assistant_id) is None
        assert await repository.list_shares(assistant.assistant_id) == []
    finally:
        client.close()
