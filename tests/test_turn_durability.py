"""What a user already saw survives the inference process: a SIGKILL mid-turn leaves the partial answer, which
readers settle as `interrupted` once it is older than the abandonment bound; a live turn is never settled.

The crash runs a real `colloquy serve inference` process and kills it with SIGKILL after five deltas reached
the client. The offline model streams one word every 100 ms and the answer is checkpointed every 0.2 s, so at
most two words (one interval) may be missing from what was stored.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from apis.shared.config import InferenceSettings
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, random_session_id, random_user_id
from tests.processes import start_inference

CHECKPOINT_SECONDS = 0.2
ABANDONED_AFTER_SECONDS = 1.5
DELTA_DELAY_MS = 100
LONG_MESSAGE = " ".join(f"word{index}" for index in range(60))


SLOW_TURNS = {
    "LOCAL_PROVIDER_DELTA_WORDS": "1",
    "LOCAL_PROVIDER_DELTA_DELAY_MS": str(DELTA_DELAY_MS),
    "TURN_CHECKPOINT_SECONDS": str(CHECKPOINT_SECONDS),
    "TURN_ABANDONED_AFTER_SECONDS": str(ABANDONED_AFTER_SECONDS),
}


@pytest.fixture
async def readers(tmp_path: Path) -> AsyncIterator[Services]:
    """The services in this process, on the store the killed process writes to, with the same bounds."""
    storage = local_storage_settings(tmp_path)
    settings = service_settings(storage).model_copy(
        update={
            "inference": InferenceSettings(
                local_provider_delta_words=1,
                local_provider_delta_delay_ms=DELTA_DELAY_MS,
                turn_checkpoint_seconds=CHECKPOINT_SECONDS,
                turn_abandoned_after_seconds=ABANDONED_AFTER_SECONDS,
            )
        }
    )
    async with open_services(settings) as services:
        yield services


async def stream_until_deltas(url: str, token: str, session_id: str, deltas: int, then: Callable[[], None]) -> str:
    """Stream a turn until `deltas` text deltas arrived, call `then` while the stream is still open (a client that
    hung up first would have the turn store its answer as interrupted itself); the text they carried."""
    seen: list[str] = []
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "POST",
            f"{url}/invocations",
            json={"session_id": session_id, "message": LONG_MESSAGE},
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        assert response.status_code == 200
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "content_block_delta":
                seen.append(json.loads(line.removeprefix("data: "))["text"])
                if len(seen) == deltas:
                    then()
                    return "".join(seen)
    raise AssertionError(f"the turn ended after {len(seen)} deltas")


async def messages_of(services: Services, user: str, session_id: str) -> list[dict[str, Any]]:
    response = await services.app.get(f"/sessions/{session_id}/messages", headers=services.auth(user))
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


async def test_a_killed_inference_process_leaves_the_answer_the_user_saw(readers: Services) -> None:
    user, session_id = random_user_id(), random_session_id()
    process, url = start_inference(readers.settings.storage.data_dir, SLOW_TURNS)
    try:
        seen = await stream_until_deltas(
            url, readers.token(user), session_id, deltas=5, then=lambda: process.send_signal(signal.SIGKILL)
        )
        process.wait(timeout=10)
        killed_at = time.monotonic()
    finally:
        process.kill()

    right_after = await messages_of(readers, user, session_id)
    await asyncio.sleep(max(0.0, ABANDONED_AFTER_SECONDS + 0.3 - (time.monotonic() - killed_at)))
    settled = await messages_of(readers, user, session_id)

    assert [message["role"] for message in settled] == ["user", "assistant"]
    # Within the bound, nobody can tell a dead process from a slow one: the answer stays as it was written.
    assert right_after[1]["status"] == "streaming"
    answer = settled[1]
    assert answer["status"] == "interrupted"
    stored = answer["content"][0]["text"]
    assert seen.startswith(stored), (seen, stored)
    words_lost = len(seen.split()) - len(stored.split())
    assert words_lost <= round(CHECKPOINT_SECONDS * 1000 / DELTA_DELAY_MS) + 1, (seen, stored)
    session = (await readers.app.get(f"/sessions/{session_id}/metadata", headers=readers.auth(user))).json()
    assert session["messageCount"] == 2


async def test_a_live_turn_outlasting_the_bound_is_never_settled_by_readers(readers: Services) -> None:
    user, session_id = random_user_id(), random_session_id()
    body = {"session_id": session_id, "message": " ".join(f"w{index}" for index in range(30))}
    turn = asyncio.create_task(readers.inference.post("/invocations", json=body, headers=readers.auth(user)))
    statuses: set[str] = set()
    while not turn.done():
        await asyncio.sleep(0.25)
        listed = await readers.app.get(f"/sessions/{session_id}/messages", headers=readers.auth(user))
        if listed.status_code == 200:
            statuses.update(message["status"] for message in listed.json()["messages"][1:])

    response = await turn
    final = await messages_of(readers, user, session_id)

    assert response.status_code == 200
    assert "streaming" in statuses, "the answer was durable while it streamed"
    assert "interrupted" not in statuses
    assert [message["status"] for message in final] == ["complete", "complete"]
    assert "w29" in final[1]["content"][0]["text"]
