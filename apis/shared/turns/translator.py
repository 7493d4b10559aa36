"""Turns one model call's ConverseStream events (as Strands passes them on) into API.md's SSE vocabulary.

Providers differ in which block events they send and whether they number blocks (Bedrock sends no start
for a text block; Strands' OpenAI and Gemini models send no index at all), so the translator numbers the
blocks of a call itself and opens a block at its first delta when no start came: a client always sees
start, deltas, stop, with indices counting from 0 in each message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apis.shared.clock import now_iso
from apis.shared.sessions import TokenUsage

SseEvent = tuple[str, dict[str, Any]]


@dataclass
class _Block:
    kind: str  # "text", "tool_use" or "reasoning"
    text: str = ""
    tool_use: dict[str, Any] = field(default_factory=dict)


@dataclass
class CallTranslator:
    """Translation state of one model call (one assistant message)."""

    message_id: str
    # When the call began: the stored message's `createdAt`, the same in its checkpoints and its final version.
    created_at: str = field(default_factory=now_iso)
    blocks: list[_Block] = field(default_factory=list)
    open_block: int | None = None
    stop_reason: str | None = None
    usage: TokenUsage | None = None
    saw_output: bool = False

    def translate(self, event: dict[str, Any]) -> list[SseEvent]:
        """The SSE events for one model event (often one, sometimes none or two)."""
        if "messageStart" in event:
            return [("message_start", {"role": "assistant", "messageId": self.message_id})]
        if "contentBlockStart" in event:
            tool_use = event["contentBlockStart"].get("start", {}).get("toolUse")
            return self._close() + self._open("tool_use" if tool_use else "text", tool_use)
        if "contentBlockDelta" in event:
            return self._delta(event["contentBlockDelta"].get("delta", {}))
        if "contentBlockStop" in event:
            return self._close()
        if "messageStop" in event:
            self.stop_reason = event["messageStop"].get("stopReason", "end_turn")
            return [*self._close(), ("message_stop", {"stopReason": self.stop_reason})]
        if "metadata" in event:
            self.usage = TokenUsage.model_validate(event["metadata"].get("usage", {}))
        return []

    def _open(self, kind: str, tool_use: dict[str, Any] | None = None) -> list[SseEvent]:
        self.blocks.append(_Block(kind=kind, tool_use=dict(tool_use or {})))
        self.open_block = len(self.blocks) - 1
        if kind == "reasoning":
            return []
        data: dict[str, Any] = {"contentBlockIndex": self.open_block, "type": kind}
        if tool_use:
            data["toolUse"] = {"toolUseId": tool_use.get("toolUseId"), "name": tool_use.get("name")}
        return [("content_block_start", data)]

    def _close(self) -> list[SseEvent]:
        if self.open_block is None:
            return []
        index, self.open_block = self.open_block, None
        if self.blocks[index].kind == "reasoning":
            return []
        return [("content_block_stop", {"contentBlockIndex": index})]

    def _current(self, kind: str) -> tuple[list[SseEvent], _Block]:
        """The open block if it is of `kind`; otherwise close it and open one."""
        if self.open_block is not None and self.blocks[self.open_block].kind == kind:
            return [], self.blocks[self.open_block]
        events = self._close() + self._open(kind)
        return events, self.blocks[-1]

    def _delta(self, delta: dict[str, Any]) -> list[SseEvent]:
        if "text" in delta:
            events, block = self._current("text")
            block.text += delta["text"]
            self.saw_output = True
            index = self.blocks.index(block)
            return [
                *events,
                ("content_block_delta", {"contentBlockIndex": index, "type": "text", "text": delta["text"]}),
            ]
        if "toolUse" in delta:
            events, block = self._current("tool_use")
            piece = delta["toolUse"].get("input", "")
            self.saw_output = True
            index = self.blocks.index(block)
            return [*events, ("content_block_delta", {"contentBlockIndex": index, "type": "tool_use", "input": piece})]
        reasoning = delta.get("reasoningContent", {})
        if "text" in reasoning:
            events, block = self._current("reasoning")
            block.text += reasoning["text"]
            self.saw_output = True
            return [*events, ("reasoning", {"reasoningText": reasoning["text"]})]
        return []

    def partial_content(self) -> list[dict[str, Any]]:
        """What was said before the call broke off: its text, as the content of the stored message."""
        return [{"text": block.text} for block in self.blocks if block.kind == "text" and block.text]
