"""The offline `local` model: a Strands model that answers deterministically from its input, with no network.

It lets the whole stack run, and be tested, with no keys. Its answers say plainly that they come from the
offline model. It streams the ConverseStream event shape every Strands model produces, and it can use the
calculator tool when asked to "calculate ..." and the tool is offered, so tool turns work offline too. As the
memory model, it answers extraction and summary tasks with JSON by rule (local_memory.py).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncGenerator, AsyncIterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from strands.models import Model
from strands.types.content import Messages
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolSpec

from apis.shared.errors import ProviderError
from apis.shared.providers import local_memory
from apis.shared.providers.token_estimates import estimate_tokens

T = TypeVar("T", bound=BaseModel)
# How much of the context a turn added (knowledge passages) the offline model quotes back.
_CONTEXT_QUOTE_CHARS = 600
_CALCULATE = re.compile(r"\bcalculate\s+(?P<expression>[-+*/%().\d\s^]+)", re.IGNORECASE)


def _texts(message: dict[str, Any]) -> str:
    return " ".join(block["text"] for block in message.get("content", []) if "text" in block)


def _tool_results(message: dict[str, Any]) -> list[str]:
    results = [block["toolResult"] for block in message.get("content", []) if "toolResult" in block]
    return [_texts({"content": result.get("content", [])}) for result in results]


def _json_marker(value: object) -> str:
    return f"<{len(value)} bytes>" if isinstance(value, bytes | bytearray) else str(value)


def _attachments(message: dict[str, Any]) -> list[str]:
    """What the offline model can say about attached files without reading them: name, format and size."""
    described = []
    for block in message.get("content", []):
        for kind in ("document", "image"):
            if kind in block:
                attached = block[kind]
                size = len(attached.get("source", {}).get("bytes", b""))
                name = f"{attached['name']} " if "name" in attached else ""
                described.append(f"{name}({attached.get('format', '?')} {kind}, {size} bytes)")
    return described


def compose_reply(messages: Sequence[dict[str, Any]]) -> str:
    """The reply to the last message, which the offline model only describes, never interprets."""
    last = messages[-1] if messages else {"content": []}
    results = _tool_results(last)
    if results:
        return f"[local offline model] The calculator says: {'; '.join(results)}."
    texts = [block["text"] for block in last.get("content", []) if "text" in block]
    # The user's own words come last; text blocks before them are context the turn added (knowledge passages).
    prompt = texts[-1] if texts else ""
    words = len(prompt.split())
    earlier = sum(1 for message in messages[:-1] if message.get("role") == "user" and _texts(message))
    attached = _attachments(last)
    plural = "s" if len(attached) != 1 else ""
    files = f" You attached {len(attached)} file{plural}: {'; '.join(attached)}." if attached else ""
    return _echo(prompt, words, earlier, files) + _context_note(texts[:-1])


def _context_note(context: list[str]) -> str:
    """What the offline model can say of context it was given: how much, and how it begins."""
    if not context:
        return ""
    flat = " ".join(" ".join(context).split())
    opening = flat if len(flat) <= _CONTEXT_QUOTE_CHARS else flat[:_CONTEXT_QUOTE_CHARS].rstrip() + "…"
    return f" I was also given {len(flat)} characters of context, which begin: \u201c{opening}\u201d"


def _echo(prompt: str, words: int, earlier: int, files: str) -> str:
    return (
        f"[local offline model] You said: \u201c{prompt}\u201d. That is {words} "
        f"word{'s' if words != 1 else ''} and {len(prompt)} characters, after {earlier} earlier "
        f"message{'s' if earlier != 1 else ''} of yours in this conversation.{files} "
        "Configure a model provider for real answers."
    )


class LocalChatModel(Model):
    """A deterministic model streaming its reply a few words per delta."""

    def __init__(self, *, model_id: str = "local-echo", words_per_delta: int = 3, delta_delay_ms: int = 0) -> None:
        self.config: dict[str, Any] = {
            "model_id": model_id,
            "words_per_delta": words_per_delta,
            "delta_delay_ms": delta_delay_ms,
        }

    def update_config(self, **model_config: Any) -> None:
        self.config.update(model_config)

    def get_config(self) -> dict[str, Any]:
        return dict(self.config)

    def structured_output(
        self, output_model: type[T], prompt: Messages, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[dict[str, T | Any], None]:
        raise ProviderError("the local model cannot produce structured output", code="unsupported")

    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterable[StreamEvent]:
        started = time.perf_counter()
        history = [dict(message) for message in messages]
        tool_names = {spec["name"] for spec in tool_specs or []}
        wanted = _CALCULATE.search(_texts(history[-1])) if history else None
        yield {"messageStart": {"role": "assistant"}}
        if wanted and "calculator" in tool_names and not _tool_results(history[-1]):
            expression = wanted.group("expression").strip()
            output = json.dumps({"expression": expression})
            yield {
                "contentBlockStart": {
                    "start": {"toolUse": {"toolUseId": f"local-{len(history)}", "name": "calculator"}}
                }
            }
            yield {"contentBlockDelta": {"delta": {"toolUse": {"input": output}}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "tool_use"}}
        else:
            # The memory model's tasks get their JSON answer (local_memory.py) in one piece, since nobody watches
            # it stream; anything else is echoed a few words at a time.
            memory_answer = local_memory.answer(system_prompt, _texts(history[-1])) if history else None
            output = memory_answer if memory_answer is not None else compose_reply(history)
            if memory_answer is not None:
                yield {"contentBlockDelta": {"delta": {"text": memory_answer}}}
            else:
                async for delta in self._deltas(output):
                    yield delta
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "end_turn"}}
        # Attachment bytes count as a marker of their size, not as the text of their repr.
        prompt_text = (system_prompt or "") + json.dumps(history, default=_json_marker)
        input_tokens, output_tokens = estimate_tokens(prompt_text), estimate_tokens(output)
        yield {
            "metadata": {
                "usage": {
                    "inputTokens": input_tokens,
                    "outputTokens": output_tokens,
                    "totalTokens": input_tokens + output_tokens,
                },
                "metrics": {"latencyMs": int((time.perf_counter() - started) * 1000)},
            }
        }

    async def _deltas(self, reply: str) -> AsyncIterable[StreamEvent]:
        words = reply.split(" ")
        step = int(self.config["words_per_delta"])
        delay = int(self.config["delta_delay_ms"]) / 1000
        for first in range(0, len(words), step):
            piece = " ".join(words[first : first + step])
            if delay:
                await asyncio.sleep(delay)
            yield {"contentBlockDelta": {"delta": {"text": piece if first == 0 else " " + piece}}}
