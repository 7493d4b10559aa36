"""The files routes of API.md on both backends: presign, upload, complete, list, download, delete, quota."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from apis.shared.config import FilesSettings, StorageSettings
from apis.shared.storage import initialize_storage
from tests.attachments import download, presign, put_bytes, tiny_pdf, tiny_png, upload
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import random_session_id, random_user_id

PNG = tiny_png(4, 4)
PDF = tiny_pdf()
MAX_FILE = 4096
MAX_USER = 6000


@pytest.fixture
async def files_services(storage_settings: StorageSettings) -> AsyncIterator[Services]:
    """Both services on each backend, with small limits so that they are easy to reach."""
    await initialize_storage(storage_settings)
    limits = FilesSettings(files_max_file_bytes=MAX_FILE, files_max_user_bytes=MAX_USER)
    settings = service_settings(storage_settings).model_copy(update={"files": limits})
    async with open_services(settings) as opened:
        yield opened


async def quota(services: Services, user_id: str) -> dict[str, int]:
    response = await services.app.get("/files/quota", headers=services.auth(user_id))
    assert response.status_code == 200, response.text
    result: dict[str, int] = response.json()
    return result


async def test_a_file_goes_through_presign_upload_complete_list_download_and_delete(files_services: Services) -> None:
    services, user, session_id = files_services, random_user_id(), random_session_id()

    completed = await upload(services, user, session_id, "chart.png", "image/png", PNG)

    assert completed == {
        "uploadId": completed["uploadId"],
        "status": "ready",
        "filename": "chart.png",
        "sizeBytes": len(PNG),
    }
    upload_id = completed["uploadId"]
    listed = (await services.app.get("/files", headers=services.auth(user))).json()
    assert [f["uploadId"] for f in listed["files"]] == [upload_id]
    assert listed["files"][0]["mimeType"] == "image/png"
    assert listed["files"][0]["sessionId"] == session_id
    assert "storageKey" not in listed["files"][0]
    assert "userId" not in listed["files"][0]
    assert await quota(services, user) == {"usedBytes": len(PNG), "maxBytes": MAX_USER, "fileCount": 1}
    fetched = await download(services, user, upload_id)
    assert fetched.status_code == 200
    assert fetched.content == PNG
    assert "chart.png" in fetched.headers["content-disposition"]

    deleted = await services.app.delete(f"/files/{upload_id}", headers=services.auth(user))

    assert deleted.status_code == 204
    assert (await services.app.get("/files", headers=services.auth(user))).json()["files"] == []
    assert await quota(services, user) == {"usedBytes": 0, "maxBytes": MAX_USER, "fileCount": 0}
    assert (await download(services, user, upload_id)).status_code == 404
    assert (await services.app.delete(f"/files/{upload_id}", headers=services.auth(user))).status_code == 404


async def test_presign_creates_the_conversation_and_refuses_another_users(files_services: Services) -> None:
    services, owner, stranger, session_id = files_services, random_user_id(), random_user_id(), random_session_id()

    assert (await presign(services, owner, session_id, "a.png", "image/png", 10)).status_code == 200
    session = await services.app.get(f"/sessions/{session_id}/metadata", headers=services.auth(owner))
    assert session.status_code == 200

    response = await presign(services, stranger, session_id, "a.png", "image/png", 10)
    assert response.status_code == 404
    assert (await services.app.get("/files", headers=services.auth(stranger))).json()["files"] == []


@pytest.mark.parametrize(
    ("filename", "mime_type", "size", "status", "code"),
    [
        ("tool.exe", "application/x-msdownload", 10, 400, "file_type_not_allowed"),
        ("drawing.svg", "image/svg+xml", 10, 400, "file_type_not_allowed"),
        ("report.pdf", "image/png", 10, 400, "file_type_not_allowed"),
        ("big.pdf", "application/pdf", MAX_FILE + 1, 413, "file_too_large"),
        # Over the per-file limit and over the quota: the per-file limit is checked first.
        ("huge.pdf", "application/pdf", MAX_USER + 1, 413, "file_too_large"),
        ("empty.txt", "text/plain", 0, 422, "validation_error"),
        ("../../etc/passwd.txt", "text/plain", 10, 422, "validation_error"),
    ],
)
async def test_presign_refuses_bad_files_and_writes_nothing(
    files_services: Services, filename: str, mime_type: str, size: int, status: int, code: str
) -> None:
    user = random_user_id()

    response = await presign(files_services, user, random_session_id(), filename, mime_type, size)

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert (await files_services.app.get("/sessions", headers=files_services.auth(user))).json()["sessions"] == []


async def test_the_storage_quota_is_403_at_presign_and_counts_only_ready_files(files_services: Services) -> None:
    services, user, session_id = files_services, random_user_id(), random_session_id()
    first = await upload(services, user, session_id, "one.txt", "text/plain", b"a" * 4000)

    refused = await presign(services, user, session_id, "two.txt", "text/plain", 2001)

    assert refused.status_code == 403
    assert refused.json()["code"] == "QUOTA_EXCEEDED"
    # Exactly at the limit is allowed.
    assert (await presign(services, user, session_id, "two.txt", "text/plain", 2000)).status_code == 200
    await services.app.delete(f"/files/{first['uploadId']}", headers=services.auth(user))
    assert (await presign(services, user, session_id, "three.txt", "text/plain", 4000)).status_code == 200


async def test_complete_is_refused_when_quota_filled_after_presign(files_services: Services) -> None:
    services, user, session_id = files_services, random_user_id(), random_session_id()
    late = await presign(services, user, session_id, "late.txt", "text/plain", 3000)
    await put_bytes(services, late.json()["uploadUrl"], b"b" * 3000, "text/plain")
    await upload(services, user, session_id, "first.txt", "text/plain", b"a" * 4000)

    response = await services.app.post(f"/files/{late.json()['uploadId']}/complete", headers=services.auth(user))

    assert response.status_code == 403
    assert response.json()["code"] == "QUOTA_EXCEEDED"
    assert await quota(services, user) == {"usedBytes": 4000, "maxBytes": MAX_USER, "fileCount": 1}


async def test_complete_without_bytes_is_400_and_can_be_retried_once_they_arrive(files_services: Services) -> None:
    services, user = files_services, random_user_id()
    presigned = (await presign(services, user, random_session_id(), "a.pdf", "application/pdf", len(PDF))).json()
    complete = f"/files/{presigned['uploadId']}/complete"

    missing = await services.app.post(complete, headers=services.auth(user))

    assert missing.status_code == 400
    assert missing.json()["code"] == "file_bytes_missing"
    await put_bytes(services, presigned["uploadUrl"], PDF, "application/pdf")
    assert (await services.app.post(complete, headers=services.auth(user))).status_code == 200
    again = await services.app.post(complete, headers=services.auth(user))
    assert again.status_code == 409
    assert await quota(services, user) == {"usedBytes": len(PDF), "maxBytes": MAX_USER, "fileCount": 1}


@pytest.mark.parametrize(
    ("filename", "mime_type", "declared", "data"),
    [
        ("spoof.pdf", "application/pdf", len(PNG), PNG),  # a PNG named .pdf
        ("spoof.png", "image/png", len(PDF), PDF),
        ("notes.txt", "text/plain", 4, b"\xff\xfe\x00\x01"),
        ("short.pdf", "application/pdf", len(PDF) + 10, PDF),  # fewer bytes than declared
    ],
)
async def test_content_that_is_not_what_was_declared_fails_the_upload(
    files_services: Services, filename: str, mime_type: str, declared: int, data: bytes
) -> None:
    services, user = files_services, random_user_id()
    presigned = (await presign(services, user, random_session_id(), filename, mime_type, declared)).json()
    await put_bytes(services, presigned["uploadUrl"], data, mime_type)

    response = await services.app.post(f"/files/{presigned['uploadId']}/complete", headers=services.auth(user))

    assert response.status_code == 400
    assert response.json()["code"] == "file_content_mismatch"
    assert filename in response.json()["detail"]
    retried = await services.app.post(f"/files/{presigned['uploadId']}/complete", headers=services.auth(user))
    assert retried.status_code == 409, "a failed upload stays failed"
    assert (await services.app.get("/files", headers=services.auth(user))).json()["files"] == []
    assert (await quota(services, user))["usedBytes"] == 0


async def test_two_concurrent_completes_charge_the_quota_once(files_services: Services) -> None:
    services, user = files_services, random_user_id()
    presigned = (await presign(services, user, random_session_id(), "a.png", "image/png", len(PNG))).json()
    await put_bytes(services, presigned["uploadUrl"], PNG, "image/png")
    url = f"/files/{presigned['uploadId']}/complete"

    responses = await asyncio.gather(*(services.app.post(url, headers=services.auth(user)) for _ in range(4)))

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    assert await quota(services, user) == {"usedBytes": len(PNG), "maxBytes": MAX_USER, "fileCount": 1}


async def test_another_users_upload_id_is_404_everywhere_and_nothing_leaks(files_services: Services) -> None:
    services, owner, stranger = files_services, random_user_id(), random_user_id()
    upload_id = (await upload(services, owner, random_session_id(), "secret.pdf", "application/pdf", PDF))["uploadId"]
    pending = (await presign(services, owner, random_session_id(), "p.png", "image/png", len(PNG))).json()["uploadId"]
    headers = services.auth(stranger)

    for target in (upload_id, pending):
        for response in (
            await services.app.post(f"/files/{target}/complete", headers=headers),
            await services.app.get(f"/files/{target}/download", headers=headers),
            await services.app.delete(f"/files/{target}", headers=headers),
        ):
            assert response.status_code == 404
            assert "secret" not in response.text
    assert (await services.app.get("/files", headers=headers)).json()["files"] == []
    assert (await download(services, owner, upload_id)).content == PDF


async def test_the_list_pages_newest_first_and_filters_by_session(files_services: Services) -> None:
    services, user = files_services, random_user_id()
    first, second = random_session_id(), random_session_id()
    made = []
    for index in range(5):
        session_id = first if index % 2 == 0 else second
        made.append(await upload(services, user, session_id, f"n{index}.txt", "text/plain", b"x%d" % index))
    await presign(services, user, first, "pending.txt", "text/plain", 5)  # pending files are not listed

    seen, token = [], None
    while True:
        params = {"limit": 2, **({"next_token": token} if token else {})}
        page = (await services.app.get("/files", params=params, headers=services.auth(user))).json()
        seen += [f["uploadId"] for f in page["files"]]
        token = page["nextToken"]
        if token is None:
            break
    only_first = (await services.app.get("/files", params={"sessionId": first}, headers=services.auth(user))).json()

    assert seen == [f["uploadId"] for f in reversed(made)]
    assert [f["filename"] for f in only_first["files"]] == ["n4.txt", "n2.txt", "n0.txt"]
    bad = await services.app.get("/files", params={"next_token": "garbage"}, headers=services.auth(user))
    assert bad.status_code == 400


async def test_the_files_routes_need_a_token(files_services: Services) -> None:
    for method, path in (
        ("POST", "/files/presign"),
        ("GET", "/files"),
        ("GET", "/files/quota"),
        ("POST", "/files/x/complete"),
        ("GET", "/files/x/download"),
        ("DELETE", "/files/x"),
    ):
        response = await files_services.app.request(method, path)
        assert response.status_code == 401, (method, path)


async def test_the_download_is_a_short_lived_storage_url_in_the_cloud_and_the_bytes_locally(
    files_services: Services,
) -> None:
    services, user = files_services, random_user_id()
    upload_id = (await upload(services, user, random_session_id(), "r é;port.pdf", "application/pdf", PDF))["uploadId"]

    response = await services.app.get(f"/files/{upload_id}/download", headers=services.auth(user))

    if services.settings.storage.storage_backend == "dynamodb":
        assert response.status_code == 307
        assert "X-Amz-Signature=" in response.headers["location"]
        assert "X-Amz-Expires=300" in response.headers["location"]
    else:
        assert response.status_code == 200
        assert response.content == PDF
        assert response.headers["content-type"] == "application/pdf"
    fetched = await download(services, user, upload_id)
    assert fetched.headers["content-disposition"] == "attachment; filename*=UTF-8''r%20%C3%A9%3Bport.pdf"


async def test_a_file_that_is_not_ready_cannot_be_downloaded(files_services: Services) -> None:
    services, user = files_services, random_user_id()
    pending = (await presign(services, user, random_session_id(), "p.png", "image/png", len(PNG))).json()

    response = await services.app.get(f"/files/{pending['uploadId']}/download", headers=services.auth(user))

    assert response.status_code == 409
    assert response.json()["code"] == "file_not_ready"


async def test_presign_answers_an_absolute_presigned_url_on_both_backends(files_services: Services) -> None:
    services, user = files_services, random_user_id()

    presigned = (await presign(services, user, random_session_id(), "a.png", "image/png", len(PNG))).json()

    assert set(presigned) == {"uploadId", "presignedUrl", "expiresAt", "uploadUrl"}
    assert presigned["presignedUrl"].startswith("http")
    if services.settings.storage.storage_backend == "dynamodb":
        assert "X-Amz-Signature=" in presigned["presignedUrl"]
        assert presigned["uploadUrl"] == presigned["presignedUrl"]
    else:
        assert presigned["presignedUrl"] == "http://app" + presigned["uploadUrl"]
    assert (await put_bytes(services, presigned["presignedUrl"], PNG, "image/png")).status_code == 200


# (name, type, size): distinct sizes and types, uploaded in this order.
SORTABLE = [("b.csv", "text/csv", 30), ("c.md", "text/markdown", 10), ("a.txt", "text/plain", 20)]
ORDERS = {
    ("date", "desc"): ["a.txt", "c.md", "b.csv"],
    ("date", "asc"): ["b.csv", "c.md", "a.txt"],
    ("size", "desc"): ["b.csv", "a.txt", "c.md"],
    ("size", "asc"): ["c.md", "a.txt", "b.csv"],
    ("type", "desc"): ["a.txt", "c.md", "b.csv"],
    ("type", "asc"): ["b.csv", "c.md", "a.txt"],
}


async def test_the_list_sorts_by_date_size_and_type_and_pages_by_cursor(files_services: Services) -> None:
    services, user, session_id = files_services, random_user_id(), random_session_id()
    for name, mime_type, size in SORTABLE:
        await upload(services, user, session_id, name, mime_type, b"x" * size)
    headers = services.auth(user)

    for (sort_by, sort_order), expected in ORDERS.items():
        seen, cursor, pages = [], None, 0
        while True:
            params: dict[str, str | int] = {"limit": 2, "sortBy": sort_by, "sortOrder": sort_order}
            if cursor:
                params["cursor"] = cursor
            page = (await services.app.get("/files", params=params, headers=headers)).json()
            seen += [f["filename"] for f in page["files"]]
            assert page["nextCursor"] == page["nextToken"]
            assert page["totalCount"] == len(SORTABLE)
            cursor, pages = page["nextCursor"], pages + 1
            if cursor is None:
                break
        assert (seen, pages) == (expected, 2), (sort_by, sort_order)
    one_session = await services.app.get(
        "/files", params={"sessionId": session_id, "sortBy": "size", "sortOrder": "asc"}, headers=headers
    )
    assert [f["filename"] for f in one_session.json()["files"]] == ORDERS[("size", "asc")]
    assert one_session.json()["totalCount"] is None


async def test_the_list_refuses_unknown_orders_and_cursors_of_another_list(files_services: Services) -> None:
    services, user, session_id = files_services, random_user_id(), random_session_id()
    for name, mime_type, size in SORTABLE:
        await upload(services, user, session_id, name, mime_type, b"x" * size)
    headers = services.auth(user)
    by_size: dict[str, str | int] = {"limit": 1, "sortBy": "size"}
    cursor = (await services.app.get("/files", params=by_size, headers=headers)).json()["nextCursor"]

    responses = [
        await services.app.get("/files", params={"sortBy": "name"}, headers=headers),
        await services.app.get("/files", params={"sortOrder": "up"}, headers=headers),
        await services.app.get("/files", params={"cursor": cursor, "sortBy": "type"}, headers=headers),
        await services.app.get(
            "/files", params={"cursor": cursor, "sortBy": "size", "sortOrder": "asc"}, headers=headers
        ),
        await services.app.get("/files", params={**by_size, "cursor": cursor, "next_token": "other"}, headers=headers),
    ]
    resumed = await services.app.get("/files", params={**by_size, "next_token": cursor}, headers=headers)

    assert [r.status_code for r in responses] == [422, 422, 400, 400, 400]
    assert {r.json()["code"] for r in responses[2:]} == {"invalid_page_token"}
    assert [f["filename"] for f in resumed.json()["files"]] == ["a.txt"], "next_token takes the cursor too"
