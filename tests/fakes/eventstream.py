"""Bedrock's Converse answers: ConverseStream's events in AWS's event stream framing, and Converse's JSON.

The framing is `application/vnd.amazon.eventstream`.
A message is a prelude (total length and headers length, 4 bytes each, big-endian, then the CRC32 of those
8 bytes), the headers, the payload, and the CRC32 of everything before it. A header is its name's length
(1 byte), the name, its type (7: string), the value's length (2 bytes) and the value. botocore checks all of it.
"""

from __future__ import annotations

import binascii
import json
import struct
from typing import Any

from tests.fakes.scripts import (
    Content,
    MaxTokens,
    Reasoning,
    StreamError,
    Text,
    ToolCall,
    Turn,
    Usage,
    argument_fragments,
    stop_reason,
    usage,
)

STRING_HEADER = 7
PRELUDE_LENGTH = 12
CRC_LENGTH = 4
JSON_CONTENT_TYPE = "application/json"
LATENCY_MS = 42
# The exception events ConverseStream's output declares, by the HTTP status they stand for.
STREAM_EXCEPTIONS = {
    400: "validationException",
    424: "modelStreamErrorException",
    429: "throttlingException",
    500: "internalServerException",
    503: "serviceUnavailableException",
}


def _header(name: str, value: str) -> bytes:
    encoded_name = name.encode("utf-8")
    encoded_value = value.encode("utf-8")
    return (
        struct.pack(">B", len(encoded_name))
        + encoded_name
        + struct.pack(">BH", STRING_HEADER, len(encoded_value))
        + encoded_value
    )


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed message with string headers, CRCs computed as botocore verifies them."""
    encoded_headers = b"".join(_header(name, value) for name, value in headers.items())
    total_length = PRELUDE_LENGTH + len(encoded_headers) + len(payload) + CRC_LENGTH
    prelude = struct.pack(">II", total_length, len(encoded_headers))
    before_crc = prelude + struct.pack(">I", binascii.crc32(prelude)) + encoded_headers + payload
    return before_crc + struct.pack(">I", binascii.crc32(before_crc))


def event_message(event_type: str, body: dict[str, Any]) -> bytes:
    """An `event` message: botocore parses `body` as the member `event_type` of the output stream."""
    headers = {":event-type": event_type, ":content-type": JSON_CONTENT_TYPE, ":message-type": "event"}
    return encode_message(headers, json.dumps(body).encode("utf-8"))


def exception_message(exception_type: str, message: str) -> bytes:
    """An `exception` message: botocore raises it from the stream as an EventStreamError with that code."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": JSON_CONTENT_TYPE,
        ":message-type": "exception",
    }
    return encode_message(headers, json.dumps({"message": message}).encode("utf-8"))


def bedrock_usage(reported: Usage) -> dict[str, int]:
    """Usage as Bedrock counts it: `inputTokens` leaves out the tokens read from or written to the cache."""
    total = reported.input_tokens + reported.cache_read + reported.cache_write + reported.output_tokens
    return {
        "inputTokens": reported.input_tokens,
        "outputTokens": reported.output_tokens,
        "totalTokens": total,
        "cacheReadInputTokens": reported.cache_read,
        "cacheWriteInputTokens": reported.cache_write,
    }


class ConverseStream:
    """Writes a turn as ConverseStream's events: text and reasoning blocks open with their first delta."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.index = 0
        # The kind of the block being streamed ("text" or "reasoning"), None between blocks.
        self.open: str | None = None

    def _close(self) -> list[bytes]:
        if self.open is None:
            return []
        self.open = None
        self.index += 1
        return [event_message("contentBlockStop", {"contentBlockIndex": self.index - 1})]

    def _delta(self, kind: str, delta: dict[str, Any]) -> list[bytes]:
        frames = self._close() if self.open != kind else []
        self.open = kind
        return [*frames, event_message("contentBlockDelta", {"contentBlockIndex": self.index, "delta": delta})]

    def opening(self) -> list[bytes]:
        return [event_message("messageStart", {"role": "assistant"})]

    def step(self, step: Content) -> list[bytes]:
        match step:
            case Text(text=text):
                return self._delta("text", {"text": text})
            case Reasoning(text=text):
                return self._delta("reasoning", {"reasoningContent": {"text": text}})
            case ToolCall():
                return self._tool_use(step)
            case Usage() | MaxTokens():
                return []

    def _tool_use(self, call: ToolCall) -> list[bytes]:
        frames = self._close()
        start = {"toolUse": {"toolUseId": call.id, "name": call.name}}
        frames.append(event_message("contentBlockStart", {"contentBlockIndex": self.index, "start": start}))
        for fragment in argument_fragments(call.arguments):
            delta = {"contentBlockIndex": self.index, "delta": {"toolUse": {"input": fragment}}}
            frames.append(event_message("contentBlockDelta", delta))
        self.open = "tool"
        return [*frames, *self._close()]

    def stream_error(self, error: StreamError) -> list[bytes]:
        return [exception_message(STREAM_EXCEPTIONS.get(error.status, "internalServerException"), error.message)]

    def closing(self) -> list[bytes]:
        metadata = {"usage": bedrock_usage(usage(self.turn)), "metrics": {"latencyMs": LATENCY_MS}}
        return [
            *self._close(),
            event_message("messageStop", {"stopReason": stop_reason(self.turn)}),
            event_message("metadata", metadata),
        ]


def _content_blocks(turn: Turn) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for step in turn:
        match step:
            case Text(text=text) if blocks and "text" in blocks[-1]:
                blocks[-1]["text"] += text
            case Text(text=text):
                blocks.append({"text": text})
            case Reasoning(text=text) if blocks and "reasoningContent" in blocks[-1]:
                blocks[-1]["reasoningContent"]["reasoningText"]["text"] += text
            case Reasoning(text=text):
                blocks.append({"reasoningContent": {"reasoningText": {"text": text}}})
            case ToolCall(id=tool_use_id, name=name, arguments=arguments):
                blocks.append({"toolUse": {"toolUseId": tool_use_id, "name": name, "input": arguments}})
    return blocks


def converse_answer(turn: Turn) -> dict[str, Any]:
    """The whole answer as Converse's JSON, with consecutive deltas of a kind joined into one block."""
    return {
        "output": {"message": {"role": "assistant", "content": _content_blocks(turn)}},
        "stopReason": stop_reason(turn),
        "usage": bedrock_usage(usage(turn)),
        "metrics": {"latencyMs": LATENCY_MS},
    }
