"""Amazon Bedrock AgentCore Memory as the store of long-term memory records (MEMORY_BACKEND=agentcore).

Everything else stays in the store STORAGE_BACKEND picks, the per-user memory switch included; only the records
move. `open_memory_backend` is called by the composition root right after `open_storage`.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import anyio

from apis.shared.config import MemoryBackend, Settings
from apis.shared.storage.base import Storage


async def open_memory_backend(settings: Settings, storage: Storage) -> Storage:
    """`storage` itself, or with its memory records in AgentCore Memory when MEMORY_BACKEND=agentcore."""
    memory = settings.memory
    if memory.memory_backend is MemoryBackend.STORAGE or not memory.agentcore_memory_id:
        return storage
    from apis.shared.storage.agentcore.client import AgentCoreMemory, agentcore_client
    from apis.shared.storage.agentcore.memories import AgentCoreMemoryRepository

    # Building a client reads botocore's service model from disk: off the event loop.
    client = await anyio.to_thread.run_sync(
        partial(agentcore_client, settings.storage.aws_region, memory.agentcore_memory_endpoint_url)
    )
    records = AgentCoreMemoryRepository(AgentCoreMemory(client, memory.agentcore_memory_id), storage.memories)
    close_storage = storage.close

    async def close() -> None:
        try:
            await anyio.to_thread.run_sync(client.close)
        finally:
            await close_storage()

    return dataclasses.replace(storage, memories=records, close=close)


__all__ = ["open_memory_backend"]
