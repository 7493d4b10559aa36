"""What the DynamoDB backend owes beyond the repository contract: set-up, failures, and what it leaves behind."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from botocore.stub import Stubber
from prometheus_client import REGISTRY

from apis.shared.config import StorageSettings
from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.memory import MemoryKind
from apis.shared.sessions import Message, MessageRole, SessionChanges, SessionRepository
from apis.shared.sessions.messages import new_message
from apis.shared.sessions.metadata import new_session
from apis.shared.storage import Storage
from apis.shared.storage import dynamo as dynamo_backend
from apis.shared.storage.dynamo import client as client_module
from apis.shared.storage.dynamo import sessions as sessions_module
from apis.shared.storage.dynamo.client import Table, dynamodb_client, s3_client
from apis.shared.storage.dynamo.costs import DynamoCostRepository
from apis.shared.storage.dynamo.memories import DynamoMemoryRepository, backfill_session_copies
from apis.shared.storage.dynamo.sessions import DynamoSessionRepository
from tests.helpers import random_session_id, random_title, random_user_id

pytestmark = pytest.mark.dynamodb

RepositoryCall = Callable[[SessionRepository], Awaitable[object]]


def text_message(text: str, *, created_at: str | None = None) -> Message:
    message = new_message(MessageRole.USER, [{"text": text}])
    return message if created_at is None else message.model_copy(update={"created_at": created_at})


def storage_errors(kind: str) -> float:
    return REGISTRY.get_sample_value("colloquy_storage_errors_total", {"backend": "dynamodb", "kind": kind}) or 0.0


def raw_items(settings: StorageSettings) -> list[dict[str, Any]]:
    """Every item of the test's table but the marker `storage init` leaves (memories.BACKFILL_KEY), read around
    the backend."""
    client = dynamodb_client(settings)
    try:
        items = client.scan(TableName=settings.dynamodb_table_name, ConsistentRead=True)["Items"]
    finally:
        client.close()
    return [item for item in items if item["pk"]["S"] != "SCHEMA"]


@pytest.fixture
def storage(dynamo_storage: Storage) -> Storage:
    return dynamo_storage


async def test_initialize_creates_the_table_and_bucket_once(dynamo_storage_settings: StorageSettings) -> None:
    table, bucket = dynamo_storage_settings.dynamodb_table_name, dynamo_storage_settings.s3_bucket_name
    vectors = dynamo_storage_settings.s3_vectors_bucket_name

    first = await dynamo_backend.initialize(dynamo_storage_settings)
    second = await dynamo_backend.initialize(dynamo_storage_settings)

    ttl = f"table {table}: time to live on expiresAt"
    lifecycle = f"bucket {bucket}: rule aborting multipart uploads abandoned for 1 day"
    assert first == [
        f"table {table}: created",
        f"{ttl}: turned on",
        "memory session-copy backfill: done, 0 records stored before it copied",
        f"bucket {bucket}: created",
        f"{lifecycle}: added",
        f"vector bucket {vectors}: created",
    ]
    assert second == [
        f"table {table}: exists",
        f"{ttl}: exists",
        "memory session-copy backfill: exists",
        f"bucket {bucket}: exists",
        f"{lifecycle}: exists",
        f"vector bucket {vectors}: exists",
    ]


CALLS: dict[str, RepositoryCall] = {
    "create_session": lambda repo: repo.create_session("user", new_session("session")),
    "get_session": lambda repo: repo.get_session("user", "session"),
    "list_sessions": lambda repo: repo.list_sessions("user", limit=5),
    "update_session": lambda repo: repo.update_session("user", "session", SessionChanges(title="New")),
    "delete_session": lambda repo: repo.delete_session("user", "session"),
    "append_message": lambda repo: repo.append_message("user", "session", text_message("hi")),
    "list_messages": lambda repo: repo.list_messages("user", "session", limit=5),
    "ping": lambda repo: repo.ping(),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_every_call_is_unavailable_while_the_endpoint_is_down(
    unreachable_storage_settings: StorageSettings, call: RepositoryCall
) -> None:
    # The endpoint went away after the service started: open_storage itself would refuse to start.
    client = dynamodb_client(unreachable_storage_settings)
    repository = DynamoSessionRepository(Table(client, unreachable_storage_settings.dynamodb_table_name))
    before = storage_errors("unavailable")
    try:
        with pytest.raises(StorageUnavailableError, match="cannot be reached"):
            await call(repository)
    finally:
        client.close()
    assert storage_errors("unavailable") == before + 1


async def test_opening_storage_with_the_endpoint_down_is_unavailable(
    unreachable_storage_settings: StorageSettings,
) -> None:
    with pytest.raises(StorageUnavailableError):
        await dynamo_backend.open_storage(unreachable_storage_settings)


async def test_initialize_is_unavailable_while_the_endpoint_is_down(
    unreachable_storage_settings: StorageSettings,
) -> None:
    with pytest.raises(StorageUnavailableError):
        await dynamo_backend.initialize(unreachable_storage_settings)


async def test_a_missing_table_is_an_error_that_names_it_and_the_fix(
    dynamo_storage_settings: StorageSettings, caplog: pytest.LogCaptureFixture
) -> None:
    before = storage_errors("error")
    with caplog.at_level(logging.ERROR, logger="apis.shared.storage.dynamo"), pytest.raises(StorageError) as raised:
        await dynamo_backend.open_storage(dynamo_storage_settings)  # never initialised: the start stops

    assert not isinstance(raised.value, StorageUnavailableError)
    assert raised.value.detail == (
        f"table {dynamo_storage_settings.dynamodb_table_name} does not exist: run `colloquy storage init`"
    )
    assert raised.value.__cause__ is not None
    assert storage_errors("error") == before + 1
    [record] = [r for r in caplog.records if r.name == "apis.shared.storage.dynamo"]
    assert record.exc_info is not None


async def test_delete_leaves_no_message_and_no_claim_behind(
    storage: Storage, dynamo_storage_settings: StorageSettings
) -> None:
    user = random_user_id()
    session = await storage.sessions.create_session(user, new_session(random_session_id()))
    for index in range(30):  # more than one BatchWriteItem of 25
        await storage.sessions.append_message(user, session.session_id, text_message(str(index)))
    keys = {(item["pk"]["S"], item["sk"]["S"]) for item in raw_items(dynamo_storage_settings)}
    assert (f"SESSIONID#{session.session_id}", "OWNER") in keys
    assert (f"USER#{user}", f"SESSION#{session.session_id}") in keys
    assert len(keys) == 32

    await storage.sessions.delete_session(user, session.session_id)

    assert raw_items(dynamo_storage_settings) == []


async def test_an_older_message_counts_without_moving_last_message_at(storage: Storage) -> None:
    user = random_user_id()
    session = await storage.sessions.create_session(user, new_session(random_session_id()))
    newer = text_message("newer")
    older = text_message("older", created_at="2001-01-01T00:00:00.000000Z")

    await storage.sessions.append_message(user, session.session_id, newer)
    after = await storage.sessions.append_message(user, session.session_id, older)

    assert (after.message_count, after.last_message_at) == (2, newer.created_at)
    listed = await storage.sessions.list_sessions(user, limit=5)
    assert [s.last_message_at for s in listed.items] == [newer.created_at]


async def test_user_ids_with_key_separators_keep_to_their_own_items(storage: Storage) -> None:
    plain, tricky = random_user_id(), f"{random_user_id()}#SESSION#x%23"
    theirs = await storage.sessions.create_session(tricky, new_session(random_session_id()))
    await storage.sessions.append_message(tricky, theirs.session_id, text_message("hello"))

    assert [s.session_id for s in (await storage.sessions.list_sessions(tricky, limit=5)).items] == [theirs.session_id]
    assert len((await storage.sessions.list_messages(tricky, theirs.session_id, limit=5)).items) == 1
    assert (await storage.sessions.list_sessions(plain, limit=5)).items == []
    assert await storage.sessions.get_session(tricky.split("#")[0], theirs.session_id) is None


async def test_filtered_lists_read_on_through_pages_without_matches(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions_module, "_FILTERED_PAGE_SIZE", 1)
    user = random_user_id()
    wanted = []
    for index in range(8):
        title = f"needle {random_title()}" if index % 4 == 0 else random_title()
        created = await storage.sessions.create_session(
            user, new_session(random_session_id(), SessionChanges(title=title))
        )
        if index % 4 == 0:
            wanted.append(created.session_id)

    first = await storage.sessions.list_sessions(user, limit=1, title_query="NEEDLE")
    second = await storage.sessions.list_sessions(user, limit=1, title_query="NEEDLE", page_token=first.next_token)

    assert [s.session_id for s in first.items + second.items] == list(reversed(wanted))
    assert second.next_token is None


def _cancelled(stubber: Stubber, *codes: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


@pytest.fixture
def stubbed_table(dynamo_storage_settings: StorageSettings, monkeypatch: pytest.MonkeyPatch) -> Table:
    """A Table whose client answers from a queue of canned responses, and retries that do not wait."""

    async def no_wait(attempt: int) -> None:
        return None

    monkeypatch.setattr(client_module, "backoff", no_wait)
    return Table(dynamodb_client(dynamo_storage_settings), dynamo_storage_settings.dynamodb_table_name)


PUT: Any = [{"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}}}}]


async def test_transaction_conflicts_are_retried(stubbed_table: Table) -> None:
    with Stubber(stubbed_table.client) as stubber:
        _cancelled(stubber, "None", "TransactionConflict")
        _cancelled(stubber, "ThrottlingError", "None")
        stubber.add_response("transact_write_items", {})

        assert await stubbed_table.transact(PUT) is None
        stubber.assert_no_pending_responses()


async def test_conflicts_that_outlast_the_retries_are_unavailable(stubbed_table: Table) -> None:
    before = storage_errors("unavailable")
    with Stubber(stubbed_table.client) as stubber:
        for _ in range(client_module.TRANSACTION_ATTEMPTS):
            _cancelled(stubber, "TransactionConflict")

        with pytest.raises(StorageUnavailableError):
            await stubbed_table.transact(PUT)
    assert storage_errors("unavailable") == before + 1


async def test_a_failed_condition_is_returned_not_retried(stubbed_table: Table) -> None:
    with Stubber(stubbed_table.client) as stubber:
        _cancelled(stubber, "None", "ConditionalCheckFailed")

        reasons = await stubbed_table.transact(PUT)

    assert reasons is not None
    assert [reason.code for reason in reasons] == ["None", "ConditionalCheckFailed"]


async def test_a_cancellation_for_another_reason_is_an_error(stubbed_table: Table) -> None:
    with Stubber(stubbed_table.client) as stubber:
        _cancelled(stubber, "ValidationError")

        with pytest.raises(StorageError) as raised:
            await stubbed_table.transact(PUT)

    assert not isinstance(raised.value, StorageUnavailableError)
    assert "ValidationError" not in raised.value.detail


async def test_throttling_is_unavailable(stubbed_table: Table) -> None:
    with Stubber(stubbed_table.client) as stubber:
        for _ in range(client_module.MAX_ATTEMPTS):  # botocore retries throttling itself first
            stubber.add_client_error("describe_table", service_error_code="ThrottlingException", http_status_code=400)

        with pytest.raises(StorageUnavailableError):
            await stubbed_table.run(lambda: stubbed_table.client.describe_table(TableName=stubbed_table.name))


async def test_initialize_writes_cors_rules_for_the_configured_origins(
    dynamo_storage_settings: StorageSettings,
) -> None:
    origins = "https://chat.example.com, https://admin.example.com"
    settings = dynamo_storage_settings.model_copy(update={"s3_cors_origins": origins})

    lines = await dynamo_backend.initialize(settings)
    again = await dynamo_backend.initialize(settings)

    bucket = settings.s3_bucket_name
    expected = f"bucket {bucket}: CORS for https://chat.example.com, https://admin.example.com"
    assert lines[-1] == expected
    assert again[-1] == expected
    client = s3_client(settings)
    try:
        [rule] = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    finally:
        client.close()
    assert rule["AllowedOrigins"] == ["https://chat.example.com", "https://admin.example.com"]
    assert set(rule["AllowedMethods"]) == {"PUT", "GET", "HEAD"}


NEW_READS: dict[str, Callable[[Table], Awaitable[object]]] = {
    "costs.get_spend": lambda table: DynamoCostRepository(table).get_spend("user", "2026-11"),
    "memories.list_records of a session": lambda table: DynamoMemoryRepository(table).list_records(
        "user", [MemoryKind.SUMMARY], limit=1, session_id="session"
    ),
    "backfill_session_copies": backfill_session_copies,
}


@pytest.mark.parametrize("call", NEW_READS.values(), ids=NEW_READS.keys())
async def test_a_quotas_spend_a_sessions_memories_and_the_backfill_are_unavailable_while_the_endpoint_is_down(
    unreachable_storage_settings: StorageSettings, call: Callable[[Table], Awaitable[object]]
) -> None:
    """The reads a turn now makes by key (a quota's spend, a conversation's summary) and storage init's backfill
    fail as every other call does: unavailable (a 503 to a client), never a zero or an empty list."""
    client = dynamodb_client(unreachable_storage_settings)
    try:
        with pytest.raises(StorageUnavailableError, match="cannot be reached"):
            await call(Table(client, unreachable_storage_settings.dynamodb_table_name))
    finally:
        client.close()
