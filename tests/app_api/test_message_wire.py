"""`GET /sessions/{id}/messages` in the reference client's shape, on both backends, from what storage keeps.

Messages are written straight to the store, as a turn writes them (Converse blocks, attachment references,
our metadata names), and read back through HTTP.
"""

from __future__ import annotations

from typing import Any

import pytest

from apis.shared.sessions import (
    Latency,
    Message,
    MessageMetadata,
    MessageRole,
    MessageStatus,
    ModelInfo,
    SessionRepository,
    TokenUsage,
)
from apis.shared.sessions import messages as messages_service
from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id

PDF_REFERENCE = {
    "uploadId": "0190f0c2-0000-7000-8000-000000000001",
    "filename": "report.pdf",
    "mimeType": "application/pdf",
    "sizeBytes": 1234,
    "format": "pdf",
}
PNG_REFERENCE = {
    "uploadId": "0190f0c2-0000-7000-8000-000000000002",
    "filename": "chart.png",
    "mimeType": "image/png",
    "sizeBytes": 99,
    "format": "png",
}
TOOL_USE = {"toolUseId": "tooluse-1", "name": "calculator", "input": {"expression": "6*7", "precision": None}}
TOOL_RESULT = {"toolUseId": "tooluse-1", "status": "success", "content": [{"text": "42"}]}
REASONING = {"reasoningText": {"text": "The user wants a product.", "signature": "sig-1"}}
CITATION = {"assistantId": "as-1", "documentId": "doc-1", "fileName": "handbook.pdf", "text": "Section 2."}
MODEL = ModelInfo(
    model_id="model-a",
    model_name="Model A",
    provider="openai",
    pricing_snapshot={"inputPricePerMillionTokens": 2.0, "outputPricePerMillionTokens": 8.0},
)


def sessions_of(services: Services) -> SessionRepository:
    repository: SessionRepository = services.app_asgi.state.storage.sessions
    return repository


async def new_session(services: Services, user: str) -> str:
    session_id = random_session_id()
    created = await services.app.put(f"/sessions/{session_id}/metadata", json={}, headers=services.auth(user))
    assert created.status_code == 200, created.text
    return session_id


async def store(
    services: Services,
    user: str,
    session_id: str,
    role: MessageRole,
    content: list[dict[str, Any]],
    **fields: Any,
) -> Message:
    message = messages_service.new_message(role, content, **fields)
    await messages_service.append(sessions=sessions_of(services), user_id=user, session_id=session_id, message=message)
    return message


async def read_messages(services: Services, user: str, session_id: str, **params: Any) -> dict[str, Any]:
    response = await services.app.get(f"/sessions/{session_id}/messages", params=params, headers=services.auth(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_stored_block_kind_reads_as_a_typed_block(services: Services) -> None:
    user = random_user_id()
    session_id = await new_session(services, user)
    question = await store(
        services,
        user,
        session_id,
        MessageRole.USER,
        [{"document": PDF_REFERENCE}, {"image": PNG_REFERENCE}, {"text": "What is 6 times 7?"}],
    )
    asking = await store(
        services,
        user,
        session_id,
        MessageRole.ASSISTANT,
        [{"reasoningContent": REASONING}, {"text": "Let me calculate."}, {"toolUse": TOOL_USE}],
    )
    await store(services, user, session_id, MessageRole.USER, [{"toolResult": TOOL_RESULT}])

    body = await read_messages(services, user, session_id)

    first, second, third = body["messages"]
    assert (first["id"], first["messageId"], first["role"]) == (question.message_id, question.message_id, "user")
    assert first["createdAt"] == question.created_at
    assert first["status"] == "complete"
    assert first["content"] == [
        {
            "type": "fileAttachment",
            "fileAttachment": {k: PDF_REFERENCE[k] for k in ("uploadId", "filename", "mimeType", "sizeBytes")},
            "document": PDF_REFERENCE,
        },
        {
            "type": "fileAttachment",
            "fileAttachment": {k: PNG_REFERENCE[k] for k in ("uploadId", "filename", "mimeType", "sizeBytes")},
            "image": PNG_REFERENCE,
        },
        {"type": "text", "text": "What is 6 times 7?"},
    ]
    assert "metadata" not in first, "a question has no usage, latency or model"
    assert second["id"] == asking.message_id
    assert second["content"] == [
        {"type": "reasoningContent", "reasoningContent": REASONING},
        {"type": "text", "text": "Let me calculate."},
        {"type": "toolUse", "toolUse": TOOL_USE},
    ]
    assert third["role"] == "user"
    assert third["content"] == [{"type": "toolResult", "toolResult": TOOL_RESULT}]
    assert third["content"][0]["toolResult"]["toolUseId"] == second["content"][2]["toolUse"]["toolUseId"]
    assert "nextToken" not in body


async def test_usage_latency_model_and_citations_take_the_reference_names(services: Services) -> None:
    user = random_user_id()
    session_id = await new_session(services, user)
    metadata = MessageMetadata(
        token_usage=TokenUsage(input_tokens=10, output_tokens=5, total_tokens=15, cache_read_input_tokens=3),
        latency=Latency(time_to_first_byte_ms=12.4, latency_ms=80.6),
        model_info=MODEL,
        cost=0.00006,
        citations=[CITATION, {"documentId": "doc-2"}],
    )
    answer = await store(services, user, session_id, MessageRole.ASSISTANT, [{"text": "42."}], metadata=metadata)

    [read] = (await read_messages(services, user, session_id))["messages"]

    assert read["metadata"] == {
        "latency": {"timeToFirstToken": 12, "endToEndLatency": 81},
        "tokenUsage": {
            "inputTokens": 10,
            "outputTokens": 5,
            "totalTokens": 15,
            "cacheReadInputTokens": 3,
            "cacheWriteInputTokens": 0,
        },
        "modelInfo": {
            "modelId": "model-a",
            "modelName": "Model A",
            "provider": "openai",
            "pricingSnapshot": {
                "inputPricePerMtok": 2.0,
                "outputPricePerMtok": 8.0,
                "currency": "USD",
                "snapshotAt": answer.created_at,
            },
        },
        "cost": 0.00006,
    }
    # Citations move to the message, as the reference client reads them; one without its fields is left out.
    assert read["citations"] == [CITATION]


async def test_unknown_blocks_pass_through_and_empty_ones_are_left_out(services: Services) -> None:
    user = random_user_id()
    session_id = await new_session(services, user)
    await store(
        services,
        user,
        session_id,
        MessageRole.ASSISTANT,
        [{"cachePoint": {"type": "default"}}, {}, {"document": {"format": "txt", "name": "inline"}}, {"text": "ok"}],
    )

    [read] = (await read_messages(services, user, session_id))["messages"]

    assert read["content"] == [
        {"type": "cachePoint", "cachePoint": {"type": "default"}},
        {"type": "document", "document": {"format": "txt", "name": "inline"}},
        {"type": "text", "text": "ok"},
    ]


async def test_statuses_and_pages_are_kept(services: Services) -> None:
    user = random_user_id()
    session_id = await new_session(services, user)
    await store(services, user, session_id, MessageRole.USER, [{"text": "one"}])
    await store(services, user, session_id, MessageRole.ASSISTANT, [{"text": "t"}], status=MessageStatus.INTERRUPTED)
    await store(services, user, session_id, MessageRole.USER, [{"text": "two"}])
    await store(services, user, session_id, MessageRole.ASSISTANT, [{"text": "so"}], status=MessageStatus.STREAMING)

    first = await read_messages(services, user, session_id, limit=2)
    rest = await read_messages(services, user, session_id, limit=2, next_token=first["nextToken"])

    assert [m["status"] for m in first["messages"] + rest["messages"]] == [
        "complete",
        "interrupted",
        "complete",
        "streaming",
    ]
    assert [m["content"][0]["text"] for m in first["messages"] + rest["messages"]] == ["one", "t", "two", "so"]
    assert "nextToken" not in rest


async def test_without_a_limit_the_whole_conversation_comes_back_as_the_reference_client_expects(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Storage pages of 7, so a conversation of 20 needs three reads; the answer must hold all 20.
    monkeypatch.setattr(messages_service, "WHOLE_CONVERSATION_PAGE", 7)
    user = random_user_id()
    session_id = await new_session(services, user)
    for index in range(20):
        await store(services, user, session_id, MessageRole.USER, [{"text": f"message {index}"}])

    everything = await read_messages(services, user, session_id)
    paged = await read_messages(services, user, session_id, limit=15)
    rest = await read_messages(services, user, session_id, next_token=paged["nextToken"])

    assert [m["content"][0]["text"] for m in everything["messages"]] == [f"message {i}" for i in range(20)]
    assert "nextToken" not in everything
    assert len(paged["messages"]) == 15
    assert [m["content"][0]["text"] for m in rest["messages"]] == [f"message {i}" for i in range(15, 20)]
