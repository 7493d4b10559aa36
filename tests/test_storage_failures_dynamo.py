"""The DynamoDB backend failing under the services: its endpoint goes away, or refuses writes, while they run."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from apis.shared.config import StorageBackend, StorageSettings
from apis.shared.storage import initialize_storage
from apis.shared.storage.dynamo.client import WRITE_OPERATIONS
from tests.attachments import presign, upload
from tests.fixtures.moto import SerializedMotoServer, unique_storage_names
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import parse_sse, random_session_id, random_user_id

pytestmark = pytest.mark.dynamodb


async def test_every_storage_route_is_503_when_dynamodb_goes_away(
    services_on_own_moto: tuple[Services, SerializedMotoServer],
) -> None:
    services, server = services_on_own_moto
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


class WriteDenyingMotoServer:
    """A moto server of its own, one request at a time (see tests/fixtures/moto.py), that answers DynamoDB's
    write calls with AccessDeniedException while `denying`: an IAM policy that lets the service read only."""

    def __init__(self) -> None:
        self.denying = False
        self._lock = threading.Lock()
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-denying", daemon=True)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if self.denying and operation in WRITE_OPERATIONS:
            body = json.dumps(
                {"__type": "com.amazon.coral.service#AccessDeniedException", "message": "writes are denied"}
            ).encode()
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")])
            return [body]
        with self._lock:
            return list(self._moto(environ, start_response))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> WriteDenyingMotoServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


async def test_health_is_degraded_while_writes_are_denied_and_recovers_after_a_write(
    moto_server_url: str, tmp_path: Path
) -> None:
    with WriteDenyingMotoServer() as server:
        table, bucket = unique_storage_names()
        storage = StorageSettings(
            storage_backend=StorageBackend.DYNAMODB,
            aws_endpoint_url=server.url,
            dynamodb_table_name=table,
            s3_bucket_name=bucket,
            data_dir=tmp_path,
        )
        await initialize_storage(storage)
        async with open_services(service_settings(storage)) as services:
            headers, session_id = services.auth(random_user_id()), random_session_id()
            created = await services.app.put(f"/sessions/{session_id}/metadata", json={}, headers=headers)
            before = await services.app.get("/health")
            server.denying = True
            refused = await services.app.put(f"/sessions/{session_id}/metadata", json={"title": "x"}, headers=headers)
            listed = await services.app.get("/sessions", headers=headers)
            during = await services.app.get("/health")
            server.denying = False
            after_the_denial = await services.app.get("/health")
            written = await services.app.put(f"/sessions/{session_id}/metadata", json={"title": "x"}, headers=headers)
            recovered = await services.app.get("/health")

    assert (created.status_code, before.status_code) == (200, 200)
    assert (refused.status_code, listed.status_code) == (503, 200)
    assert during.status_code == 503
    assert during.json()["status"] == "degraded"
    assert during.json()["checks"]["storage"] == "ok", "reads still work"
    assert during.json()["checks"]["storageWrites"].startswith("failing: UpdateItem: AccessDeniedException")
    assert after_the_denial.json()["status"] == "degraded", "nothing has been written since the failure"
    assert written.status_code == 200
    assert recovered.status_code == 200
    assert recovered.json()["checks"] == {"storage": "ok", "storageWrites": "ok"}
