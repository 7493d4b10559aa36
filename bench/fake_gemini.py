"""The Gemini fake of the test suite as a process of its own, answering every streamGenerateContent call with the
same turn as bench.fake_openai's: 64 text deltas with no delay, then usage, as server-sent events.
Run by bench.provider_paths; `python -m bench.fake_gemini PORT`."""

from __future__ import annotations

from bench.fake_openai import RepeatingScript, serve
from tests.fakes.gemini_server import FakeGeminiState, create_gemini_app


def main() -> None:
    serve(create_gemini_app(FakeGeminiState(script=RepeatingScript())))


if __name__ == "__main__":
    main()
