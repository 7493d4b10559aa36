"""The DynamoDB backend failing under the services: its endpoint goes away while they run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.config import StorageBackend, StorageSettings
from apis.shared.storage import initialize_storage
from tests.attachments import presign, upload
from tests.fixtures.moto import SerializedMotoServer, unique_storage_names
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import parse_sse, random_session_id, random_user_id

pytestmark = pytest.mark.dynamodb


@pytest.fixture
async def services_and_server(
    moto_server_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Services, SerializedMotoServer]]:
    """Both services on a moto server of their own, which the test may stop (moto keeps state in-process)."""
    server = SerializedMotoServer()
    server.start()
    table, bucket = unique_storage_names()
    storage = StorageSettings(
        storage_backend=StorageBackend.DYNAMODB,
        aws_endpoint_url=server.url,
        dynamodb_table_name=table,
        s3_bucket_name=bucket,
        data_dir=tmp_path,
    )
    await initialize_storage(storage)
    try:
        async with open_services(service_settings(storage)) as services:
            yield services, server
    finally:
        server.stop()  # stopping twice is harmless: the second finds the loop already ended


async def test_every_storage_route_is_503_when_dynamodb_goes_away(
    services_and_server: tuple[Services, SerializedMotoServer],
) -> None:
    services, server = services_and_server
    user, session_id = random_user_id(), random_session_id()
    headers = services.auth(user)
    turn = await services.inference.post(
        "/invocations", json={"session_id": session_id, "message": "hi"}, headers=headers
    )
    assert parse_sse(turn.text)[-1][0] == "done"
    uploaded = await upload(services, user, session_id, "notes.txt", "text/plain", b"notes")
    upload_id = uploaded["uploadId"]

    server.stop()
    responses = [
        await services.app.get("/sessions", headers=headers),
        await services.app.get(f"/sessions/{session_id}/metadata", headers=headers),
        await services.app.put(f"/sessions/{session_id}/metadata", json={"title": "x"}, headers=headers),
        await services.app.get(f"/sessions/{session_id}/messages", headers=headers),
        await services.app.delete(f"/sessions/{session_id}", headers=headers),
        await services.app.post("/sessions/bulk-delete", json={"sessionIds": [session_id]}, headers=headers),
        await presign(services, user, session_id, "more.txt", "text/plain", 4),
        await services.app.post(f"/files/{upload_id}/complete", headers=headers),
        await services.app.get("/files", headers=headers),
        await services.app.get("/files/quota", headers=headers),
        await services.app.get(f"/files/{upload_id}/download", headers=headers),
        await services.app.delete(f"/files/{upload_id}", headers=headers),
        await services.inference.post(
            "/invocations", json={"session_id": session_id, "message": "hi"}, headers=headers
        ),
        await services.inference.post(
            "/invocations",
            json={"session_id": session_id, "message": "hi", "file_upload_ids": [upload_id]},
            headers=headers,
        ),
    ]
    health = await services.app.get("/health")
    ping = await services.inference.get("/ping")

    assert [r.status_code for r in responses] == [503] * len(responses)
    assert all(r.headers["retry-after"] for r in responses)
    assert {r.json()["code"] for r in responses} == {"storage_unavailable"}
    assert health.status_code == 503
    assert health.json()["checks"]["storage"].startswith("failed")
    assert ping.status_code == 200
