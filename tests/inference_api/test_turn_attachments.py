"""Attachments in a chat turn on both backends, with the offline model: checks, storage, history, deletion."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from apis.shared.config import FilesSettings, StorageSettings
from apis.shared.errors import StorageUnavailableError
from apis.shared.files import BlobStore
from apis.shared.storage import Storage, initialize_storage
from tests.attachments import download, presign, tiny_pdf, tiny_png, upload
from tests.fixtures.services import Services, eventually_titled, open_services, service_settings
from tests.helpers import parse_sse, random_session_id, random_user_id

PNG = tiny_png(2, 2)
PDF = tiny_pdf()


@pytest.fixture
async def turn_services(storage_settings: StorageSettings) -> AsyncIterator[Services]:
    await initialize_storage(storage_settings)
    limits = FilesSettings(
        files_max_file_bytes=8192, files_max_message_bytes=12_000, files_max_per_message=3, files_max_user_bytes=20_000
    )
    settings = service_settings(storage_settings).model_copy(update={"files": limits})
    async with open_services(settings) as opened:
        yield opened


async def invoke(services: Services, user_id: str, session_id: str, **body: Any) -> tuple[int, str, Any]:
    response = await services.inference.post(
        "/invocations",
        json={"session_id": session_id, "message": "Look at these", **body},
        headers=services.auth(user_id),
    )
    return response.status_code, response.text, response.json() if response.status_code != 200 else None


def answer_text(stream: str) -> str:
    return "".join(data.get("text", "") for name, data in parse_sse(stream) if name == "content_block_delta")


def inline(filename: str, content_type: str, data: bytes) -> dict[str, str]:
    return {"filename": filename, "content_type": content_type, "bytes": base64.b64encode(data).decode()}


async def messages(services: Services, user_id: str, session_id: str) -> list[dict[str, Any]]:
    response = await services.app.get(f"/sessions/{session_id}/messages", headers=services.auth(user_id))
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["messages"]
    return result


async def test_uploaded_files_reach_the_model_and_stay_in_history_as_references(turn_services: Services) -> None:
    services, user, session_id = turn_services, random_user_id(), random_session_id()
    pdf = await upload(services, user, session_id, "report.pdf", "application/pdf", PDF)
    png = await upload(services, user, session_id, "chart.png", "image/png", PNG)

    status, text, _ = await invoke(services, user, session_id, file_upload_ids=[pdf["uploadId"], png["uploadId"]])

    assert status == 200, text
    answer = answer_text(text)
    assert f"You attached 2 files: report.pdf (pdf document, {len(PDF)} bytes); (png image, {len(PNG)} bytes)" in answer
    question = (await messages(services, user, session_id))[0]
    pdf_badge = {"uploadId": pdf["uploadId"], "filename": "report.pdf", "mimeType": "application/pdf"}
    png_badge = {"uploadId": png["uploadId"], "filename": "chart.png", "mimeType": "image/png"}
    assert question["content"] == [
        {
            "type": "fileAttachment",
            "fileAttachment": {**pdf_badge, "sizeBytes": len(PDF)},
            "document": {**pdf_badge, "sizeBytes": len(PDF), "format": "pdf"},
        },
        {
            "type": "fileAttachment",
            "fileAttachment": {**png_badge, "sizeBytes": len(PNG)},
            "image": {**png_badge, "sizeBytes": len(PNG), "format": "png"},
        },
        {"type": "text", "text": "Look at these"},
    ]
    title = await eventually_titled(services, session_id, services.auth(user))
    assert title != "New conversation", "a session made by its first upload is still named"


async def test_inline_files_are_stored_as_uploads_of_the_conversation(turn_services: Services) -> None:
    services, user, session_id = turn_services, random_user_id(), random_session_id()

    status, text, _ = await invoke(services, user, session_id, files=[inline("notes.md", "text/markdown", b"# Hi")])

    assert status == 200, text
    [question, _answer] = await messages(services, user, session_id)
    reference = question["content"][0]["document"]
    assert reference["filename"] == "notes.md"
    assert "bytes" not in str(question["content"])
    assert "source" not in reference
    assert (await download(services, user, reference["uploadId"])).content == b"# Hi"
    listed = (await services.app.get("/files", params={"sessionId": session_id}, headers=services.auth(user))).json()
    assert [f["uploadId"] for f in listed["files"]] == [reference["uploadId"]]


async def test_a_later_turn_sends_earlier_attachments_again(turn_services: Services) -> None:
    services, user, session_id = turn_services, random_user_id(), random_session_id()
    png = await upload(services, user, session_id, "chart.png", "image/png", PNG)
    await invoke(services, user, session_id, file_upload_ids=[png["uploadId"]])

    status, text, _ = await invoke(services, user, session_id, message="And now?")

    assert status == 200, text
    assert "after 1 earlier message" in answer_text(text)


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown", 400, "attachment_unusable"),
        ("strangers", 400, "attachment_unusable"),
        ("pending", 400, "attachment_unusable"),
        ("other_session", 400, "attachment_unusable"),
        ("deleted", 400, "attachment_unusable"),
        ("too_many", 413, "file_too_large"),
        ("message_too_large", 413, "file_too_large"),
        ("inline_too_large", 413, "file_too_large"),
        ("inline_spoofed", 400, "file_content_mismatch"),
        ("inline_over_quota", 403, "QUOTA_EXCEEDED"),
    ],
)
async def test_attachment_problems_fail_before_streaming_and_store_nothing(
    turn_services: Services, case: str, status: int, code: str
) -> None:
    services, user, stranger, session_id = turn_services, random_user_id(), random_user_id(), random_session_id()
    body: dict[str, Any] = {}
    named = ""
    match case:
        case "unknown":
            named = "0190aaaa-0000-7000-8000-000000000000"
            body["file_upload_ids"] = [named]
        case "strangers":
            named = (await upload(services, stranger, random_session_id(), "s.png", "image/png", PNG))["uploadId"]
            body["file_upload_ids"] = [named]
        case "pending":
            named = (await presign(services, user, session_id, "p.png", "image/png", 10)).json()["uploadId"]
            body["file_upload_ids"] = [named]
        case "other_session":
            named = (await upload(services, user, random_session_id(), "o.png", "image/png", PNG))["uploadId"]
            body["file_upload_ids"] = [named]
        case "deleted":
            named = (await upload(services, user, session_id, "d.png", "image/png", PNG))["uploadId"]
            await services.app.delete(f"/files/{named}", headers=services.auth(user))
            body["file_upload_ids"] = [named]
        case "too_many":
            body["files"] = [inline(f"n{i}.txt", "text/plain", b"hello") for i in range(4)]
        case "message_too_large":
            body["files"] = [inline(f"n{i}.txt", "text/plain", b"x" * 7000) for i in range(2)]
        case "inline_too_large":
            body["files"] = [inline("big.txt", "text/plain", b"x" * 9000)]
        case "inline_spoofed":
            named = "fake.pdf"
            body["files"] = [inline("fake.pdf", "application/pdf", PNG)]
        case "inline_over_quota":
            await upload(services, user, session_id, "a.txt", "text/plain", b"a" * 8000)
            await upload(services, user, session_id, "b.txt", "text/plain", b"b" * 8000)
            body["files"] = [inline("c.txt", "text/plain", b"c" * 5000)]
    before = await services.app.get(f"/sessions/{session_id}/messages", headers=services.auth(user))
    quota_before = (await services.app.get("/files/quota", headers=services.auth(user))).json()

    got, text, error = await invoke(services, user, session_id, **body)

    assert got == status, text
    assert error["code"] == code
    assert named in error["detail"]
    after = await services.app.get(f"/sessions/{session_id}/messages", headers=services.auth(user))
    assert after.status_code == before.status_code
    if after.status_code == 200:
        assert after.json()["messages"] == before.json()["messages"] == []
    assert (await services.app.get("/files/quota", headers=services.auth(user))).json() == quota_before


async def test_a_stranger_sessions_inline_files_are_not_kept(turn_services: Services) -> None:
    services, owner, stranger, session_id = turn_services, random_user_id(), random_user_id(), random_session_id()
    await invoke(services, owner, session_id)

    status, _, _ = await invoke(services, stranger, session_id, files=[inline("a.txt", "text/plain", b"hi")])

    assert status == 404
    assert (await services.app.get("/files", headers=services.auth(stranger))).json()["files"] == []
    assert (await services.app.get("/files/quota", headers=services.auth(stranger))).json()["usedBytes"] == 0


async def test_deleting_the_session_deletes_its_attachments_and_releases_quota(turn_services: Services) -> None:
    services, user, session_id = turn_services, random_user_id(), random_session_id()
    kept_session = random_session_id()
    pdf = await upload(services, user, session_id, "report.pdf", "application/pdf", PDF)
    kept = await upload(services, user, kept_session, "kept.png", "image/png", PNG)
    await invoke(
        services, user, session_id, file_upload_ids=[pdf["uploadId"]], files=[inline("n.txt", "text/plain", b"n")]
    )
    storage: Storage = services.app_asgi.state.storage
    records = await storage.files.list_session_files(user, session_id)
    keys = [record.storage_key for record in records]
    assert len(keys) == 2

    response = await services.app.delete(f"/sessions/{session_id}", headers=services.auth(user))

    assert response.status_code == 204
    assert await storage.files.list_session_files(user, session_id) == []
    assert [await storage.blobs.get(key) for key in keys] == [None, None]
    assert (await download(services, user, pdf["uploadId"])).status_code == 404
    quota = (await services.app.get("/files/quota", headers=services.auth(user))).json()
    assert (quota["usedBytes"], quota["fileCount"]) == (len(PNG), 1)
    assert (await download(services, user, kept["uploadId"])).content == PNG


class FailingDeletes:
    """A blob store whose deletes fail as an unreachable bucket would; everything else goes through."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def delete(self, key: str) -> None:
        raise StorageUnavailableError("the blob store is unreachable")


async def test_a_failure_to_delete_bytes_is_503_and_a_retry_finishes(turn_services: Services) -> None:
    services, user, session_id = turn_services, random_user_id(), random_session_id()
    png = await upload(services, user, session_id, "chart.png", "image/png", PNG)
    await invoke(services, user, session_id, file_upload_ids=[png["uploadId"]])
    storage: Storage = services.app_asgi.state.storage
    services.app_asgi.state.storage = dataclasses.replace(storage, blobs=FailingDeletes(storage.blobs))

    failed = await services.app.delete(f"/sessions/{session_id}", headers=services.auth(user))

    assert failed.status_code == 503
    assert "retry-after" in failed.headers
    assert len(await messages(services, user, session_id)) == 2, "the session stays for the retry"
    assert (await download(services, user, png["uploadId"])).content == PNG
    services.app_asgi.state.storage = storage
    assert (await services.app.delete(f"/sessions/{session_id}", headers=services.auth(user))).status_code == 204
    assert await storage.files.list_session_files(user, session_id) == []
    assert (await services.app.get("/files/quota", headers=services.auth(user))).json()["usedBytes"] == 0


async def test_a_deleted_file_is_a_note_in_later_history(turn_services: Services) -> None:
    services, user, session_id = turn_services, random_user_id(), random_session_id()
    png = await upload(services, user, session_id, "chart.png", "image/png", PNG)
    await invoke(services, user, session_id, file_upload_ids=[png["uploadId"]])
    await services.app.delete(f"/files/{png['uploadId']}", headers=services.auth(user))

    status, text, _ = await invoke(services, user, session_id, message="Still there?")

    assert status == 200, text
    first = (await messages(services, user, session_id))[0]
    assert first["content"][0]["image"]["uploadId"] == png["uploadId"], "history keeps the reference"
