"""MemoryRepository over an Amazon Bedrock AgentCore Memory (MEMORY_BACKEND=agentcore), through the AWS SDK.

    preference  namespace /colloquy/{user}/preference
    fact        namespace /colloquy/{user}/fact
    summary     namespace /colloquy/{user}/summary/{session}   (`_` for a summary of no session)

`{user}` and `{session}` are the ids with every character but letters, digits and `-` written `_xx` (its UTF-8
bytes in hex), so any id makes a valid namespace and two ids never share one. A record is created with
BatchCreateMemoryRecords (its content as the text; kind, session, subject, times and our own id as metadata,
which AgentCore limits to 256 characters of a small alphabet: the subject is kept base64url-encoded, cut to
192 bytes, and the record's own metadata likewise when it fits, else left out; `add` and `replace` return the
record as kept), listed with ListMemoryRecords page by page,
read with GetMemoryRecord and deleted with DeleteMemoryRecord. AgentCore assigns the record ids (`mem-...`).

A record is the caller's only if its namespace is under theirs: another user's id answers None, as a missing one.
AgentCore has no transactions, so two writes here are not atomic: `replace` creates the new record and then
deletes the old (and deletes the new one again if the old was gone meanwhile), and `add` trims the kind's oldest
records past `max_per_kind` after creating, so concurrent adds may leave a user above the cap until their next add.
Searching stays lexical over the listed records (memory/relevance.py), so scores mean the same on every backend.
The per-user switch is kept by the store STORAGE_BACKEND picks (`switches`): AgentCore has no place for it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from apis.shared.clock import to_iso
from apis.shared.errors import StorageError
from apis.shared.memory.models import MemoryKind, MemoryRecord
from apis.shared.memory.repository import DEFAULT_MAX_PER_KIND, MemoryRepository
from apis.shared.storage.agentcore.client import AgentCoreMemory
from apis.shared.storage.records import read_or_raise, read_or_skip

KIND = "memory"
ROOT = "/colloquy"
NO_SESSION = "_"
PAGE = 100  # ListMemoryRecords' largest page
_RECORD_ID = re.compile(r"^mem-[a-zA-Z0-9_-]{36,46}$")
_KEEP = re.compile(r"[a-zA-Z0-9-]")
_MAX_METADATA_VALUE = 256
# The most UTF-8 bytes whose base64url encoding fits one metadata value.
_MAX_SUBJECT_BYTES = _MAX_METADATA_VALUE // 4 * 3


def escape(value: str) -> str:
    """`value` in a namespace's alphabet: letters, digits and `-` as they are, every other byte as `_xx`."""
    return "".join(
        char if _KEEP.fullmatch(char) else "".join(f"_{byte:02x}" for byte in char.encode()) for char in value
    )


def unescape(value: str) -> str:
    return bytes(
        int(part[1:3], 16) if part.startswith("_") else ord(part) for part in re.findall(r"_[0-9a-f]{2}|.", value)
    ).decode()


def user_root(user_id: str) -> str:
    return f"{ROOT}/{escape(user_id)}"


def namespace(user_id: str, kind: MemoryKind, session_id: str | None = None) -> str:
    """Where `user_id`'s records of `kind` live (a summary's: under its session)."""
    base = f"{user_root(user_id)}/{kind.value}"
    if kind is not MemoryKind.SUMMARY:
        return base
    return f"{base}/{escape(session_id) if session_id else NO_SESSION}"


def _encoded(value: str) -> str | None:
    text = base64.urlsafe_b64encode(value.encode()).decode()
    return text if len(text) <= _MAX_METADATA_VALUE else None


def _decoded(value: str) -> str:
    return base64.urlsafe_b64decode(value.encode()).decode()


def storable(record: MemoryRecord) -> MemoryRecord:
    """`record` as AgentCore's metadata can hold it: a subject of at most _MAX_SUBJECT_BYTES (cut at a character),
    the record's own metadata only if it fits one value (else none)."""
    subject = record.subject
    if subject is not None:
        subject = subject.encode()[:_MAX_SUBJECT_BYTES].decode(errors="ignore") or None
    metadata = record.metadata
    if metadata and _encoded(json.dumps(metadata, separators=(",", ":"))) is None:
        metadata = {}
    return record.model_copy(update={"subject": subject, "metadata": metadata})


def _metadata(record: MemoryRecord) -> dict[str, dict[str, str]]:
    """The metadata of a `storable` record (every value fits)."""
    values = {
        "kind": record.kind.value,
        "colloquyId": record.record_id,
        "createdAt": record.created_at,
        "updatedAt": record.updated_at,
    }
    if record.source_session_id:
        values["session"] = escape(record.source_session_id)
    if record.subject and (subject := _encoded(record.subject)):
        values["subject"] = subject
    if record.metadata and (extra := _encoded(json.dumps(record.metadata, separators=(",", ":")))):
        values["extra"] = extra
    return {name: {"stringValue": value} for name, value in values.items()}


def _strings(metadata: dict[str, Any] | None) -> dict[str, str]:
    return {name: str(value["stringValue"]) for name, value in (metadata or {}).items() if "stringValue" in value}


def _time(value: Any) -> str | None:
    return to_iso(value) if isinstance(value, datetime) else None


def record_of(user_id: str, summary: dict[str, Any]) -> MemoryRecord:
    """A record as AgentCore answers it (a summary of a list, or GetMemoryRecord's), for its owner; ValueError
    (pydantic's) if it is not one that can be read back."""
    values = _strings(summary.get("metadata"))
    created = values.get("createdAt") or _time(summary.get("timestamp")) or _time(summary.get("createdAt"))
    spaces = summary.get("namespaces") or [""]
    kind = values.get("kind") or str(spaces[0]).removeprefix(user_root(user_id) + "/").split("/")[0]
    return MemoryRecord.model_validate(
        {
            "record_id": summary.get("memoryRecordId"),
            "user_id": user_id,
            "kind": kind,
            "content": (summary.get("content") or {}).get("text"),
            "subject": _decoded(values["subject"]) if "subject" in values else None,
            "source_session_id": unescape(values["session"]) if "session" in values else None,
            "created_at": created,
            "updated_at": values.get("updatedAt") or created,
            "metadata": json.loads(_decoded(values["extra"])) if "extra" in values else {},
        }
    )


def _newest_first(record: MemoryRecord) -> tuple[str, str]:
    return record.created_at, record.record_id


class AgentCoreMemoryRepository:
    """Records in one AgentCore Memory, the switch in `switches`; see the module docstring."""

    def __init__(self, memory: AgentCoreMemory, switches: MemoryRepository) -> None:
        self._memory = memory
        self._switches = switches

    def _owned(self, user_id: str, summary: dict[str, Any]) -> bool:
        spaces = [str(space) for space in summary.get("namespaces", [])]
        return bool(spaces) and spaces[0].startswith(user_root(user_id) + "/")

    async def _create(self, user_id: str, given: MemoryRecord) -> MemoryRecord:
        record = storable(given)
        entry = {
            "requestIdentifier": record.record_id,
            "namespaces": [namespace(user_id, record.kind, record.source_session_id)],
            "content": {"text": record.content},
            "timestamp": datetime.fromisoformat(record.created_at),
            "metadata": _metadata(record),
        }
        answer = await self._memory.call("batch_create_memory_records", records=[entry], clientToken=record.record_id)
        created = answer.get("successfulRecords") or []
        if not created:
            failed = (answer.get("failedRecords") or [{}])[0]
            raise StorageError(
                f"{self._memory.resource} did not store a record ({failed.get('errorCode')}):"
                " the service log has the details"
            )
        return record.model_copy(update={"record_id": created[0]["memoryRecordId"]})

    async def _list(self, user_id: str, kind: MemoryKind, session_id: str | None) -> list[MemoryRecord]:
        where: dict[str, str]
        if kind is MemoryKind.SUMMARY and session_id is not None:
            where = {"namespace": namespace(user_id, kind, session_id)}
        elif kind is MemoryKind.SUMMARY:
            where = {"namespacePath": f"{user_root(user_id)}/{kind.value}/"}
        else:
            where = {"namespace": namespace(user_id, kind)}
        found: list[MemoryRecord] = []
        token: str | None = None
        while True:
            page = await self._memory.call(
                "list_memory_records", maxResults=PAGE, **where, **({"nextToken": token} if token else {})
            )
            owned = (summary for summary in page.get("memoryRecordSummaries", []) if self._owned(user_id, summary))
            for summary in owned:
                readable = read_or_skip(KIND, str(summary.get("memoryRecordId")), partial(record_of, user_id, summary))
                if readable is not None and (session_id is None or readable.source_session_id == session_id):
                    found.append(readable)
            token = page.get("nextToken")
            if not token:
                return found

    async def _delete(self, user_id: str, record: MemoryRecord) -> bool:
        answer = await self._memory.call_on_record(
            "delete_memory_record",
            memoryRecordId=record.record_id,
            namespace=namespace(user_id, record.kind, record.source_session_id),
        )
        return answer is not None

    async def add(self, record: MemoryRecord, *, max_per_kind: int = DEFAULT_MAX_PER_KIND) -> MemoryRecord:
        created = await self._create(record.user_id, record)
        mine = sorted(await self._list(record.user_id, record.kind, None), key=_newest_first, reverse=True)
        for old in mine[max_per_kind:]:
            await self._delete(record.user_id, old)
        return created

    async def replace(self, user_id: str, old_record_id: str, record: MemoryRecord) -> MemoryRecord | None:
        old = await self.get(user_id, old_record_id)
        if old is None:
            return None
        created = await self._create(user_id, record)
        if await self._delete(user_id, old):
            return created
        await self._delete(user_id, created)  # the old one went meanwhile: as if nothing was written
        return None

    async def get(self, user_id: str, record_id: str) -> MemoryRecord | None:
        if not _RECORD_ID.fullmatch(record_id):
            return None  # not an id AgentCore makes: no such record, and no call AgentCore would refuse
        answer = await self._memory.call_on_record("get_memory_record", memoryRecordId=record_id)
        if answer is None or not self._owned(user_id, answer["memoryRecord"]):
            return None
        return read_or_raise(KIND, record_id, partial(record_of, user_id, answer["memoryRecord"]))

    async def list_records(
        self, user_id: str, kinds: Sequence[MemoryKind], *, limit: int, session_id: str | None = None
    ) -> list[MemoryRecord]:
        if limit <= 0:
            return []
        found = [record for kind in dict.fromkeys(kinds) for record in await self._list(user_id, kind, session_id)]
        return sorted(found, key=_newest_first, reverse=True)[:limit]

    async def delete(self, user_id: str, record_id: str) -> bool:
        record = await self.get(user_id, record_id)
        return record is not None and await self._delete(user_id, record)

    async def opted_out(self, user_id: str) -> bool:
        return await self._switches.opted_out(user_id)

    async def set_opted_out(self, user_id: str, opted_out: bool) -> None:
        await self._switches.set_opted_out(user_id, opted_out)
