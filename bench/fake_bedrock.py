"""The Bedrock fake of the test suite as a process of its own, answering every ConverseStream call with the same
turn as bench.fake_openai's: 64 text deltas with no delay, then usage, in AWS's event stream framing.
Run by bench.provider_paths; `python -m bench.fake_bedrock PORT`."""

from __future__ import annotations

from bench.fake_openai import RepeatingScript, serve
from tests.fakes.bedrock_server import FakeBedrockState, create_bedrock_app


def main() -> None:
    serve(create_bedrock_app(FakeBedrockState(script=RepeatingScript())))


if __name__ == "__main__":
    main()
