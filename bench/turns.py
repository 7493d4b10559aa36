"""Chat turns through HTTP against the running inference API (local backend), beside a bare relay and the
provider alone, in one run (ARCHITECTURE.md's budgets as issue 16 restated them: ratios to the bare relay).

The provider is the suite's OpenAI fake in a process of its own, streaming 64 deltas with no delay. The bare relay
(bench/relay.py) streams the same provider's SSE through one route on the same server stack. Targets:
- first delta added over the provider: at most the relay's + 1 ms at p50, + 3 ms at p99;
- server CPU per 64-delta turn, storage included: at most 1.5 times the relay's;
- turns per second at 20 in flight: at least two thirds of the relay's;
- memory after 5,000 turns within 10 MB of memory after the first 100;
- 200 concurrent turns with no error and no lost message (messages counted in storage).
The offline `local` model's figures are shown beside, without targets (it streams 10 deltas of its own), and so
are the Bedrock and Gemini paths against their fakes (bench/provider_paths.py) and a variant of the fresh
install (whose defaults have long-term memory on) with a quota tier every turn is checked against: a second
inference API on a data folder of its own, measured in the same run.
Run: `python -m bench.turns` (about six minutes on 2 cores).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from apis.shared import heap
from apis.shared.auth import mint_local_token
from apis.shared.config import AuthSettings, StorageBackend, StorageSettings
from apis.shared.models import LOCAL_MODEL, managed_models
from apis.shared.quota import AssignmentType
from apis.shared.quota import service as quota_service
from apis.shared.quota.schemas import QuotaAssignmentCreate, QuotaTierCreate
from apis.shared.storage import open_storage
from bench.common import (
    Row,
    cpu_seconds,
    median,
    module_process,
    percentile,
    print_table,
    resident_megabytes,
    service_process,
)
from bench.provider_paths import BENCH_PROVIDER_MODELS, OPENAI_MODEL, RelayFigures, provider_fakes, provider_rows

SEQUENTIAL = 300
THROUGHPUT_TURNS = 600
THROUGHPUT_IN_FLIGHT = 20
MEMORY_FIRST = 100
MEMORY_TOTAL = 5000
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


async def relay_turn(client: httpx.AsyncClient, relay_url: str) -> Sample:
    """One streamed chat completion through the bare relay."""
    started = time.perf_counter()
    first: float | None = None
    deltas = 0
    body = {"model": "gpt-bench", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with client.stream("POST", f"{relay_url}/relay", json=body) as reply:
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
    """The OpenAI fake in a process of its own; yields its API's base URL."""
    async with module_process("bench.fake_openai", probe=lambda client, url: client.get(f"{url}/v1/models")) as (
        url,
        _,
    ):
        yield f"{url}/v1"


def relay_process(fake_url: str) -> AbstractAsyncContextManager[tuple[str, int]]:
    """The bare relay (bench/relay.py) in a process of its own, in front of `fake_url`; yields its URL and pid."""
    return module_process("bench.relay", fake_url, probe=lambda client, url: client.get(f"{url}/ping"))


async def cpu_per_turn(pid: int, turns: object, count: int) -> tuple[list[Sample], float]:
    """`count` sequential turns, and the server's CPU milliseconds per turn over them."""
    before = cpu_seconds(pid)
    samples = await sequential(turns, count)
    return samples, (cpu_seconds(pid) - before) * 1000 / count


async def seed(data_dir: Path, *, quota_tier: bool = False) -> None:
    """The catalogue of a fresh install plus the bench's models; with `quota_tier`, a default tier (limits far
    above what the run spends, so every turn is checked and none refused)."""
    storage = await open_storage(StorageSettings(storage_backend=StorageBackend.LOCAL, data_dir=data_dir))
    try:
        await managed_models.create(models=storage.models, model_in=LOCAL_MODEL)
        await managed_models.create(models=storage.models, model_in=OPENAI_MODEL)
        for model in BENCH_PROVIDER_MODELS:
            await managed_models.create(models=storage.models, model_in=model)
        if quota_tier:
            tier = QuotaTierCreate(
                tier_id="bench", tier_name="Bench", monthly_cost_limit=1_000_000, daily_cost_limit=100_000
            )
            await quota_service.create_tier(quotas=storage.quotas, tier_in=tier, created_by="bench")
            assignment = QuotaAssignmentCreate(assignment_type=AssignmentType.DEFAULT_TIER, tier_id="bench")
            await quota_service.create_assignment(quotas=storage.quotas, assignment_in=assignment, created_by="bench")
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


async def variant_rows(
    client: httpx.AsyncClient, variant: tuple[str, int, str], relay: RelayFigures, fake_url: str
) -> list[Row]:
    """The OpenAI path's figures on the variant's inference API (a quota tier checked every turn). As for the
    provider rows, the provider alone is measured again just before the variant's turns: this late in the run,
    its figure from the start would compare the variant with a machine in another state."""
    url, pid, token = variant

    def turn(phase: str) -> object:
        return lambda i: api_turn(client, url, token, "gpt-bench", f"quota-{phase}-{i}")

    await concurrent(turn("warm"), MEMORY_FIRST, THROUGHPUT_IN_FLIGHT)
    direct = await sequential(lambda i: direct_turn(client, fake_url), SEQUENTIAL)
    through, cpu = await cpu_per_turn(pid, turn("seq"), SEQUENTIAL)
    throughput, elapsed = await concurrent(turn("tp"), THROUGHPUT_TURNS, THROUGHPUT_IN_FLIGHT)
    first, alone = [s.first_byte_ms for s in through], [s.first_byte_ms for s in direct]
    label = "with a quota tier (memory on)"
    return [
        Row(
            f"{label}: first delta added, p50",
            percentile(first, 0.5) - percentile(alone, 0.5),
            relay.first_delta_p50_ms + 1,
            "ms",
        ),
        Row(
            f"{label}: first delta added, p99",
            percentile(first, 0.99) - percentile(alone, 0.99),
            relay.first_delta_p99_ms + 3,
            "ms",
        ),
        Row(f"{label}: server CPU per turn", cpu, 1.5 * relay.cpu_ms, "ms"),
        Row(f"{label}: turns per second", THROUGHPUT_TURNS / elapsed, relay.turns_per_second * 2 / 3, "/s", True),
        Row(f"{label}: errors", sum(not s.ok for s in [*through, *throughput]), 0, ""),
    ]


async def measure(
    data_dir: Path,
    api: tuple[str, int],
    fake_url: str,
    relay: tuple[str, int],
    variant: tuple[Path, str, int],
) -> list[Row]:
    (api_url, api_pid), (relay_url, relay_pid) = api, relay
    token = mint_local_token(settings=AuthSettings(), data_dir=data_dir, user_id=USER)
    variant_dir, variant_url, variant_pid = variant
    variant_token = mint_local_token(settings=AuthSettings(), data_dir=variant_dir, user_id=USER)

    def ttfb(samples: list[Sample], fraction: float) -> float:
        return percentile([s.first_byte_ms for s in samples], fraction)

    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        def openai(prefix: str) -> object:
            return lambda i: api_turn(client, api_url, token, "gpt-bench", f"{prefix}-{i}")

        # The first turns under the same load as the rest (20 in flight), so that the memory baseline includes
        # what concurrency itself takes (worker threads, connections) and the growth after it is per turn.
        first, _ = await concurrent(openai("first"), MEMORY_FIRST, THROUGHPUT_IN_FLIGHT)
        memory_first = resident_megabytes(api_pid)
        for _ in range(20):  # warm the other paths
            await direct_turn(client, fake_url)
            await relay_turn(client, relay_url)
        direct = await sequential(lambda i: direct_turn(client, fake_url), SEQUENTIAL)
        relayed, relay_cpu = await cpu_per_turn(relay_pid, lambda i: relay_turn(client, relay_url), SEQUENTIAL)
        through, api_cpu = await cpu_per_turn(api_pid, openai("seq"), SEQUENTIAL)
        local, local_cpu = await cpu_per_turn(
            api_pid, lambda i: api_turn(client, api_url, token, "local-echo", f"local-{i}"), 100
        )
        _, relay_elapsed = await concurrent(
            lambda i: relay_turn(client, relay_url), THROUGHPUT_TURNS, THROUGHPUT_IN_FLIGHT
        )
        throughput, elapsed = await concurrent(openai("tp"), THROUGHPUT_TURNS, THROUGHPUT_IN_FLIGHT)
        local_tp, local_elapsed = await concurrent(
            lambda i: api_turn(client, api_url, token, "local-echo", f"ltp-{i}"), THROUGHPUT_TURNS, THROUGHPUT_IN_FLIGHT
        )
        burst_ids = [f"burst-{i}" for i in range(200)]
        burst, _ = await concurrent(lambda i: api_turn(client, api_url, token, "gpt-bench", burst_ids[i]), 200, 200)
        made = MEMORY_FIRST + 2 * SEQUENTIAL + 100 + 2 * THROUGHPUT_TURNS + 200
        rest, _ = await concurrent(openai("mem"), max(0, MEMORY_TOTAL - made), THROUGHPUT_IN_FLIGHT)
        memory_last = resident_megabytes(api_pid)
        # After the memory figure: the other providers' models and clients are not what it measures.
        relay_figures = RelayFigures(
            first_delta_p50_ms=ttfb(relayed, 0.5) - ttfb(direct, 0.5),
            first_delta_p99_ms=ttfb(relayed, 0.99) - ttfb(direct, 0.99),
            cpu_ms=relay_cpu,
            turns_per_second=THROUGHPUT_TURNS / relay_elapsed,
        )
        provider_table = await provider_rows(client, api_url, token, api_pid, relay_figures)
        variant_table = await variant_rows(client, (variant_url, variant_pid, variant_token), relay_figures, fake_url)
    await asyncio.sleep(1.0)  # the last answers are stored as their streams end
    lost = 2 * len(burst_ids) - await stored_messages(data_dir, burst_ids)

    relay_p50, relay_p99 = ttfb(relayed, 0.5) - ttfb(direct, 0.5), ttfb(relayed, 0.99) - ttfb(direct, 0.99)
    api_p50, api_p99 = ttfb(through, 0.5) - ttfb(direct, 0.5), ttfb(through, 0.99) - ttfb(direct, 0.99)
    relay_tps, api_tps = THROUGHPUT_TURNS / relay_elapsed, THROUGHPUT_TURNS / elapsed
    streaming = [s for s in through if s.total_ms > s.first_byte_ms]
    deltas_per_second = median([s.deltas / ((s.total_ms - s.first_byte_ms) / 1000) for s in streaming])
    phases = {
        "first turns": first,
        "provider alone": direct,
        "bare relay": relayed,
        "sequential turns": through,
        "offline model": local,
        "throughput": throughput,
        "offline throughput": local_tp,
        "memory run": rest,
    }
    failed = {name: sum(not s.ok for s in samples) for name, samples in phases.items()}
    if any(failed.values()):
        print("failed samples by run:", {name: count for name, count in failed.items() if count})
    return [
        Row("provider alone: time to first byte p50", ttfb(direct, 0.5), None, "ms"),
        Row("bare relay: first delta added over the provider, p50", relay_p50, None, "ms"),
        Row("bare relay: first delta added over the provider, p99", relay_p99, None, "ms"),
        Row("turn: first delta added over the provider, p50", api_p50, relay_p50 + 1, "ms"),
        Row("turn: first delta added over the provider, p99", api_p99, relay_p99 + 3, "ms"),
        Row("bare relay: server CPU per turn", relay_cpu, None, "ms"),
        Row("turn: server CPU per 64-delta turn (storage included)", api_cpu, 1.5 * relay_cpu, "ms"),
        Row(f"bare relay: turns per second ({THROUGHPUT_IN_FLIGHT} in flight)", relay_tps, None, "/s", True),
        Row(f"turn: turns per second ({THROUGHPUT_IN_FLIGHT} in flight)", api_tps, relay_tps * 2 / 3, "/s", True),
        Row(f"turn: memory growth, turn {MEMORY_FIRST} to turn {MEMORY_TOTAL}", memory_last - memory_first, 10, "MB"),
        Row("turn: deltas per second within a turn (median)", deltas_per_second, None, "/s"),
        Row("offline model: first delta p50 (no provider)", ttfb(local, 0.5), None, "ms"),
        Row("offline model: server CPU per turn (10 deltas)", local_cpu, None, "ms"),
        Row(
            f"offline model: turns per second ({THROUGHPUT_IN_FLIGHT} in flight)",
            THROUGHPUT_TURNS / local_elapsed,
            None,
            "/s",
        ),
        Row("200 concurrent turns: errors", sum(not s.ok for s in burst), 0, ""),
        Row("200 concurrent turns: lost messages (in storage)", lost, 0, ""),
        Row("errors in all other runs", sum(failed.values()), 0, ""),
        *provider_table,
        *variant_table,
    ]


async def run() -> None:
    with tempfile.TemporaryDirectory() as folder:
        data_dir, variant_dir = Path(folder) / "fresh", Path(folder) / "quota"
        await seed(data_dir)
        await seed(variant_dir, quota_tier=True)
        # The load client's own full collections (50 ms with what seeding loaded) would stall it mid-turn: its
        # heap is frozen as the servers' are, and what it allocates from here is collected as before.
        heap.freeze()
        async with fake_provider() as fake_url, provider_fakes() as provider_environment:
            environment = {
                "OPENAI_API_KEY": "sk-bench",
                "OPENAI_BASE_URL": fake_url,
                "LOG_LEVEL": "WARNING",
                **provider_environment,
            }
            async with relay_process(fake_url) as relay:
                with (
                    service_process("inference", data_dir, **environment) as (api_url, process, _),
                    service_process("inference", variant_dir, **environment) as (variant_url, variant, _),
                ):
                    rows = await measure(
                        data_dir,
                        (api_url, process.pid),
                        fake_url,
                        relay,
                        (variant_dir, variant_url, variant.pid),
                    )
    print_table("Chat turns through HTTP beside a bare relay (local backend, fakes: 64 deltas, no delay)", rows)
    print(json.dumps({row.figure: round(row.measured, 3) for row in rows}))


if __name__ == "__main__":
    asyncio.run(run())
