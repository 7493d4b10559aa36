"""Deleting a conversation deletes its memory summaries (they describe it), never the user's facts."""

from __future__ import annotations

from apis.shared.clock import new_id, now_iso
from apis.shared.memory import MemoryKind, MemoryRecord
from apis.shared.storage import Storage
from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id


def record(user_id: str, kind: MemoryKind, session_id: str, content: str) -> MemoryRecord:
    now = now_iso()
    return MemoryRecord(
        record_id=new_id(),
        user_id=user_id,
        kind=kind,
        content=content,
        source_session_id=session_id,
        created_at=now,
        updated_at=now,
    )


async def test_deleting_a_session_forgets_its_summaries_and_keeps_facts(services: Services) -> None:
    storage: Storage = services.app_asgi.state.storage
    user_id = random_user_id()
    headers = services.auth(user_id)
    gone, kept = random_session_id(), random_session_id()
    for session_id in (gone, kept):
        created = await services.app.put(f"/sessions/{session_id}/metadata", json={"title": "t"}, headers=headers)
        assert created.status_code == 200
        await storage.memories.add(record(user_id, MemoryKind.SUMMARY, session_id, f"summary of {session_id}"))
    fact = await storage.memories.add(record(user_id, MemoryKind.FACT, gone, "The team deploys on Fridays."))

    deleted = await services.app.delete(f"/sessions/{gone}", headers=headers)
    bulk = await services.app.post("/sessions/bulk-delete", json={"sessionIds": [kept]}, headers=headers)

    assert deleted.status_code == 204
    assert bulk.json()["deletedCount"] == 1
    left = await storage.memories.list_records(user_id, list(MemoryKind), limit=100)
    assert [item.record_id for item in left] == [fact.record_id]
