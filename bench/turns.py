"""Chat turns through HTTP against the running inference API (local backend), beside the provider alone.

The provider is the suite's OpenAI fake in a process of its own, streaming 64 deltas with no delay; the same
client measures it directly and through `/invocations` in the same run (ARCHITECTURE.md budgets):
- a turn adds at most 4 ms p50 and 10 ms p99 to the provider's own time to first byte;
- at least 400 turns per second; at 50 turns in flight, time to first byte at most 5x the direct figure;
- 200 concurrent turns with no error and no lost message (messages counted in storage).
Run: `python -m bench.turns` (a minute or two on 2 cores).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from apis.shared.auth import mint_local_token
from apis.shared.config import AuthSettings, StorageBackend, StorageSettings
from apis.shared.models import LOCAL_MODEL, ManagedModelCreate, managed_models
from apis.shared.storage import open_storage
from bench.common import Row, free_port, median, percentile, print_table, service_process

SEQUENTIAL = 300
THROUGHPUT_TURNS = 600
THROUGHPUT_IN_FLIGHT = 25
USER = "bench-user"


@dataclass
class Sample:
    first_byte_ms: float
    total_ms: float
    deltas: int
    ok: bool


async def direct_turn(client: httpx.AsyncClient, fake_url: str) -> Sample:
    """One streamed chat completion straight from the fake, as the provider's own figure."""
    started = time.perf_counter()
    first: float | None = None
    deltas = 0
    body = {"model": "gpt-bench", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with client.stream(
        "POST", f"{fake_url}/chat/completions", json=body, headers={"Authorization": "Bearer sk"}
    ) as reply:
        async for line in reply.aiter_lines():
            if line.startswith("data: {") and '"content"' in line:
                first = first if first is not None else time.perf_counter()
                deltas += 1
    end = time.perf_counter()
    return Sample(((first or end) - started) * 1000, (end - started) * 1000, deltas, reply.status_code == 200)


async def api_turn(client: httpx.AsyncClient, url: str, token: str, model_id: str, session_id: str) -> Sample:
    """One turn through /invocations, timed to its first content delta and to `done`."""
    started = time.perf_counter()
    first: float | None = None
    deltas, done = 0, False
    body = {"session_id": session_id, "message": "hi", "model_id": model_id}
    headers = {"Authorization": f"Bearer {token}"}
    async with client.stream("POST", f"{url}/invocations", json=body, headers=headers) as reply:
        async for line in reply.aiter_lines():
            if line == "event: content_block_delta":
                first = first if first is not None else time.perf_counter()
                deltas += 1
            elif line == "event: done":
                done = True
            elif line == "event: stream_error":
                done = False
    end = time.perf_counter()
    return Sample(((first or end) - started) * 1000, (end - started) * 1000, deltas, reply.status_code == 200 and done)


async def sequential(make: object, count: int) -> list[Sample]:
    samples = []
    for index in range(count):
        samples.append(await make(index))  # type: ignore[operator]
    return samples


async def concurrent(make: object, count: int, in_flight: int) -> tuple[list[Sample], float]:
    """`count` turns with at most `in_flight` at once; returns the samples and the elapsed seconds."""
    gate = asyncio.Semaphore(in_flight)

    async def one(index: int) -> Sample:
        async with gate:
            try:
                return await make(index)  # type: ignore[operator, no-any-return]
            except httpx.HTTPError:
                return Sample(0.0, 0.0, 0, False)

    started = time.perf_counter()
    samples = await asyncio.gather(*(one(index) for index in range(count)))
    return list(samples), time.perf_counter() - started


@asynccontextmanager
async def fake_provider() -> AsyncIterator[str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.fake_openai", str(port))
    url = f"http://127.0.0.1:{port}/v1"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(500):
                try:
                    await client.get(f"{url}/models")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.02)
        yield url
    finally:
        process.terminate()
        await process.wait()


async def seed(data_dir: Path) -> None:
    storage = await open_storage(StorageSettings(storage_backend=StorageBackend.LOCAL, data_dir=data_dir))
    try:
        bench_model = ManagedModelCreate(
            model_id="gpt-bench", model_name="Bench", provider="openai", input_price_per_million_tokens=1.0
        )
        await managed_models.create(models=storage.models, model_in=LOCAL_MODEL)
        await managed_models.create(models=storage.models, model_in=bench_model)
    finally:
        await storage.close()


async def stored_messages(data_dir: Path, session_ids: list[str]) -> int:
    storage = await open_storage(StorageSettings(storage_backend=StorageBackend.LOCAL, data_dir=data_dir))
    try:
        counted = 0
        for session_id in session_ids:
            session = await storage.sessions.get_session(USER, session_id)
            counted += session.message_count if session else 0
        return counted
    finally:
        await storage.close()


async def measure(data_dir: Path, api_url: str, fake_url: str) -> list[Row]:
    token = mint_local_token(settings=AuthSettings(), data_dir=data_dir, user_id=USER)
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        for _ in range(20):  # warm both paths
            await direct_turn(client, fake_url)
            await api_turn(client, api_url, token, "gpt-bench", f"warm-{time.perf_counter_ns()}")
        direct = await sequential(lambda i: direct_turn(client, fake_url), SEQUENTIAL)
        through = await sequential(lambda i: api_turn(client, api_url, token, "gpt-bench", f"seq-{i}"), SEQUENTIAL)
        local = await sequential(lambda i: api_turn(client, api_url, token, "local-echo", f"local-{i}"), 100)
        direct_50, _ = await concurrent(lambda i: direct_turn(client, fake_url), 200, 50)
        through_50, _ = await concurrent(lambda i: api_turn(client, api_url, token, "gpt-bench", f"c50-{i}"), 200, 50)
        throughput, elapsed = await concurrent(
            lambda i: api_turn(client, api_url, token, "gpt-bench", f"tp-{i}"), THROUGHPUT_TURNS, THROUGHPUT_IN_FLIGHT
        )
        burst_ids = [f"burst-{i}" for i in range(200)]
        burst, _ = await concurrent(lambda i: api_turn(client, api_url, token, "gpt-bench", burst_ids[i]), 200, 200)
    await asyncio.sleep(1.0)  # the last answers are stored as their streams end
    lost = 2 * len(burst_ids) - await stored_messages(data_dir, burst_ids)

    direct_ttfb = [s.first_byte_ms for s in direct]
    api_ttfb = [s.first_byte_ms for s in through]
    streaming = [s for s in through if s.total_ms > s.first_byte_ms]
    deltas_per_second = median([s.deltas / ((s.total_ms - s.first_byte_ms) / 1000) for s in streaming])
    return [
        Row("provider alone: time to first byte p50", median(direct_ttfb), None, "ms"),
        Row("provider alone: time to first byte p99", percentile(direct_ttfb, 0.99), None, "ms"),
        Row("through /invocations: time to first byte p50", median(api_ttfb), None, "ms"),
        Row("through /invocations: time to first byte p99", percentile(api_ttfb, 0.99), None, "ms"),
        Row("turn overhead over the provider's TTFB, p50", median(api_ttfb) - median(direct_ttfb), 4, "ms"),
        Row(
            "turn overhead over the provider's TTFB, p99",
            percentile(api_ttfb, 0.99) - percentile(direct_ttfb, 0.99),
            10,
            "ms",
        ),
        Row("local provider: time to first byte p50", median([s.first_byte_ms for s in local]), None, "ms"),
        Row("deltas per second within a turn (median)", deltas_per_second, None, "/s"),
        Row(f"turns per second ({THROUGHPUT_IN_FLIGHT} in flight)", THROUGHPUT_TURNS / elapsed, 400, "/s", True),
        Row(
            "50 in flight: TTFB p50 / direct p50 at 50 in flight",
            median([s.first_byte_ms for s in through_50]) / median([s.first_byte_ms for s in direct_50]),
            None,
            "x",
        ),
        Row(
            "50 in flight: TTFB p50 / sequential direct p50",
            median([s.first_byte_ms for s in through_50]) / median(direct_ttfb),
            5,
            "x",
        ),
        Row("200 concurrent turns: errors", sum(not s.ok for s in burst), 0, ""),
        Row("200 concurrent turns: lost messages (in storage)", lost, 0, ""),
        Row(
            "errors in all other runs", sum(not s.ok for s in direct + through + local + through_50 + throughput), 0, ""
        ),
    ]


async def run() -> None:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        await seed(data_dir)
        async with fake_provider() as fake_url:
            environment = {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake_url, "LOG_LEVEL": "WARNING"}
            with service_process("inference", data_dir, **environment) as (api_url, _, _):
                rows = await measure(data_dir, api_url, fake_url)
    print_table("Chat turns through HTTP (local backend, OpenAI fake streaming 64 deltas with no delay)", rows)
    print(json.dumps({row.figure: round(row.measured, 3) for row in rows}))


if __name__ == "__main__":
    asyncio.run(run())
