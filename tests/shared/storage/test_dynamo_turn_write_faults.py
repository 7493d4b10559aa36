"""Faults moto cannot produce on its own, injected into the real botocore client: a transaction whose answer is
lost after it landed (botocore retries it), and transaction conflicts. A turn's write must count exactly once.

Moto applies transactions one at a time and ignores ClientRequestToken, so these are the faults it would
otherwise never show. The injection hooks botocore's `before-send` event: the request goes through botocore's
own retry logic exactly as a timed-out or conflicting call would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from apis.shared.clock import now_iso
from apis.shared.config import StorageSettings
from apis.shared.costs import CostEntry
from apis.shared.costs.summaries import period_of
from apis.shared.sessions import Message, MessageMetadata, MessageRole, MessageStatus, TokenUsage
from apis.shared.sessions.metadata import new_session
from apis.shared.storage import dynamo as dynamo_backend
from apis.shared.storage.dynamo.client import Table, dynamodb_client
from apis.shared.storage.dynamo.costs import DynamoCostRepository
from apis.shared.storage.dynamo.sessions import DynamoSessionRepository
from tests.helpers import random_session_id, random_user_id

pytestmark = pytest.mark.dynamodb


class _Body:
    """The raw body botocore reads an injected response from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@dataclass
class Faults:
    """What the next TransactWriteItems calls meet: `lost_answers` land but time out, `conflicts` are refused."""

    lost_answers: int = 0
    conflicts: int = 0
    sent: int = 0

    def before_send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        if request.headers.get("X-Amz-Target", b"") not in (b"DynamoDB_20120810.TransactWriteItems",):
            return None
        self.sent += 1
        if self.lost_answers:
            self.lost_answers -= 1
            URLLib3Session().send(request)  # the transaction reaches the server and is applied...
            raise ReadTimeoutError(endpoint_url=request.url)  # ...but its answer never comes back
        if self.conflicts:
            self.conflicts -= 1
            body_sent = request.body if isinstance(request.body, bytes | str) else b"{}"
            actions = len(json.loads(body_sent)["TransactItems"])
            body = {
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
                "CancellationReasons": [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (actions - 1),
            }
            return AWSResponse(
                request.url,
                400,
                HTTPHeaders.from_dict({"Content-Type": "application/x-amz-json-1.0"}),
                _Body(json.dumps(body).encode()),
            )
        return None


@dataclass
class Repositories:
    sessions: DynamoSessionRepository
    costs: DynamoCostRepository
    faults: Faults


@pytest.fixture
async def repositories(dynamo_storage_settings: StorageSettings) -> AsyncIterator[Repositories]:
    await dynamo_backend.initialize(dynamo_storage_settings)
    client = dynamodb_client(dynamo_storage_settings)
    faults = Faults()
    # botocore's stubs type handlers as returning None; a before-send handler may return the response.
    client.meta.events.register("before-send.dynamodb.TransactWriteItems", faults.before_send)  # type: ignore[arg-type]
    table = Table(client, dynamo_storage_settings.dynamodb_table_name)
    try:
        yield Repositories(DynamoSessionRepository(table), DynamoCostRepository(table), faults)
    finally:
        client.close()


def priced_answer(user: str, cost: float) -> tuple[Message, CostEntry]:
    now = now_iso()
    usage = TokenUsage(input_tokens=100, output_tokens=40, total_tokens=140)
    message = Message(
        message_id=f"answer-{random_session_id()}",
        role=MessageRole.ASSISTANT,
        content=[{"text": "an answer"}],
        status=MessageStatus.COMPLETE,
        created_at=now,
        updated_at=now,
        metadata=MessageMetadata(token_usage=usage, cost=cost),
    )
    return message, CostEntry(
        user_id=user, period=period_of(now), model_id="m1", provider="openai", usage=usage, cost=cost
    )


async def write_answer(
    repos: Repositories, user: str, cost: float, *, lost_answers: int = 0, conflicts: int = 0
) -> tuple[str, Message]:
    """Store an answer with its cost, meeting the given faults (the session is created before them)."""
    session = await repos.sessions.create_session(user, new_session(random_session_id()))
    message, entry = priced_answer(user, cost)
    repos.faults.lost_answers, repos.faults.conflicts, repos.faults.sent = lost_answers, conflicts, 0
    await repos.sessions.append_message(user, session.session_id, message, cost=entry)
    return session.session_id, message


async def assert_counted_once(repos: Repositories, user: str, session_id: str, message: Message) -> None:
    session = await repos.sessions.get_session(user, session_id)
    listed = (await repos.sessions.list_messages(user, session_id, limit=10)).items
    summary = await repos.costs.get_summary(user, period_of(message.created_at))
    assert listed == [message]
    assert session is not None
    assert (session.message_count, session.total_cost) == (1, message.cost)
    assert (summary.total_cost, summary.total_requests, summary.input_tokens) == (message.cost, 1, 100)


async def test_an_answer_whose_transaction_landed_but_timed_out_is_counted_once(repositories: Repositories) -> None:
    user = random_user_id()

    session_id, message = await write_answer(repositories, user, 0.0042, lost_answers=1)

    assert repositories.faults.sent == 2, "botocore resent the transaction after the lost answer"
    await assert_counted_once(repositories, user, session_id, message)


async def test_an_answer_meeting_transaction_conflicts_is_retried_and_counted_once(
    repositories: Repositories,
) -> None:
    user = random_user_id()

    session_id, message = await write_answer(repositories, user, 0.0042, conflicts=3)

    assert repositories.faults.sent == 4
    await assert_counted_once(repositories, user, session_id, message)


async def test_a_lost_answer_then_a_conflict_still_counts_once(repositories: Repositories) -> None:
    user = random_user_id()

    session_id, message = await write_answer(repositories, user, 0.0042, lost_answers=1, conflicts=2)

    await assert_counted_once(repositories, user, session_id, message)
