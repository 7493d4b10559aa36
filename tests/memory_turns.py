"""What the memory-in-the-turn tests share: both services over the OpenAI fake with chosen memory settings, turns
through HTTP, waiting for the turns' background work, and reading what the model was sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from apis.shared.clock import new_id, now_iso
from apis.shared.config import MemorySettings, ProviderSettings, StorageSettings
from apis.shared.memory import MemoryKind, MemoryRecord
from apis.shared.storage import Storage, initialize_storage
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.server import RunningFake
from tests.fixtures.providers import PRICES
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, parse_sse

MODEL = "gpt-fake"
# The turn's tracked tasks: the turn itself, then its background work once it has sent `done`.
TURN_TASKS = frozenset({"chat-turn", "after-turn"})


def memory_settings(**changes: Any) -> MemorySettings:
    """The defaults, whatever the environment says, with `changes`."""
    return MemorySettings.model_construct(**{**MemorySettings.model_construct().model_dump(), **changes})


@asynccontextmanager
async def openai_services(
    tmp_path: Path,
    openai_fake: RunningFake[FakeOpenAIState],
    *,
    memory: MemorySettings | None = None,
    storage: StorageSettings | None = None,
) -> AsyncIterator[Services]:
    """Both services (on the local backend unless `storage` says otherwise), OpenAI on its fake, and the managed
    model `gpt-fake` on it."""
    providers = ProviderSettings.model_construct(
        openai_api_key="sk-fake", openai_base_url=openai_fake.url, provider_timeout_seconds=10.0
    )
    storage = storage or local_storage_settings(tmp_path)
    await initialize_storage(storage)
    settings = service_settings(storage).model_copy(
        update={"providers": providers, "memory": memory or memory_settings()}
    )
    async with open_services(settings) as services:
        await add_model(services, MODEL)
        yield services


async def add_model(services: Services, model_id: str, **fields: Any) -> None:
    admin = services.auth_as("root", roles=["admin"])
    body = {"modelId": model_id, "modelName": model_id, "provider": "openai", **PRICES, **fields}
    created = await services.app.post("/admin/managed-models", json=body, headers=admin)
    assert created.status_code == 201, created.text


def storage_of(services: Services) -> Storage:
    storage: Storage = services.inference_asgi.state.storage
    return storage


async def background_settled() -> None:
    """Wait until every turn and its background work (titles, memory) has finished: on the tasks, not a clock."""
    while pending := {task for task in asyncio.all_tasks() if task.get_name() in TURN_TASKS and not task.done()}:
        await asyncio.wait(pending)


async def chat(
    services: Services, user_id: str, session_id: str, message: str, *, model: str = MODEL, **body: Any
) -> list[tuple[str, dict[str, Any]]]:
    """One turn through HTTP, its background work finished; its events (it must have ended with `done`)."""
    response = await services.inference.post(
        "/invocations",
        json={"session_id": session_id, "message": message, "model_id": model, **body},
        headers=services.auth(user_id),
    )
    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    assert events[-1][0] == "done", response.text
    assert "stream_error" not in [name for name, _ in events], response.text
    await background_settled()
    return events


def system_prompt_sent(body: dict[str, Any]) -> str:
    """The system message of a chat-completions body, as text."""
    system = next(message for message in body["messages"] if message["role"] == "system")
    content = system["content"]
    return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)


def context_sent(body: dict[str, Any]) -> str:
    """Everything the model was given, as one string."""
    return json.dumps(body["messages"], ensure_ascii=False)


async def records_of(services: Services, user_id: str, *kinds: MemoryKind) -> list[MemoryRecord]:
    wanted = list(kinds) or [MemoryKind.PREFERENCE, MemoryKind.FACT]
    return await storage_of(services).memories.list_records(user_id, wanted, limit=1000)


def fact_record(user_id: str, content: str, *, subject: str) -> MemoryRecord:
    """A fact as extraction would store it."""
    moment = now_iso()
    return MemoryRecord(
        record_id=new_id(),
        user_id=user_id,
        kind=MemoryKind.FACT,
        content=content,
        subject=subject,
        created_at=moment,
        updated_at=moment,
    )
