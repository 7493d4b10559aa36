"""Helpers for tests of assistants' knowledge bases through HTTP: create an assistant, upload its documents
(upload URL, PUT, then the status poll the reference client makes) and read what the index holds."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.attachments import put_bytes
from tests.fixtures.services import Services

MARKDOWN = "text/markdown"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"


async def new_assistant(services: Services, owner: str, **fields: Any) -> str:
    body = {"name": "Handbook", "instructions": "Answer from the handbook.", "visibility": "PRIVATE", **fields}
    response = await services.app.post("/assistants", json=body, headers=services.auth(owner))
    assert response.status_code == 200, response.text
    assistant_id: str = response.json()["assistantId"]
    return assistant_id


async def request_upload(
    services: Services, owner: str, assistant_id: str, filename: str, content_type: str, size: int
) -> dict[str, Any]:
    response = await services.app.post(
        f"/assistants/{assistant_id}/documents/upload-url",
        json={"filename": filename, "contentType": content_type, "sizeBytes": size},
        headers=services.auth(owner),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def poll_document(
    services: Services, owner: str, assistant_id: str, document_id: str, *, attempts: int = 400
) -> dict[str, Any]:
    """Poll the status as the reference client does, until complete or failed (bounded)."""
    for _ in range(attempts):
        response = await services.app.get(
            f"/assistants/{assistant_id}/documents/{document_id}", headers=services.auth(owner)
        )
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        if document["status"] in ("complete", "failed"):
            return document
        await asyncio.sleep(0.02)
    raise AssertionError(f"document {document_id} never finished: {document}")


async def add_document(
    services: Services, owner: str, assistant_id: str, filename: str, content_type: str, data: bytes
) -> dict[str, Any]:
    """Upload a document and wait for its ingestion; its final record."""
    upload = await request_upload(services, owner, assistant_id, filename, content_type, len(data))
    put = await put_bytes(services, upload["uploadUrl"], data, content_type)
    assert put.status_code == 200, put.text
    return await poll_document(services, owner, assistant_id, upload["documentId"])
