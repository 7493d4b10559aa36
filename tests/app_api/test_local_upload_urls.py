"""The local backend's signed upload route: the URL is the credential, so forged, expired or reused ones fail."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from apis.app_api.main import create_app
from apis.shared.auth import load_or_create_key_pair, mint_local_token
from apis.shared.clock import utc_now
from apis.shared.config import FilesSettings
from apis.shared.errors import StorageError
from apis.shared.files import BlobStore, FileRecord, FileRepository, attachment_key
from apis.shared.files.upload_tokens import UploadGrant, UploadTokens
from apis.shared.storage import Storage, initialize_storage
from tests.attachments import put_bytes, tiny_png
from tests.fixtures.services import Services, live_server, open_services, service_settings
from tests.helpers import local_storage_settings, random_session_id, random_user_id

PNG = tiny_png()


async def presigned_png(services: Services, user_id: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    body = {"sessionId": random_session_id(), "filename": "a.png", "mimeType": "image/png", "sizeBytes": len(PNG)}
    response = await services.app.post(
        "/files/presign", json=body, headers={**services.auth(user_id), **(headers or {})}
    )
    assert response.status_code == 200, response.text
    presigned: dict[str, str] = response.json()
    assert presigned["uploadUrl"].startswith("/files/uploads/"), "the earlier field keeps its earlier meaning"
    assert presigned["presignedUrl"].endswith(presigned["uploadUrl"])
    return presigned


async def test_an_altered_or_foreign_upload_url_is_403(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    presigned = await presigned_png(services, user)
    token = presigned["presignedUrl"].removeprefix("http://app/files/uploads/")
    altered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    for url in (f"/files/uploads/{altered}", "/files/uploads/not-a-token", f"/files/uploads/{services.token(user)}"):
        response = await put_bytes(services, url, PNG, "image/png")
        assert response.status_code == 403, url
        assert response.json()["code"] == "upload_url_invalid"
    missing = await services.app.post(f"/files/{presigned['uploadId']}/complete", headers=services.auth(user))
    assert missing.json()["code"] == "file_bytes_missing", "nothing was written through the bad URLs"


async def test_an_expired_upload_url_is_403(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    presigned = await presigned_png(services, user)
    tokens = UploadTokens(
        load_or_create_key_pair(services.settings.storage.data_dir),
        issuer=services.settings.auth.local_token_issuer,
    )
    grant = UploadGrant(user_id=user, upload_id=presigned["uploadId"], size_bytes=len(PNG), mime_type="image/png")
    expired = tokens.issue(grant, expires_at=utc_now() - timedelta(minutes=5))

    response = await put_bytes(services, f"/files/uploads/{expired}", PNG, "image/png")

    assert response.status_code == 403


async def test_more_bytes_than_declared_are_refused(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    presigned = await presigned_png(services, user)

    response = await put_bytes(services, presigned["presignedUrl"], PNG + b"extra", "image/png")

    assert response.status_code == 413
    missing = await services.app.post(f"/files/{presigned['uploadId']}/complete", headers=services.auth(user))
    assert missing.json()["code"] == "file_bytes_missing"


async def test_a_completed_upload_takes_no_more_bytes(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    presigned = await presigned_png(services, user)
    await put_bytes(services, presigned["presignedUrl"], PNG, "image/png")
    await services.app.post(f"/files/{presigned['uploadId']}/complete", headers=services.auth(user))

    response = await put_bytes(services, presigned["presignedUrl"], b"\x89PNG\r\n\x1a\nother", "image/png")

    assert response.status_code == 409
    downloaded = await services.app.get(f"/files/{presigned['uploadId']}/download", headers=services.auth(user))
    assert downloaded.content == PNG
    assert downloaded.headers["x-content-type-options"] == "nosniff"


async def test_a_deleted_upload_url_is_404(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    presigned = await presigned_png(services, user)
    await services.app.delete(f"/files/{presigned['uploadId']}", headers=services.auth(user))

    response = await put_bytes(services, presigned["presignedUrl"], PNG, "image/png")

    assert response.status_code == 404


class DeletedDuringUpload:
    """A file repository whose record disappears once the upload has read it, as a concurrent delete does."""

    def __init__(self, inner: FileRepository) -> None:
        self.inner = inner
        self.reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get_file(self, user_id: str, upload_id: str) -> FileRecord | None:
        self.reads += 1
        record = await self.inner.get_file(user_id, upload_id)
        if self.reads == 1 and record is not None:
            await self.inner.delete_file(user_id, upload_id)
        return record


async def test_bytes_that_arrive_for_an_upload_deleted_meanwhile_are_not_kept(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    presigned = await presigned_png(services, user)
    storage: Storage = services.app_asgi.state.storage
    racing = DeletedDuringUpload(storage.files)
    services.app_asgi.state.storage = dataclasses.replace(storage, files=racing)
    try:
        response = await put_bytes(services, presigned["presignedUrl"], PNG, "image/png")
    finally:
        services.app_asgi.state.storage = storage

    assert response.status_code == 404
    assert await storage.blobs.get(attachment_key(user, presigned["uploadId"])) is None


class FailingPuts:
    """A blob store whose writes fail as a full disk would; everything else goes through."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        raise StorageError("the local blob store failed to write")


async def test_an_upload_the_store_cannot_write_is_503_and_can_be_sent_again(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    presigned = await presigned_png(services, user)
    storage: Storage = services.app_asgi.state.storage
    services.app_asgi.state.storage = dataclasses.replace(storage, blobs=FailingPuts(storage.blobs))
    try:
        failed = await put_bytes(services, presigned["presignedUrl"], PNG, "image/png")
    finally:
        services.app_asgi.state.storage = storage

    assert failed.status_code == 503
    assert "retry-after" in failed.headers
    assert (await put_bytes(services, presigned["presignedUrl"], PNG, "image/png")).status_code == 200
    completed = await services.app.post(f"/files/{presigned['uploadId']}/complete", headers=services.auth(user))
    assert completed.status_code == 200


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "chat.example.edu:8443", "X-Forwarded-Prefix": "/api"}


@asynccontextmanager
async def services_with(tmp_path: Path, **files: Any) -> AsyncIterator[Services]:
    settings = service_settings(local_storage_settings(tmp_path)).model_copy(update={"files": FilesSettings(**files)})
    async with open_services(settings) as services:
        yield services


async def test_the_upload_url_is_absolute_on_the_address_the_request_came_in_on(local_services: Services) -> None:
    services, user = local_services, random_user_id()

    presigned = await presigned_png(services, user, headers=FORWARDED)

    # Forwarded headers count only from proxies that are listed, and none are by default.
    assert presigned["presignedUrl"] == "http://app" + presigned["uploadUrl"]
    assert (await put_bytes(services, presigned["presignedUrl"], PNG, "image/png")).status_code == 200
    completed = await services.app.post(f"/files/{presigned['uploadId']}/complete", headers=services.auth(user))
    assert completed.json()["status"] == "ready"


async def test_the_configured_public_url_wins(tmp_path: Path) -> None:
    async with services_with(tmp_path, app_api_public_url="https://chat.example.edu/api/") as services:
        presigned = await presigned_png(services, random_user_id(), headers=FORWARDED)

    assert presigned["presignedUrl"] == "https://chat.example.edu/api" + presigned["uploadUrl"]


async def test_a_listed_proxy_names_the_address(tmp_path: Path) -> None:
    # The ASGI test transport connects from 127.0.0.1.
    async with services_with(tmp_path, app_api_forwarded_allow_ips="10.0.0.0/8, 127.0.0.1") as services:
        user = random_user_id()
        named = await presigned_png(services, user, headers=FORWARDED)
        malformed = await presigned_png(
            services,
            user,
            headers={"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil.example/x", "X-Forwarded-Prefix": "api"},
        )
        chained = await presigned_png(services, user, headers={"X-Forwarded-Host": "first.example, proxy.internal"})
    async with services_with(tmp_path / "other", app_api_forwarded_allow_ips="10.0.0.0/8") as services:
        unlisted = await presigned_png(services, random_user_id(), headers=FORWARDED)

    assert named["presignedUrl"] == "https://chat.example.edu:8443/api" + named["uploadUrl"]
    assert malformed["presignedUrl"] == "http://app" + malformed["uploadUrl"], "values of another shape are ignored"
    assert chained["presignedUrl"] == "http://first.example" + chained["uploadUrl"], "the client-side proxy's"
    assert unlisted["presignedUrl"] == "http://app" + unlisted["uploadUrl"]


async def test_a_browser_puts_to_the_presigned_url_of_a_running_server(tmp_path: Path) -> None:
    storage = local_storage_settings(tmp_path)
    await initialize_storage(storage)
    settings = service_settings(storage)
    body = {"sessionId": random_session_id(), "filename": "a.png", "mimeType": "image/png", "sizeBytes": len(PNG)}
    with live_server(lambda: create_app(settings)) as url:
        token = mint_local_token(
            settings=settings.auth, data_dir=storage.data_dir, user_id=random_user_id(), email="a@example.com", name="A"
        )
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url) as client:
            presigned = (await client.post("/files/presign", json=body, headers=headers)).json()
            async with httpx.AsyncClient() as browser:  # another origin: the URL alone, no token
                put = await browser.put(presigned["presignedUrl"], content=PNG, headers={"Content-Type": "image/png"})
            completed = await client.post(f"/files/{presigned['uploadId']}/complete", headers=headers)

    assert presigned["presignedUrl"].startswith(f"{url}/files/uploads/")
    assert put.status_code == 200
    assert completed.json()["status"] == "ready"
