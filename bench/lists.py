"""First pages of the big lists through HTTP on the embedded default, against the running app API.

Budgets (ARCHITECTURE.md): first page of the session list of a user with 10,000 sessions at most 10 ms p50;
first page of a 2,000-message conversation at most 15 ms p50.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from apis.shared.auth import mint_local_token
from apis.shared.config import AuthSettings, StorageBackend, StorageSettings
from apis.shared.sessions import MessageRole
from apis.shared.sessions.messages import new_message
from apis.shared.sessions.metadata import new_session
from apis.shared.storage import open_storage
from bench.common import Row, median, percentile, print_table, service_process

SESSIONS = 10_000
MESSAGES = 2_000
REQUESTS = 300
USER = "bench-user"
LONG_SESSION = "bench-long-conversation"


async def seed(data_dir: Path) -> None:
    storage = await open_storage(StorageSettings(storage_backend=StorageBackend.LOCAL, data_dir=data_dir))
    try:
        for index in range(SESSIONS):
            await storage.sessions.create_session(USER, new_session(f"bench-{index:05d}"))
        for index in range(1_000):  # other users' sessions share the table
            await storage.sessions.create_session(f"other-{index % 50}", new_session(f"other-{index:05d}"))
        await storage.sessions.create_session(USER, new_session(LONG_SESSION))
        for index in range(MESSAGES):
            role = MessageRole.USER if index % 2 == 0 else MessageRole.ASSISTANT
            text = f"message {index}: " + "lorem ipsum dolor sit amet " * 8
            await storage.sessions.append_message(USER, LONG_SESSION, new_message(role, [{"text": text}]))
    finally:
        await storage.close()


def timed_gets(client: httpx.Client, path: str, headers: dict[str, str]) -> list[float]:
    for _ in range(20):  # warm the connection and the page cache
        client.get(path, headers=headers).raise_for_status()
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        seeding = time.perf_counter()
        asyncio.run(seed(data_dir))
        print(
            f"seeded {SESSIONS} sessions and a {MESSAGES}-message conversation in {time.perf_counter() - seeding:.1f} s"
        )
        token = mint_local_token(settings=AuthSettings(), data_dir=data_dir, user_id=USER)
        headers = {"Authorization": f"Bearer {token}"}
        with service_process("app", data_dir) as (url, _, _), httpx.Client(base_url=url) as client:
            sessions = timed_gets(client, "/sessions?limit=20", headers)
            messages = timed_gets(client, f"/sessions/{LONG_SESSION}/messages?limit=100", headers)
            assert len(client.get("/sessions?limit=20", headers=headers).json()["sessions"]) == 20
    print_table(
        f"First pages through HTTP, local backend ({REQUESTS} requests each, one keep-alive client)",
        [
            Row(f"session list, 20 of {SESSIONS} sessions, p50", median(sessions), 10, "ms"),
            Row(f"session list, 20 of {SESSIONS} sessions, p99", percentile(sessions, 0.99), None, "ms"),
            Row(f"messages, 100 of {MESSAGES}, p50", median(messages), 15, "ms"),
            Row(f"messages, 100 of {MESSAGES}, p99", percentile(messages, 0.99), None, "ms"),
        ],
    )


if __name__ == "__main__":
    main()
