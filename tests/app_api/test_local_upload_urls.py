"""The local backend's signed upload route: the URL is the credential, so forged, expired or reused ones fail."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from apis.shared.auth import load_or_create_key_pair
from apis.shared.clock import utc_now
from apis.shared.errors import StorageError
from apis.shared.files import BlobStore, FileRecord, FileRepository, attachment_key
from apis.shared.files.upload_tokens import UploadGrant, UploadTokens
from apis.shared.storage import Storage
from tests.attachments import presign, put_bytes, tiny_png
from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id

PNG = tiny_png()


async def presigned_png(services: Services, user_id: str) -> dict[str, str]:
    response = await presign(services, user_id, random_session_id(), "a.png", "image/png", len(PNG))
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    assert body["uploadUrl"].startswith("/files/uploads/")
    return body


async def test_an_altered_or_foreign_upload_url_is_403(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    presigned = await presigned_png(services, user)
    token = presigned["uploadUrl"].removeprefix("/files/uploads/")
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

    response = await put_bytes(services, presigned["uploadUrl"], PNG + b"extra", "image/png")

    assert response.status_code == 413
    missing = await services.app.post(f"/files/{presigned['uploadId']}/complete", headers=services.auth(user))
    assert missing.json()["code"] == "file_bytes_missing"


async def test_a_completed_upload_takes_no_more_bytes(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    presigned = await presigned_png(services, user)
    await put_bytes(services, presigned["uploadUrl"], PNG, "image/png")
    await services.app.post(f"/files/{presigned['uploadId']}/complete", headers=services.auth(user))

    response = await put_bytes(services, presigned["uploadUrl"], b"\x89PNG\r\n\x1a\nother", "image/png")

    assert response.status_code == 409
    downloaded = await services.app.get(f"/files/{presigned['uploadId']}/download", headers=services.auth(user))
    assert downloaded.content == PNG
    assert downloaded.headers["x-content-type-options"] == "nosniff"


async def test_a_deleted_upload_url_is_404(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    presigned = await presigned_png(services, user)
    await services.app.delete(f"/files/{presigned['uploadId']}", headers=services.auth(user))

    response = await put_bytes(services, presigned["uploadUrl"], PNG, "image/png")

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
        response = await put_bytes(services, presigned["uploadUrl"], PNG, "image/png")
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
        failed = await put_bytes(services, presigned["uploadUrl"], PNG, "image/png")
    finally:
        services.app_asgi.state.storage = storage

    assert failed.status_code == 503
    assert "retry-after" in failed.headers
    assert (await put_bytes(services, presigned["uploadUrl"], PNG, "image/png")).status_code == 200
    completed = await services.app.post(f"/files/{presigned['uploadId']}/complete", headers=services.auth(user))
    assert completed.status_code == 200
