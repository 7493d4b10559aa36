"""What each running image must answer through HTTP: the app API's health and a session's round trip, the
inference API's ping and a turn streamed by the offline model, and the turn read back through the app API
(so the two images share one store)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from deploy.image_check.containers import CheckFailed, Service

APP_URL = "http://127.0.0.1:8000"
INFERENCE_URL = "http://127.0.0.1:8080"
START_TIMEOUT_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 30.0


def wait_until_serving(url: str, service: Service) -> float:
    """Poll `url` until it answers 200; the seconds it took from now. Fails when the process ends first."""
    started = time.monotonic()
    while time.monotonic() - started < START_TIMEOUT_SECONDS:
        if not service.running():
            raise CheckFailed(f"the service behind {url} exited {service.process.returncode}:\n{service.log_tail()}")
        try:
            answered = httpx.get(url, timeout=2).status_code == 200
        except httpx.TransportError:
            answered = False  # not listening yet: the next poll tells
        if answered:
            return time.monotonic() - started
        time.sleep(0.2)
    raise CheckFailed(f"{url} did not answer 200 within {START_TIMEOUT_SECONDS:.0f} s:\n{service.log_tail()}")


def _expect(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise CheckFailed(f"{what}: {response.status_code} (expected {status}): {response.text[:500]}")
    return response.json() if response.content and "json" in response.headers.get("content-type", "") else None


def check_app(client: httpx.Client, token: str) -> str:
    """`/health` is healthy with storage ok; a session made by `PUT .../metadata` reads back and is listed."""
    health = _expect(client.get(f"{APP_URL}/health"), 200, "GET /health")
    if health.get("status") != "healthy" or health.get("checks", {}).get("storage") != "ok":
        raise CheckFailed(f"GET /health: {health}")
    auth = {"Authorization": f"Bearer {token}"}
    session_id = f"image-check-{uuid.uuid4().hex[:12]}"
    body = {"title": "Made by the image check", "starred": True, "tags": ["image-check"]}
    _expect(client.put(f"{APP_URL}/sessions/{session_id}/metadata", json=body, headers=auth), 200, "PUT metadata")
    read = _expect(client.get(f"{APP_URL}/sessions/{session_id}/metadata", headers=auth), 200, "GET metadata")
    if (read["title"], read["starred"], read["tags"]) != (body["title"], True, body["tags"]):
        raise CheckFailed(f"the session read back differs from what was stored: {read}")
    listed = _expect(client.get(f"{APP_URL}/sessions", headers=auth), 200, "GET /sessions")
    if session_id not in [session["sessionId"] for session in listed["sessions"]]:
        raise CheckFailed(f"GET /sessions does not list {session_id}: {listed}")
    return session_id


def _events(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":"))
        if fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def check_inference(client: httpx.Client, token: str) -> str:
    """`/ping` is Healthy; a turn streams SSE from the offline model, ending in `done`. The turn's session id."""
    ping = _expect(client.get(f"{INFERENCE_URL}/ping"), 200, "GET /ping")
    if ping.get("status") not in ("Healthy", "HealthyBusy"):
        raise CheckFailed(f"GET /ping: {ping}")
    session_id = f"image-turn-{uuid.uuid4().hex[:12]}"
    headers = {"Authorization": f"Bearer {token}"}
    body = {"session_id": session_id, "message": "Hello from the image check"}
    with client.stream("POST", f"{INFERENCE_URL}/invocations", json=body, headers=headers) as response:
        text = response.read().decode()
        if response.status_code != 200 or not response.headers["content-type"].startswith("text/event-stream"):
            raise CheckFailed(f"POST /invocations: {response.status_code} {response.headers} {text[:500]}")
    events = _events(text)
    names = [name for name, _ in events]
    deltas = "".join(data.get("text", "") for name, data in events if name == "content_block_delta")
    if names[:1] != ["message_start"] or names[-1:] != ["done"] or "stream_error" in names or not deltas:
        raise CheckFailed(f"POST /invocations streamed {names}")
    return session_id


def check_turn_stored(client: httpx.Client, token: str, session_id: str) -> int:
    """The turn the inference image ran is read back through the app image: the question and the answer."""
    auth = {"Authorization": f"Bearer {token}"}
    page = _expect(client.get(f"{APP_URL}/sessions/{session_id}/messages", headers=auth), 200, "GET messages")
    roles = [message["role"] for message in page["messages"]]
    statuses = {message.get("status", "complete") for message in page["messages"]}
    if roles != ["user", "assistant"] or statuses != {"complete"}:
        raise CheckFailed(f"the app API reads the turn's messages as {roles} {statuses}")
    read = _expect(client.get(f"{APP_URL}/sessions/{session_id}/metadata", headers=auth), 200, "GET metadata")
    if read["messageCount"] != 2:
        raise CheckFailed(f"the turn's session counts {read['messageCount']} messages, not 2")
    return len(roles)
