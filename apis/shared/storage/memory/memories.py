"""A dict-backed MemoryRepository: the fake that service tests use, held to the same contract suite."""

from __future__ import annotations

from collections.abc import Sequence

from apis.shared.memory.models import MemoryKind, MemoryRecord
from apis.shared.memory.repository import DEFAULT_MAX_PER_KIND


class InMemoryMemoryRepository:
    """Each user's records by id, and who opted out, in one process."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, MemoryRecord]] = {}
        self._opted_out: set[str] = set()

    def _trim(self, user_id: str, kind: MemoryKind, max_per_kind: int) -> None:
        mine = self._records.get(user_id, {})
        of_kind = sorted(record_id for record_id, record in mine.items() if record.kind is kind)
        for record_id in of_kind[: max(0, len(of_kind) - max_per_kind)]:
            del mine[record_id]

    async def add(self, record: MemoryRecord, *, max_per_kind: int = DEFAULT_MAX_PER_KIND) -> MemoryRecord:
        self._records.setdefault(record.user_id, {})[record.record_id] = record
        self._trim(record.user_id, record.kind, max_per_kind)
        return record

    async def replace(self, user_id: str, old_record_id: str, record: MemoryRecord) -> MemoryRecord | None:
        mine = self._records.get(user_id, {})
        if old_record_id not in mine:
            return None
        del mine[old_record_id]
        mine[record.record_id] = record
        return record

    async def get(self, user_id: str, record_id: str) -> MemoryRecord | None:
        return self._records.get(user_id, {}).get(record_id)

    async def list_records(
        self, user_id: str, kinds: Sequence[MemoryKind], *, limit: int, session_id: str | None = None
    ) -> list[MemoryRecord]:
        wanted = set(kinds)
        found = [
            record
            for record in self._records.get(user_id, {}).values()
            if record.kind in wanted and (session_id is None or record.source_session_id == session_id)
        ]
        found.sort(key=lambda record: record.record_id, reverse=True)
        return found[:limit]

    async def delete(self, user_id: str, record_id: str) -> bool:
        return self._records.get(user_id, {}).pop(record_id, None) is not None

    async def opted_out(self, user_id: str) -> bool:
        return user_id in self._opted_out

    async def set_opted_out(self, user_id: str, opted_out: bool) -> None:
        if opted_out:
            self._opted_out.add(user_id)
        else:
            self._opted_out.discard(user_id)
