"""GET /ping: the AgentCore health contract, Healthy when idle and HealthyBusy while a turn streams."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from apis.inference_api.main import create_app
from apis.shared.auth import mint_local_token
from apis.shared.config import InferenceSettings
from tests.fixtures.services import Services, live_server, service_settings
from tests.helpers import local_storage_settings, random_session_id


async def test_ping_is_healthy_when_idle_and_needs_no_token(local_services: Services) -> None:
    response = await local_services.inference.get("/ping")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "Healthy"
    assert abs(body["time_of_last_update"] - time.time()) < 3600


def test_ping_is_busy_while_a_turn_streams(tmp_path: Path) -> None:
    settings = service_settings(local_storage_settings(tmp_path)).model_copy(
        # Many slow deltas: the turn is still streaming for seconds after its first one.
        update={"inference": InferenceSettings(local_provider_delta_delay_ms=200, local_provider_delta_words=2)}
    )
    with live_server(lambda: create_app(settings)) as base_url, httpx.Client(base_url=base_url) as client:
        token = mint_local_token(settings=settings.auth, data_dir=tmp_path, user_id="busy-user")
        statuses: list[str] = []
        started = threading.Event()

        def stream_turn() -> None:
            with client.stream(
                "POST",
                "/invocations",
                json={"session_id": random_session_id(), "message": "keep me busy"},
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                for line in response.iter_lines():
                    if line.startswith("event: content_block_start"):
                        started.set()

        worker = threading.Thread(target=stream_turn)
        worker.start()
        assert started.wait(10)
        statuses.append(client.get("/ping").json()["status"])
        worker.join(10)
        statuses.append(client.get("/ping").json()["status"])

    assert statuses == ["HealthyBusy", "Healthy"]
