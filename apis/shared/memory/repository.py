"""The storage port of long-term memory; one implementation per backend under apis/shared/storage/ (and Amazon
Bedrock AgentCore Memory as an option).

Every method takes the owner's `user_id` first: a record is only ever read, changed or deleted through its owner,
so another user's record id is simply "no such record" (404 at the routes). A user holds at most
MEMORY_MAX_RECORDS_PER_USER records per kind (the oldest go first), so reading all of one user's records of a kind
is a bounded read of their own partition, never a scan. Failures raise StorageError; None or False mean only
"no such record".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from apis.shared.memory.models import MemoryKind, MemoryRecord

# MEMORY_MAX_RECORDS_PER_USER's default, for callers that add without the settings at hand (tests, tools).
DEFAULT_MAX_PER_KIND = 1000


class MemoryRepository(Protocol):
    async def add(self, record: MemoryRecord, *, max_per_kind: int = DEFAULT_MAX_PER_KIND) -> MemoryRecord:
        """Store a new record (its id is new) and return it as stored: AgentCore Memory gives it an id of its own.
        If the user then holds more than `max_per_kind` records of its kind, the oldest of them go in the same
        atomic write (MEMORY_MAX_RECORDS_PER_USER; the service passes it). AgentCore Memory, which has no
        transactions, trims right after instead (storage/agentcore/memories.py)."""
        ...

    async def replace(self, user_id: str, old_record_id: str, record: MemoryRecord) -> MemoryRecord | None:
        """Store `record` and remove `old_record_id` in one atomic write (a contradiction or a merge): the record as
        stored (a backend may give it its own id, as `add`), or None, and nothing written, if the old record is
        gone. The count of a kind does not grow, so nothing is trimmed."""
        ...

    async def get(self, user_id: str, record_id: str) -> MemoryRecord | None: ...

    async def list_records(
        self, user_id: str, kinds: Sequence[MemoryKind], *, limit: int, session_id: str | None = None
    ) -> list[MemoryRecord]:
        """The user's records of `kinds` (of one source session if given), newest first, at most `limit`."""
        ...

    async def delete(self, user_id: str, record_id: str) -> bool:
        """Remove the user's record; False if they have none with this id."""
        ...

    async def opted_out(self, user_id: str) -> bool:
        """Whether the user turned memory off for themselves."""
        ...

    async def set_opted_out(self, user_id: str, opted_out: bool) -> None: ...
