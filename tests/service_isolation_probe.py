"""Run by tests/test_service_isolation.py in a process of its own: start one service with the other service's
code and dependencies made unimportable, as in that service's own image, and exercise it through HTTP.

Usage: python -m tests.service_isolation_probe app|inference DATA_DIR
"""

from __future__ import annotations

import asyncio
import base64
import importlib.abc
import importlib.machinery
import io
import sys
import types
import zipfile
from collections.abc import Sequence
from pathlib import Path

import httpx

# What each service's image leaves out (see deploy/*.Dockerfile and the extras in pyproject.toml).
ABSENT = {
    # The app image carries the document libraries: it ingests assistants' knowledge bases.
    "app": ("apis.inference_api",),
    "inference": ("apis.app_api",),
}


class Absent(importlib.abc.MetaPathFinder):
    """Makes the named packages fail to import, as if they were not installed."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = names

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if any(fullname == name or fullname.startswith(f"{name}.") for name in self.names):
            raise ModuleNotFoundError(f"No module named {fullname!r} (absent from this image)", name=fullname)
        return None


async def exercise(service: str, data_dir: Path) -> None:
    # Imported here, after the blocker is in place, as a service's own start would import them.
    from apis.shared.auth import mint_local_token
    from apis.shared.config import AuthMode, AuthSettings, ProviderSettings, Settings
    from tests.helpers import local_storage_settings

    settings = Settings(
        storage=local_storage_settings(data_dir),
        auth=AuthSettings(auth_mode=AuthMode.LOCAL),
        providers=ProviderSettings.model_construct(),
    )
    if service == "app":
        from apis.app_api.main import create_app
    else:
        from apis.inference_api.main import create_app
    app = create_app(settings)
    token = mint_local_token(settings=settings.auth, data_dir=data_dir, user_id="probe")
    headers = {"Authorization": f"Bearer {token}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            if service == "app":
                await check_app(client, headers)
            else:
                await check_inference(client, headers)


async def check_app(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/sessions", headers=headers)).status_code == 200
    # A DOCX is checked by its zip members, with no document library in this image.
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as docx:
        docx.writestr("[Content_Types].xml", "<Types/>")
        docx.writestr("word/document.xml", "<document/>")
    data = archive.getvalue()
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    presign = {"sessionId": "probe-files", "filename": "notes.docx", "mimeType": mime, "sizeBytes": len(data)}
    presigned = (await client.post("/files/presign", json=presign, headers=headers)).json()
    put = await client.put(presigned["uploadUrl"], content=data, headers={"Content-Type": mime})
    assert put.status_code == 200, put.text
    completed = await client.post(f"/files/{presigned['uploadId']}/complete", headers=headers)
    assert completed.status_code == 200, completed.text
    await check_ingestion(client, headers)


async def check_ingestion(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """A Word document in an assistant's knowledge base is read, chunked and indexed in this image."""
    from docx import Document

    buffer = io.BytesIO()
    document = Document()
    document.add_paragraph("The probe's knowledge base says hello.")
    document.save(buffer)
    data = buffer.getvalue()
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assistant = (await client.post("/assistants", json={"name": "Probe"}, headers=headers)).json()
    base = f"/assistants/{assistant['assistantId']}/documents"
    upload_body = {"filename": "probe.docx", "contentType": mime, "sizeBytes": len(data)}
    upload = (await client.post(f"{base}/upload-url", json=upload_body, headers=headers)).json()
    put = await client.put(upload["uploadUrl"], content=data, headers={"Content-Type": mime})
    assert put.status_code == 200, put.text
    for _ in range(500):
        status = (await client.get(f"{base}/{upload['documentId']}", headers=headers)).json()
        if status["status"] in ("complete", "failed"):
            break
        await asyncio.sleep(0.01)
    assert status["status"] == "complete", status


async def check_inference(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    assert (await client.get("/ping")).status_code == 200
    body = {
        "session_id": "probe-session",
        "message": "hello",
        "files": [{"filename": "a.txt", "content_type": "text/plain", "bytes": base64.b64encode(b"hi").decode()}],
    }
    response = await client.post("/invocations", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert "event: done" in response.text


def main() -> None:
    service, data_dir = sys.argv[1], Path(sys.argv[2])
    sys.meta_path.insert(0, Absent(ABSENT[service]))
    asyncio.run(exercise(service, data_dir))
    sys.stdout.write(f"{service} ok\n")


if __name__ == "__main__":
    main()
