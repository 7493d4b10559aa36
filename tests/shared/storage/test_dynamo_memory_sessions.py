"""A session's memory records on DynamoDB: read from that session's copies, not filtered out of every record of
the user (the conversation's summary is read after every turn), and the copies of records stored before them
written by `colloquy storage init`."""

from __future__ import annotations

from typing import Any

import pytest

from apis.shared.clock import new_id, now_iso
from apis.shared.config import StorageSettings
from apis.shared.memory import MemoryKind, MemoryRecord
from apis.shared.storage import Storage
from apis.shared.storage import dynamo as dynamo_backend
from apis.shared.storage.dynamo.client import dynamodb_client, serialize
from apis.shared.storage.dynamo.memories import DynamoMemoryRepository
from tests.helpers import random_session_id, random_user_id

pytestmark = pytest.mark.dynamodb


def summary(user_id: str, session_id: str) -> MemoryRecord:
    moment = now_iso()
    return MemoryRecord(
        record_id=new_id(),
        user_id=user_id,
        kind=MemoryKind.SUMMARY,
        content=f"what {session_id} was about",
        source_session_id=session_id,
        created_at=moment,
        updated_at=moment,
    )


@pytest.fixture
def storage(dynamo_storage: Storage) -> Storage:
    return dynamo_storage


def queries_of(memories: Any) -> list[dict[str, Any]]:
    """The Query requests the repository's client sends from now on, as it sends them."""
    sent: list[dict[str, Any]] = []
    assert isinstance(memories, DynamoMemoryRepository)
    events = memories._table.client.meta.events
    events.register("provide-client-params.dynamodb.Query", lambda params, **_: sent.append(dict(params)))
    return sent


async def test_a_sessions_summary_is_one_query_of_that_sessions_items(storage: Storage) -> None:
    user, conversation = random_user_id(), random_session_id()
    for _ in range(5):
        await storage.memories.add(summary(user, random_session_id()))
    mine = await storage.memories.add(summary(user, conversation))
    sent = queries_of(storage.memories)

    found = await storage.memories.list_records(user, [MemoryKind.SUMMARY], limit=1, session_id=conversation)

    assert found == [mine]
    [query] = sent
    assert "FilterExpression" not in query
    assert query["ExpressionAttributeValues"][":prefix"]["S"].startswith(f"MEMORY_SESSION#{conversation}#summary#")


async def test_replaced_deleted_and_trimmed_records_leave_no_copy_behind(storage: Storage) -> None:
    user, conversation = random_user_id(), random_session_id()
    first = await storage.memories.add(summary(user, conversation), max_per_kind=2)
    replacement = await storage.memories.replace(user, first.record_id, summary(user, conversation))
    assert replacement is not None
    other = await storage.memories.add(summary(user, conversation), max_per_kind=2)
    newest = await storage.memories.add(summary(user, conversation), max_per_kind=2)  # trims the replacement

    listed = await storage.memories.list_records(user, [MemoryKind.SUMMARY], limit=10, session_id=conversation)
    assert listed == [newest, other]
    assert await storage.memories.delete(user, other.record_id)
    listed = await storage.memories.list_records(user, [MemoryKind.SUMMARY], limit=10, session_id=conversation)
    assert listed == [newest]


async def test_storage_init_copies_the_records_stored_before_the_copies(
    dynamo_storage_settings: StorageSettings,
) -> None:
    """Records written the way an earlier version wrote them (no copy) are found by session after an init, once;
    a record of no session and the later inits are left alone."""
    await dynamo_backend.initialize(dynamo_storage_settings)
    user, conversation = random_user_id(), random_session_id()
    older = [summary(user, conversation), summary(user, conversation)]
    unattached = summary(user, conversation).model_copy(update={"source_session_id": None})
    client = dynamodb_client(dynamo_storage_settings)
    try:
        for record in (*older, unattached):
            item: dict[str, Any] = {
                "pk": f"USER#{user}",
                "sk": f"MEMORY#summary#{record.record_id}",
                "body": record.model_dump_json(),
            }
            if record.source_session_id is not None:
                item["sessionId"] = record.source_session_id
            client.put_item(TableName=dynamo_storage_settings.dynamodb_table_name, Item=serialize(item))
        client.delete_item(  # as if this table were inited before the copies existed
            TableName=dynamo_storage_settings.dynamodb_table_name,
            Key=serialize({"pk": "SCHEMA", "sk": "BACKFILL#memory-session-copies"}),
        )
    finally:
        client.close()

    lines = await dynamo_backend.initialize(dynamo_storage_settings)
    again = await dynamo_backend.initialize(dynamo_storage_settings)

    assert "memory session-copy backfill: done, 2 records stored before it copied" in lines
    assert "memory session-copy backfill: exists" in again
    opened = await dynamo_backend.open_storage(dynamo_storage_settings)
    try:
        found = await opened.memories.list_records(user, [MemoryKind.SUMMARY], limit=10, session_id=conversation)
        assert found == older[::-1]
        assert await opened.memories.delete(user, older[0].record_id)
        found = await opened.memories.list_records(user, [MemoryKind.SUMMARY], limit=10, session_id=conversation)
        assert found == [older[1]]
    finally:
        await opened.close()
