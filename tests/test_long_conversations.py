"""A long conversation keeps its opening in the model's context through the session's summary, within the model's
input limit, with its full history still stored and listed.

300 turns (with tool calls among them) are stored through the repository; the turns that check go through HTTP
to the OpenAI fake, which records what the model was sent. The memory model is the offline one (no provider).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from apis.shared.memory import MemoryKind
from apis.shared.providers.token_estimates import estimate_tokens
from apis.shared.sessions import Message, MessageRole
from apis.shared.sessions import messages as messages_service
from apis.shared.sessions.metadata import new_session
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.scripts import Text, Usage
from tests.fakes.server import RunningFake
from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id
from tests.memory_turns import (
    add_model,
    chat,
    context_sent,
    memory_settings,
    openai_services,
    storage_of,
    system_prompt_sent,
)

SMALL_MODEL = "gpt-small"
INPUT_LIMIT = 2_000
TURNS = 300
CODENAME = "My codename is BLUEFALCON."


@pytest.fixture(params=[True, False], ids=["memory on", "memory off"])
async def services(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    no_provider_environment: None,
    openai_fake: RunningFake[FakeOpenAIState],
) -> AsyncIterator[Services]:
    """The services with a managed model whose input limit is small; compaction works with memory on or off."""
    async with openai_services(tmp_path, openai_fake, memory=memory_settings(memory_enabled=request.param)) as opened:
        await add_model(opened, SMALL_MODEL, maxInputTokens=INPUT_LIMIT, maxOutputTokens=200)
        yield opened


def _turn(index: int) -> list[Message]:
    """One stored turn; every 25th asks for the calculator, whose call and result sit between question and answer."""
    question = CODENAME if index == 0 else f"Turn {index}: we discussed topic {index} at some length today."
    messages = [messages_service.new_message(MessageRole.USER, [{"text": question}])]
    if index % 25 == 7:
        use = {"toolUseId": f"call-{index}", "name": "calculator", "input": {"expression": f"{index}*2"}}
        result = {"toolUseId": f"call-{index}", "status": "success", "content": [{"text": str(index * 2)}]}
        messages.append(messages_service.new_message(MessageRole.ASSISTANT, [{"toolUse": use}]))
        messages.append(messages_service.new_message(MessageRole.USER, [{"toolResult": result}]))
    answer = f"Answer {index}: here is what I think about topic {index}."
    return [*messages, messages_service.new_message(MessageRole.ASSISTANT, [{"text": answer}])]


async def seed_conversation(services: Services, user_id: str, session_id: str) -> int:
    """TURNS turns stored as a turn stores them, one message at a time; how many messages."""
    sessions = storage_of(services).sessions
    messages = [message for index in range(TURNS) for message in _turn(index)]
    await sessions.create_session(user_id, new_session(session_id, created_at=messages[0].created_at), messages[0])
    for message in messages[1:]:
        await sessions.append_message(user_id, session_id, message)
    return len(messages)


def _compactions(kind: str) -> float:
    return REGISTRY.get_sample_value("colloquy_history_compactions_total", {"kind": kind}) or 0.0


def _assert_tool_calls_paired(body: dict[str, Any]) -> None:
    """Every tool call the model is sent is answered right after it, and every tool message answers one."""
    sent = body["messages"]
    for position, message in enumerate(sent):
        calls = {call["id"] for call in message.get("tool_calls") or []}
        if calls:
            answered = {
                m["tool_call_id"] for m in sent[position + 1 : position + 1 + len(calls)] if m["role"] == "tool"
            }
            assert answered == calls
        if message["role"] == "tool":
            asked = [
                m for m in sent[:position] if any(c["id"] == message["tool_call_id"] for c in m.get("tool_calls") or [])
            ]
            assert asked, f"a tool result without its call: {message}"


async def _all_messages(services: Services, user_id: str, session_id: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 500, **({"next_token": token} if token else {})}
        page = await services.app.get(f"/sessions/{session_id}/messages", params=params, headers=services.auth(user_id))
        assert page.status_code == 200, page.text
        listed += page.json()["messages"]
        token = page.json().get("nextToken")
        if token is None:
            return listed


async def test_a_300_turn_conversation_answers_with_its_opening_through_the_summary_within_the_limit(
    services: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    ada, session_id = random_user_id(), random_session_id()
    stored = await seed_conversation(services, ada, session_id)
    openai_fake.state.script.add(Text("You are BLUEFALCON."), Usage(900, 5)).add(
        Text("Still BLUEFALCON."), Usage(900, 5)
    )
    folded, reused = _compactions("folded"), _compactions("reused")

    await chat(services, ada, session_id, "What is my codename?", model=SMALL_MODEL)
    [summary] = await storage_of(services).memories.list_records(
        ada, [MemoryKind.SUMMARY], limit=5, session_id=session_id
    )
    await chat(services, ada, session_id, "And what did we discuss in turn 298?", model=SMALL_MODEL)

    for call in openai_fake.state.chat_calls:
        body = call.body
        assert "BLUEFALCON" in system_prompt_sent(body), "the opening turn reaches the model through the summary"
        assert estimate_tokens(json.dumps(body["messages"])) <= INPUT_LIMIT, "the whole request within the limit"
        assert "Turn 298: we discussed topic 298" in context_sent(body), "the newest turns go as they were said"
        assert "Turn 150:" not in context_sent(body).replace(summary.content, ""), "older ones only as the summary"
        _assert_tool_calls_paired(body)
    assert _compactions("folded") == folded + 1, "the summary was folded once, by the first turn that needed it"
    assert _compactions("reused") == reused + 1, "the next turn reused it"
    assert len(await _all_messages(services, ada, session_id)) == stored + 4, "storage keeps the whole conversation"


async def test_a_conversation_that_fits_goes_whole_and_makes_no_summary(
    services: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    ada, session_id = random_user_id(), random_session_id()
    for _ in range(3):
        openai_fake.state.script.add(Text("Fine."), Usage(50, 2))
    folded, reused = _compactions("folded"), _compactions("reused")

    for message in ("first question", "second question", "third question"):
        await chat(services, ada, session_id, message, model=SMALL_MODEL)

    last = openai_fake.state.chat_calls[-1].body
    assert "first question" in context_sent(last)
    assert "<conversation_summary>" not in system_prompt_sent(last)
    assert (_compactions("folded"), _compactions("reused")) == (folded, reused)
