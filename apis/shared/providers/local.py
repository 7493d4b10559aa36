"""The offline `local` model: answers deterministically from its input, so the stack runs with no network.

It streams the event shape of Bedrock's ConverseStream (messageStart, contentBlockDelta, messageStop,
metadata), the same shape Strands Agents' models produce, so a turn treats it like any other provider.
Its answers say plainly that they come from the offline model.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

StreamEvent = dict[str, Any]


def estimate_tokens(text: str) -> int:
    """A rough count (four characters a token) so that usage and cost are exercised end to end."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _text_of(message: dict[str, Any]) -> str:
    return " ".join(block["text"] for block in message.get("content", []) if "text" in block)


def compose_reply(messages: Sequence[dict[str, Any]]) -> str:
    """The reply to the last user message, which the offline model only describes, never interprets."""
    prompt = _text_of(messages[-1]) if messages else ""
    words = len(prompt.split())
    return (
        f"[local offline model] You said: \u201c{prompt}\u201d. That is {words} "
        f"word{'s' if words != 1 else ''} and {len(prompt)} characters. "
        "Configure a model provider for real answers."
    )


class LocalChatModel:
    """A deterministic model streaming its reply a few words per delta."""

    provider = "local"

    def __init__(self, *, words_per_delta: int = 3, delta_delay_ms: int = 0) -> None:
        self.words_per_delta = words_per_delta
        self.delta_delay_seconds = delta_delay_ms / 1000

    async def stream(
        self, messages: Sequence[dict[str, Any]], *, system_prompt: str | None = None
    ) -> AsyncIterator[StreamEvent]:
        started = time.perf_counter()
        reply = compose_reply(messages)
        words = reply.split(" ")
        yield {"messageStart": {"role": "assistant"}}
        yield {"contentBlockStart": {"contentBlockIndex": 0, "start": {}}}
        for first in range(0, len(words), self.words_per_delta):
            piece = " ".join(words[first : first + self.words_per_delta])
            text = piece if first == 0 else " " + piece
            if self.delta_delay_seconds:
                await asyncio.sleep(self.delta_delay_seconds)
            yield {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": text}}}
        yield {"contentBlockStop": {"contentBlockIndex": 0}}
        yield {"messageStop": {"stopReason": "end_turn"}}
        prompt_text = (system_prompt or "") + " ".join(_text_of(message) for message in messages)
        input_tokens, output_tokens = estimate_tokens(prompt_text), estimate_tokens(reply)
        yield {
            "metadata": {
                "usage": {
                    "inputTokens": input_tokens,
                    "outputTokens": output_tokens,
                    "totalTokens": input_tokens + output_tokens,
                },
                "metrics": {"latencyMs": round((time.perf_counter() - started) * 1000, 3)},
            }
        }
