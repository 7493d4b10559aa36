"""A stub of Amazon Bedrock AgentCore Memory's record operations, for the real boto3 `bedrock-agentcore` client.

moto covers AgentCore's events only, so the memory records' REST-JSON operations are served here, as the
service model (botocore's `bedrock-agentcore` 2024-02-28) defines them:

    POST   /memories/{memoryId}/memoryRecords/batchCreate      BatchCreateMemoryRecords  201
    POST   /memories/{memoryId}/memoryRecords                  ListMemoryRecords         200
    POST   /memories/{memoryId}/retrieve                       RetrieveMemoryRecords     200 (words in common)
    GET    /memories/{memoryId}/memoryRecord/{memoryRecordId}  GetMemoryRecord           200
    DELETE /memories/{memoryId}/memoryRecords/{memoryRecordId} DeleteMemoryRecord        200

Timestamps travel as epoch seconds; errors as `x-amzn-ErrorType` with a `message` body. What AgentCore would
refuse is refused here too (ValidationException, 400): a namespace outside its alphabet, a page of more than 100,
content of more than 16,000 characters, more than 20 metadata entries or a metadata string outside its alphabet
or longer than 256. A memory id the stub does not hold, and a record id it does not hold, are 404
ResourceNotFoundException. `clientToken` makes a create idempotent. Lists come back in record-id order, which is
not the order of creation, as AgentCore promises none. `fail_status` makes every request fail (503 or 429).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import serve

MEMORY_ID = "colloquyMemory-a1B2c3D4e5"
_NAMESPACE = re.compile(r"^[a-zA-Z0-9/*][a-zA-Z0-9-_/*]*(?::[a-zA-Z0-9-_/*]+)*[a-zA-Z0-9-_/*]*$")
_METADATA_STRING = re.compile(r"^[a-zA-Z0-9\s._:/=+@-]*$")
_REQUEST_ID = re.compile(r"^[a-zA-Z0-9_-]{1,80}$")
_WORD = re.compile(r"\w+")


@dataclass
class AgentCoreState:
    """What a test reads and sets: the records of each memory, each request's operation, and a failure switch."""

    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {MEMORY_ID: {}})
    operations: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    fail_status: int | None = None
    _tokens: dict[str, dict[str, Any]] = field(default_factory=dict)


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status, headers={"x-amzn-ErrorType": code})


def _invalid(message: str) -> Response:
    return _error(400, "ValidationException", message)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _summary(record: dict[str, Any], score: float | None = None) -> dict[str, Any]:
    summary = {
        "memoryRecordId": record["memoryRecordId"],
        "content": record["content"],
        "memoryStrategyId": record["memoryStrategyId"],
        "namespaces": record["namespaces"],
        "createdAt": _epoch(record["createdAt"]),
        "timestamp": record["timestamp"],
    }
    if record.get("metadata"):
        summary["metadata"] = record["metadata"]
    if score is not None:
        summary["score"] = score
    return summary


def _metadata_problem(metadata: Any) -> str | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not 1 <= len(metadata) <= 20:
        return "metadata must hold 1 to 20 entries"
    for key, value in metadata.items():
        text = value.get("stringValue") if isinstance(value, dict) else None
        if not isinstance(text, str) or not 1 <= len(text) <= 256 or not _METADATA_STRING.match(text):
            return f"metadata {key!r}: stringValue must be 1 to 256 characters of [a-zA-Z0-9\\s._:/=+@-]"
    return None


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "a record must be an object"
    spaces = entry.get("namespaces")
    text = (entry.get("content") or {}).get("text")
    if not isinstance(entry.get("requestIdentifier"), str) or not _REQUEST_ID.match(entry["requestIdentifier"]):
        return "requestIdentifier must match [a-zA-Z0-9_-]{1,80}"
    if not isinstance(spaces, list) or len(spaces) > 1 or not all(_NAMESPACE.match(str(s)) for s in spaces):
        return "namespaces must hold at most one valid namespace"
    if not isinstance(text, str) or not 1 <= len(text) <= 16_000:
        return "content.text must be 1 to 16000 characters"
    if not isinstance(entry.get("timestamp"), int | float):
        return "timestamp is required"
    return _metadata_problem(entry.get("metadata"))


def _in_scope(record: dict[str, Any], body: dict[str, Any]) -> bool:
    spaces = record["namespaces"]
    if "namespace" in body:
        return body["namespace"] in spaces
    path = str(body["namespacePath"]).rstrip("/")
    return any(space == path or str(space).startswith(path + "/") for space in spaces)


def _scope_problem(body: dict[str, Any]) -> str | None:
    where = [body[name] for name in ("namespace", "namespacePath") if name in body]
    if len(where) != 1:
        return "either namespace or namespacePath is required"
    if not isinstance(where[0], str) or not 1 <= len(where[0]) <= 1024 or not _NAMESPACE.match(where[0]):
        return "namespace does not match the namespace pattern"
    if not 1 <= int(body.get("maxResults", 20)) <= 100:
        return "maxResults must be 1 to 100"
    return None


def agentcore_app(state: AgentCoreState) -> Starlette:
    """The stub's routes over `state`."""

    async def guard(request: Request, operation: str) -> tuple[dict[str, dict[str, Any]] | None, Response | None]:
        state.operations.append(operation)
        state.authorizations.append(request.headers.get("authorization", ""))
        if state.fail_status == 429:
            return None, _error(429, "ThrottledException", "slow down")
        if state.fail_status is not None:
            return None, _error(state.fail_status, "ServiceUnavailableException", "unavailable")
        memory = state.records.get(request.path_params["memoryId"])
        if memory is None:
            return None, _error(404, "ResourceNotFoundException", "memory not found")
        return memory, None

    async def batch_create(request: Request) -> Response:
        memory, refusal = await guard(request, "BatchCreateMemoryRecords")
        if refusal or memory is None:
            return refusal or _invalid("no memory")
        body = await request.json()
        token = body.get("clientToken")
        if token and token in state._tokens:
            return JSONResponse(state._tokens[token], status_code=201)
        entries = body.get("records")
        if not isinstance(entries, list) or len(entries) > 100:
            return _invalid("records must hold at most 100 entries")
        for entry in entries:
            if problem := _entry_problem(entry):
                return _invalid(problem)
        succeeded = []
        for entry in entries:
            record_id = f"mem-{uuid.uuid4()}"
            memory[record_id] = {
                "memoryRecordId": record_id,
                "content": {"text": entry["content"]["text"]},
                "memoryStrategyId": entry.get("memoryStrategyId", "custom"),
                "namespaces": entry["namespaces"],
                "createdAt": datetime.now(UTC),
                "timestamp": entry["timestamp"],
                "metadata": entry.get("metadata"),
            }
            succeeded.append(
                {"memoryRecordId": record_id, "status": "SUCCEEDED", "requestIdentifier": entry["requestIdentifier"]}
            )
        answer = {"successfulRecords": succeeded, "failedRecords": []}
        if token:
            state._tokens[token] = answer
        return JSONResponse(answer, status_code=201)

    async def list_records(request: Request) -> Response:
        memory, refusal = await guard(request, "ListMemoryRecords")
        if refusal or memory is None:
            return refusal or _invalid("no memory")
        body = await request.json()
        if problem := _scope_problem(body):
            return _invalid(problem)
        matching = [memory[key] for key in sorted(memory) if _in_scope(memory[key], body)]
        start, size = int(body.get("nextToken") or 0), int(body.get("maxResults", 20))
        answer: dict[str, Any] = {"memoryRecordSummaries": [_summary(r) for r in matching[start : start + size]]}
        if start + size < len(matching):
            answer["nextToken"] = str(start + size)
        return JSONResponse(answer)

    async def retrieve(request: Request) -> Response:
        memory, refusal = await guard(request, "RetrieveMemoryRecords")
        if refusal or memory is None:
            return refusal or _invalid("no memory")
        body = await request.json()
        query = str((body.get("searchCriteria") or {}).get("searchQuery") or "")
        if problem := _scope_problem(body) or (None if query else "searchCriteria.searchQuery is required"):
            return _invalid(problem)
        wanted = set(_WORD.findall(query.lower()))
        scored = []
        for record in (memory[key] for key in sorted(memory) if _in_scope(memory[key], body)):
            words = set(_WORD.findall(record["content"]["text"].lower()))
            if shared := wanted & words:
                scored.append((len(shared) / len(wanted), record))
        scored.sort(key=lambda pair: -pair[0])
        top = int((body.get("searchCriteria") or {}).get("topK", 10))
        return JSONResponse({"memoryRecordSummaries": [_summary(r, score) for score, r in scored[:top]]})

    async def get_record(request: Request) -> Response:
        memory, refusal = await guard(request, "GetMemoryRecord")
        if refusal or memory is None:
            return refusal or _invalid("no memory")
        record = memory.get(request.path_params["recordId"])
        if record is None:
            return _error(404, "ResourceNotFoundException", "memory record not found")
        return JSONResponse({"memoryRecord": _summary(record)})

    async def delete_record(request: Request) -> Response:
        memory, refusal = await guard(request, "DeleteMemoryRecord")
        if refusal or memory is None:
            return refusal or _invalid("no memory")
        record_id = request.path_params["recordId"]
        if memory.pop(record_id, None) is None:
            return _error(404, "ResourceNotFoundException", "memory record not found")
        return JSONResponse({"memoryRecordId": record_id})

    return Starlette(
        routes=[
            Route("/memories/{memoryId}/memoryRecords/batchCreate", batch_create, methods=["POST"]),
            Route("/memories/{memoryId}/memoryRecords", list_records, methods=["POST"]),
            Route("/memories/{memoryId}/retrieve", retrieve, methods=["POST"]),
            Route("/memories/{memoryId}/memoryRecord/{recordId}", get_record, methods=["GET"]),
            Route("/memories/{memoryId}/memoryRecords/{recordId}", delete_record, methods=["DELETE"]),
        ]
    )


@contextmanager
def running_agentcore(state: AgentCoreState | None = None) -> Iterator[tuple[str, AgentCoreState]]:
    """Serve the stub on a loopback port; yields its URL and its state."""
    state = state or AgentCoreState()
    with serve(agentcore_app(state)) as url:
        yield url, state
