"""What a fake chat model answers, written once for all three providers.

A `ChatScript` is a queue of turns; every HTTP call to a fake's chat endpoint takes the next turn (SDK retries
included, so failure tests turn retries off or script the retried turns). A turn is a list of steps:

- `Text` and `Reasoning`: one streamed delta each;
- `ToolCall`: one tool call, streamed as the provider streams it (arguments in fragments where it fragments them);
- `Usage`: the token counts the provider reports at the end (`DEFAULT_USAGE` when a turn has none);
- `MaxTokens`: the model stopped at its output limit;
- `Fail`: the whole call is refused before the first byte, with the provider's error body and `status`;
- `Drop`: the connection is cut here, mid-stream; `StreamError`: the provider's in-stream error is sent here.

Every step may wait `delay_seconds` before it is sent, for tests of time-outs, keep-alive and disconnects.
The stop reason follows from the last `Text`, `Reasoning`, `ToolCall` or `MaxTokens` step.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

StopReason = Literal["end_turn", "tool_use", "max_tokens"]
# Fragments per tool call's arguments; the JSON of any object has at least two characters, so two fit always.
ARGUMENT_FRAGMENTS = 3


@dataclass(frozen=True, slots=True)
class Text:
    """One delta of the answer's text."""

    text: str
    delay_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Reasoning:
    """One delta of the model's reasoning, where the provider streams reasoning."""

    text: str
    delay_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A request to run a tool; `arguments` is what the streamed fragments must reassemble to."""

    id: str
    name: str
    arguments: dict[str, Any]
    delay_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts; `input_tokens` excludes cached ones, and each fake adds them back where its provider does."""

    input_tokens: int
    output_tokens: int
    cache_read: int = 0
    cache_write: int = 0
    delay_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class MaxTokens:
    """The model ran into its output limit: the stop reason is max_tokens (OpenAI length, Gemini MAX_TOKENS)."""

    delay_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Fail:
    """The call fails before the first byte; `code` is the provider's error code where it has one."""

    status: int = 500
    message: str = "the fake model failed"
    code: str | None = None
    delay_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Drop:
    """The connection is cut at this point of the stream, without an error."""

    delay_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class StreamError:
    """The provider's own in-stream error is sent here; `status` picks its kind (500 internal, 429 throttling)."""

    message: str = "the fake model broke off"
    status: int = 500
    delay_seconds: float = 0.0


Content = Text | Reasoning | ToolCall | Usage | MaxTokens
Step = Content | Fail | Drop | StreamError
Turn = Sequence[Step]

DEFAULT_USAGE = Usage(input_tokens=10, output_tokens=20)


@dataclass
class ChatScript:
    """The turns still to be answered, in order; the test's thread adds, the fake's thread takes."""

    turns: list[Turn] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *steps: Step) -> ChatScript:
        """Append one turn (one model call); returns the script so turns chain."""
        with self._lock:
            self.turns.append(list(steps))
        return self

    def next_turn(self) -> Turn | None:
        """The next turn, removed from the script; None once every turn was taken."""
        with self._lock:
            return self.turns.pop(0) if self.turns else None


def failure(turn: Turn) -> Fail | None:
    """The turn's `Fail`, which refuses the whole call wherever it stands in the turn."""
    return next((step for step in turn if isinstance(step, Fail)), None)


def stop_reason(turn: Turn) -> StopReason:
    """The provider-neutral stop reason: that of the turn's last text, reasoning, tool call or MaxTokens step."""
    for step in reversed(turn):
        match step:
            case MaxTokens():
                return "max_tokens"
            case ToolCall():
                return "tool_use"
            case Text() | Reasoning():
                return "end_turn"
    return "end_turn"


def usage(turn: Turn) -> Usage:
    """The usage the turn reports: its last `Usage` step, else `DEFAULT_USAGE`."""
    return next((step for step in reversed(turn) if isinstance(step, Usage)), DEFAULT_USAGE)


def argument_fragments(arguments: dict[str, Any]) -> list[str]:
    """The arguments' JSON cut into at least two fragments, as providers stream partial JSON."""
    encoded = json.dumps(arguments)
    size = max(1, -(-len(encoded) // ARGUMENT_FRAGMENTS))
    return [encoded[start : start + size] for start in range(0, len(encoded), size)]


def answer_text(turn: Turn) -> str:
    """The turn's text deltas joined, as a non-streaming answer carries them."""
    return "".join(step.text for step in turn if isinstance(step, Text))


def reasoning_text(turn: Turn) -> str:
    """The turn's reasoning deltas joined."""
    return "".join(step.text for step in turn if isinstance(step, Reasoning))


def total_delay(turn: Turn) -> float:
    """How long a non-streaming answer waits: every step's delay, one after another."""
    return sum(step.delay_seconds for step in turn)
