"""The OpenAI fake of the test suite as a process of its own, answering every chat call with the same turn:
64 deltas with no delay, then usage. Run by bench.turns; `python -m bench.fake_openai PORT`."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from apis.shared import heap
from tests.fakes.openai_server import FakeOpenAIState, create_openai_app
from tests.fakes.scripts import ChatScript, Text, Turn, Usage

DELTAS = 64
BENCH_TURN: Turn = [*(Text(f"w{index} ") for index in range(DELTAS)), Usage(input_tokens=50, output_tokens=DELTAS)]


@dataclass
class RepeatingScript(ChatScript):
    """Every call gets the same turn, for as many calls as a benchmark makes."""

    def next_turn(self) -> Turn | None:
        return BENCH_TURN


def serve(app: ASGIApp) -> None:
    """Serve a fake on loopback at the port the benchmark named (`python -m bench.fake_... PORT`), its heap frozen
    first: a full collection walking the fake's start-up objects stalled a turn's stream for 15-30 ms, noise in
    the server's figures (bench.turns' p99)."""
    heap.freeze()
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)


def main() -> None:
    serve(create_openai_app(FakeOpenAIState(script=RepeatingScript())))


if __name__ == "__main__":
    main()
