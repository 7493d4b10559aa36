"""Turns a model's ConverseStream-shaped events into API.md's SSE vocabulary, and remembers what was said.

Providers differ in which block events they send (Bedrock sends no start for a text block); the translator
opens a block at its first delta when no start came, so clients always see start, deltas, stop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from apis.shared.sessions import TokenUsage

SseEvent = tuple[str, dict[str, Any]]


@dataclass
class _Block:
    kind: str  # "text" or "tool_use"
    text: str = ""
    tool_use: dict[str, Any] = field(default_factory=dict)
    tool_input: str = ""


@dataclass
class StreamTranslator:
    """Translation state of one model call."""

    message_id: str
    blocks: dict[int, _Block] = field(default_factory=dict)
    stop_reason: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    provider_metrics: dict[str, Any] = field(default_factory=dict)
    saw_output: bool = False

    def translate(self, event: dict[str, Any]) -> list[SseEvent]:
        """The SSE events for one model event (often one, sometimes none or two)."""
        if "messageStart" in event:
            return [("message_start", {"role": "assistant", "messageId": self.message_id})]
        if "contentBlockStart" in event:
            start = event["contentBlockStart"]
            return self._open(start.get("contentBlockIndex", 0), start.get("start", {}).get("toolUse"))
        if "contentBlockDelta" in event:
            return self._delta(event["contentBlockDelta"])
        if "contentBlockStop" in event:
            return self._close(event["contentBlockStop"].get("contentBlockIndex", 0))
        if "messageStop" in event:
            self.stop_reason = event["messageStop"].get("stopReason", "end_turn")
            return [("message_stop", {"stopReason": self.stop_reason})]
        if "metadata" in event:
            usage = event["metadata"].get("usage", {})
            self.usage = TokenUsage.model_validate(usage)
            self.provider_metrics = dict(event["metadata"].get("metrics", {}))
        return []

    def _open(self, index: int, tool_use: dict[str, Any] | None) -> list[SseEvent]:
        if index in self.blocks:
            return []
        kind = "tool_use" if tool_use else "text"
        self.blocks[index] = _Block(kind=kind, tool_use=dict(tool_use or {}))
        data: dict[str, Any] = {"contentBlockIndex": index, "type": kind}
        if tool_use:
            data["toolUse"] = {"toolUseId": tool_use.get("toolUseId"), "name": tool_use.get("name")}
        return [("content_block_start", data)]

    def _delta(self, delta_event: dict[str, Any]) -> list[SseEvent]:
        index = delta_event.get("contentBlockIndex", 0)
        delta = delta_event.get("delta", {})
        events = self._open(index, None) if index not in self.blocks else []
        block = self.blocks[index]
        if "text" in delta:
            self.saw_output = True
            block.text += delta["text"]
            events.append(("content_block_delta", {"contentBlockIndex": index, "type": "text", "text": delta["text"]}))
        elif "toolUse" in delta:
            self.saw_output = True
            piece = delta["toolUse"].get("input", "")
            block.tool_input += piece
            events.append(("content_block_delta", {"contentBlockIndex": index, "type": "tool_use", "input": piece}))
        elif "reasoningContent" in delta and "text" in delta["reasoningContent"]:
            self.saw_output = True
            events.append(("reasoning", {"reasoningText": delta["reasoningContent"]["text"]}))
        return events

    def _close(self, index: int) -> list[SseEvent]:
        if index not in self.blocks:
            return []
        return [("content_block_stop", {"contentBlockIndex": index})]

    def content(self) -> list[dict[str, Any]]:
        """The assistant message's content blocks as stored: text and toolUse, in block order."""
        blocks: list[dict[str, Any]] = []
        for _, block in sorted(self.blocks.items()):
            if block.kind == "text" and block.text:
                blocks.append({"text": block.text})
            elif block.kind == "tool_use":
                tool_input = json.loads(block.tool_input) if block.tool_input else {}
                blocks.append({"toolUse": {**block.tool_use, "input": tool_input}})
        return blocks
