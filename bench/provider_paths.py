"""The Bedrock and Gemini paths of a turn, measured in the same run as bench.turns' OpenAI path and bare relay.

Each provider is the suite's fake in a process of its own (bench/fake_bedrock.py, bench/fake_gemini.py) streaming
the same 64-delta turn as the OpenAI fake, over its own wire protocol: ConverseStream's event stream for Bedrock,
server-sent `GenerateContentResponse`s for Gemini. For each, the provider alone (time to its first delta), then
turns through `/invocations`, held to issue 16's targets against the bare relay's figures from the same run.

bench.turns calls `provider_fakes()` around its service (adding what it yields to the inference API's environment),
seeds `BENCH_PROVIDER_MODELS`, and adds `provider_rows(...)` to its table. `python -m bench.provider_paths` runs
the same measurement on its own, beside a bare relay of its own (about two minutes on 2 cores).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from apis.shared.models import ManagedModelCreate
from bench.common import Row, module_process, percentile, print_table

# bench.turns is imported inside the functions that use it: it imports this module, and `python -m bench.turns`
# would otherwise meet a half-initialised module.

SEQUENTIAL = 150
THROUGHPUT_TURNS = 300
IN_FLIGHT = 20
WARM_UP = 20
BEDROCK_MODEL_ID = "anthropic.claude-bench-v1:0"
GEMINI_MODEL_ID = "gemini-bench"
# The Bedrock fake reads the access key id from the signature's credential scope and checks nothing else.
AWS_ACCESS_KEY_ID = "AKIABENCHFAKE0000000"
GEMINI_API_KEY = "gemini-bench"

BENCH_PROVIDER_MODELS: list[ManagedModelCreate] = [
    ManagedModelCreate(
        model_id=BEDROCK_MODEL_ID, model_name="Bench Bedrock", provider="bedrock", input_price_per_million_tokens=1.0
    ),
    ManagedModelCreate(
        model_id=GEMINI_MODEL_ID, model_name="Bench Gemini", provider="gemini", input_price_per_million_tokens=1.0
    ),
]

# The OpenAI fake's model, as bench.turns seeds it.
OPENAI_MODEL = ManagedModelCreate(
    model_id="gpt-bench", model_name="Bench", provider="openai", input_price_per_million_tokens=1.0
)


@dataclass(frozen=True)
class RelayFigures:
    """The bare relay's figures from the same run, which the targets are relative to."""

    first_delta_p50_ms: float
    first_delta_p99_ms: float
    cpu_ms: float
    turns_per_second: float


@dataclass(frozen=True)
class _Fakes:
    bedrock_url: str
    gemini_url: str


_RUNNING: list[_Fakes] = []


@asynccontextmanager
async def provider_fakes() -> AsyncIterator[dict[str, str]]:
    """Both fakes in processes of their own; yields the inference API's environment for reaching them."""
    async with AsyncExitStack() as stack:
        bedrock_url, _ = await stack.enter_async_context(
            module_process("bench.fake_bedrock", probe=lambda c, u: c.get(f"{u}/foundation-models"))
        )
        gemini_url, _ = await stack.enter_async_context(
            module_process("bench.fake_gemini", probe=lambda c, u: c.get(f"{u}/v1beta/models"))
        )
        _RUNNING.append(_Fakes(bedrock_url, gemini_url))
        stack.callback(_RUNNING.pop)
        yield {
            "AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": "bench-secret",
            "BEDROCK_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_url,
            "GEMINI_API_KEY": GEMINI_API_KEY,
            "GEMINI_BASE_URL": gemini_url,
        }


async def bedrock_alone(client: httpx.AsyncClient, url: str) -> float:
    """Milliseconds to the first text delta of one ConverseStream call straight to the fake (signature unchecked)."""
    body = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY_ID}/bench"}
    return await _first_delta(
        client, f"{url}/model/{BEDROCK_MODEL_ID}/converse-stream", body, headers, b"contentBlockDelta"
    )


async def gemini_alone(client: httpx.AsyncClient, url: str) -> float:
    """Milliseconds to the first text delta of one streamGenerateContent call straight to the fake."""
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    target = f"{url}/v1beta/models/{GEMINI_MODEL_ID}:streamGenerateContent?alt=sse"
    return await _first_delta(client, target, body, {"x-goog-api-key": GEMINI_API_KEY}, b'"text": "w')


async def _first_delta(
    client: httpx.AsyncClient, url: str, body: object, headers: dict[str, str], mark: bytes
) -> float:
    started = time.perf_counter()
    first: float | None = None
    async with client.stream("POST", url, json=body, headers=headers) as reply:
        async for chunk in reply.aiter_raw():
            if first is None and mark in chunk:
                first = time.perf_counter()
    if reply.status_code != 200 or first is None:
        raise RuntimeError(f"the fake answered {reply.status_code} without a delta")
    return (first - started) * 1000


async def provider_rows(
    client: httpx.AsyncClient, api_url: str, token: str, api_pid: int, relay: RelayFigures
) -> list[Row]:
    """Bedrock's and Gemini's rows, measured now against the fakes `provider_fakes()` started."""
    fakes = _RUNNING[-1]
    rows: list[Row] = []
    rows += await _provider(
        client, (api_url, token, api_pid), relay, "Bedrock", BEDROCK_MODEL_ID, bedrock_alone, fakes.bedrock_url
    )
    rows += await _provider(
        client, (api_url, token, api_pid), relay, "Gemini", GEMINI_MODEL_ID, gemini_alone, fakes.gemini_url
    )
    return rows


async def _provider(
    client: httpx.AsyncClient,
    api: tuple[str, str, int],
    relay: RelayFigures,
    label: str,
    model_id: str,
    alone: Callable[[httpx.AsyncClient, str], Awaitable[float]],
    fake_url: str,
) -> list[Row]:
    from bench.turns import api_turn, concurrent, cpu_per_turn, sequential

    api_url, token, api_pid = api
    prefix = label.lower()

    def turns(phase: str) -> Callable[[int], Awaitable[object]]:
        return lambda i: api_turn(client, api_url, token, model_id, f"{prefix}-{phase}-{i}")

    await sequential(turns("warm"), WARM_UP)
    for _ in range(WARM_UP):
        await alone(client, fake_url)
    direct = [await alone(client, fake_url) for _ in range(SEQUENTIAL)]
    through, cpu = await cpu_per_turn(api_pid, turns("seq"), SEQUENTIAL)
    throughput, elapsed = await concurrent(turns("tp"), THROUGHPUT_TURNS, IN_FLIGHT)
    errors = sum(not sample.ok for sample in [*through, *throughput])
    first = [sample.first_byte_ms for sample in through]
    p50 = percentile(first, 0.5) - percentile(direct, 0.5)
    p99 = percentile(first, 0.99) - percentile(direct, 0.99)
    return [
        Row(f"{label} alone: time to first delta p50", percentile(direct, 0.5), None, "ms"),
        Row(f"{label} turn: first delta added over the provider, p50", p50, relay.first_delta_p50_ms + 1, "ms"),
        Row(f"{label} turn: first delta added over the provider, p99", p99, relay.first_delta_p99_ms + 3, "ms"),
        Row(f"{label} turn: server CPU per 64-delta turn", cpu, 1.5 * relay.cpu_ms, "ms"),
        Row(
            f"{label} turn: turns per second ({IN_FLIGHT} in flight)",
            THROUGHPUT_TURNS / elapsed,
            relay.turns_per_second * 2 / 3,
            "/s",
            True,
        ),
        Row(f"{label} turn: errors", errors, 0, ""),
    ]


async def _relay_figures(client: httpx.AsyncClient, fake_url: str, relay: tuple[str, int]) -> RelayFigures:
    from bench.turns import concurrent, cpu_per_turn, direct_turn, relay_turn, sequential

    relay_url, relay_pid = relay
    for _ in range(WARM_UP):
        await direct_turn(client, fake_url)
        await relay_turn(client, relay_url)
    direct = [s.first_byte_ms for s in await sequential(lambda i: direct_turn(client, fake_url), SEQUENTIAL)]
    relayed, cpu = await cpu_per_turn(relay_pid, lambda i: relay_turn(client, relay_url), SEQUENTIAL)
    _, elapsed = await concurrent(lambda i: relay_turn(client, relay_url), THROUGHPUT_TURNS, IN_FLIGHT)
    first = [s.first_byte_ms for s in relayed]
    return RelayFigures(
        first_delta_p50_ms=percentile(first, 0.5) - percentile(direct, 0.5),
        first_delta_p99_ms=percentile(first, 0.99) - percentile(direct, 0.99),
        cpu_ms=cpu,
        turns_per_second=THROUGHPUT_TURNS / elapsed,
    )


async def _openai_rows(
    client: httpx.AsyncClient, api: tuple[str, str, int], relay: RelayFigures, fake_url: str
) -> list[Row]:
    """The OpenAI path measured the same way, for comparison when this module runs on its own."""
    from bench.turns import direct_turn

    async def alone(client: httpx.AsyncClient, url: str) -> float:
        return (await direct_turn(client, url)).first_byte_ms

    return await _provider(client, api, relay, "OpenAI", OPENAI_MODEL.model_id, alone, fake_url)


async def run() -> None:
    """This module's measurement alone, beside a bare relay (on the OpenAI fake) of its own."""
    from apis.shared.auth import mint_local_token
    from apis.shared.config import AuthSettings
    from bench.common import service_process

    # bench.turns' own seed: a fresh install's catalogue, whose default (the title model) is the offline model,
    # as on the figures bench.turns prints; a provider as the default would add a title call to every turn.
    from bench.turns import USER, fake_provider, relay_process, seed

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        await seed(data_dir)
        async with fake_provider() as fake_url, relay_process(fake_url) as relay, provider_fakes() as environment:
            environment |= {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake_url}
            with service_process("inference", data_dir, LOG_LEVEL="WARNING", **environment) as (api_url, process, _):
                token = mint_local_token(settings=AuthSettings(), data_dir=data_dir, user_id=USER)
                limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
                async with httpx.AsyncClient(timeout=60, limits=limits) as client:
                    figures = await _relay_figures(client, fake_url, relay)
                    rows = await provider_rows(client, api_url, token, process.pid, figures)
                    rows += await _openai_rows(client, (api_url, token, process.pid), figures, fake_url)
    relay_rows = [
        Row("bare relay: first delta added over the provider, p50", figures.first_delta_p50_ms, None, "ms"),
        Row("bare relay: first delta added over the provider, p99", figures.first_delta_p99_ms, None, "ms"),
        Row("bare relay: server CPU per turn", figures.cpu_ms, None, "ms"),
        Row(f"bare relay: turns per second ({IN_FLIGHT} in flight)", figures.turns_per_second, None, "/s", True),
    ]
    print_table("Bedrock and Gemini turns beside a bare relay (fakes: 64 deltas, no delay)", relay_rows + rows)


if __name__ == "__main__":
    asyncio.run(run())
