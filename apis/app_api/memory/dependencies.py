"""The memory routes' dependencies: the repository, and the deployment switch every route but the status checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from apis.app_api.deps import AppSettings, CurrentUser
from apis.shared.memory import MemoryRepository, MemoryUnavailable
from apis.shared.memory import service as memory_service
from apis.shared.storage import Storage


async def get_memories(request: Request) -> MemoryRepository:
    storage: Storage = request.app.state.storage
    return storage.memories


async def memory_on(caller: CurrentUser, settings: AppSettings) -> None:
    """503 `memory_unavailable` when this deployment switched memory off, once the caller is known (401 first)."""
    if not memory_service.enabled(settings.memory):
        raise MemoryUnavailable()


MemoriesRepo = Annotated[MemoryRepository, Depends(get_memories)]
MemoryOn = Depends(memory_on)
