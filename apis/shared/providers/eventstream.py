"""AWS's `application/vnd.amazon.eventstream` framing, decoded from bytes as they arrive (Bedrock's ConverseStream).

A message is a prelude (total length and headers length, 4 bytes each, big-endian, then the CRC32 of those 8 bytes),
the headers, the payload, and the CRC32 of everything before it. A header is its name's length (1 byte), the name,
its type (1 byte) and its value: strings and byte arrays carry a 2-byte length, the other types a fixed size.
Both checksums are verified, as botocore verifies them; a message that fails any check is a MalformedEventStream.

Written here rather than taken from botocore's EventStreamBuffer: it does the same checks in half the time
(measured per 64-delta turn), and a turn decodes some seventy messages. Nearly all of them carry the same header
bytes (`:event-type contentBlockDelta`, `:content-type`, `:message-type event`), so headers are parsed once per
distinct run of bytes and the parsed mapping is shared (read-only) by the messages that carry them.
"""

from __future__ import annotations

import struct
from binascii import crc32
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

_PRELUDE = struct.Struct(">III")
_PRELUDE_LENGTH = 12
_CRC_LENGTH = 4
_STRING, _BYTES = 7, 6
# The value sizes of the header types that carry no length: true, false, byte, short, integer, long, timestamp, uuid.
_FIXED_SIZES = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
# botocore's limits: a larger message is not one AWS sends.
_MAX_HEADERS_LENGTH = 128 * 1024
_MAX_MESSAGE_LENGTH = 24 * 1024 * 1024 + _MAX_HEADERS_LENGTH + _PRELUDE_LENGTH + _CRC_LENGTH
# Distinct header runs kept parsed: a stream has a handful (one per event type); the bound only stops a stream of
# ever-changing headers (an exception's, say) from growing the table.
_HEADER_RUNS_KEPT = 256


class MalformedEventStream(Exception):
    """The bytes are not a valid event stream: a checksum, a length or a header does not hold."""


@dataclass(frozen=True, slots=True)
class EventMessage:
    """One decoded message: its string headers (other header types are skipped; shared, so read-only) and its
    payload."""

    headers: Mapping[str, str]
    payload: bytes


class EventStreamDecoder:
    """Feed it the body's chunks in order; each call returns the messages completed so far."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[EventMessage]:
        buffer = self._pending + data if self._pending else data
        messages: list[EventMessage] = []
        start, size = 0, len(buffer)
        with memoryview(buffer) as view:  # checksums read in place, not copied out first
            while size - start >= _PRELUDE_LENGTH:
                total, headers_length, prelude_crc = _PRELUDE.unpack_from(buffer, start)
                if crc32(view[start : start + 8]) != prelude_crc:
                    raise MalformedEventStream("the prelude's checksum does not match")
                if headers_length > _MAX_HEADERS_LENGTH or total > _MAX_MESSAGE_LENGTH:
                    raise MalformedEventStream("a message is longer than the event stream allows")
                if total < _PRELUDE_LENGTH + headers_length + _CRC_LENGTH:
                    raise MalformedEventStream("a message is shorter than its own headers")
                end = start + total
                if end > size:
                    break  # the rest of this message is still on its way
                if crc32(view[start : end - _CRC_LENGTH]) != int.from_bytes(view[end - _CRC_LENGTH : end], "big"):
                    raise MalformedEventStream("a message's checksum does not match")
                headers_end = start + _PRELUDE_LENGTH + headers_length
                headers = _headers(buffer[start + _PRELUDE_LENGTH : headers_end])
                messages.append(EventMessage(headers, buffer[headers_end : end - _CRC_LENGTH]))
                start = end
        self._pending = buffer[start:]
        return messages

    @property
    def pending(self) -> bool:
        """Whether bytes of an unfinished message are held: a body that ends here was cut short."""
        return bool(self._pending)


@lru_cache(maxsize=_HEADER_RUNS_KEPT)
def _headers(raw: bytes) -> Mapping[str, str]:
    """The string headers of a run of header bytes, parsed once per distinct run (see the module docstring)."""
    headers: dict[str, str] = {}
    index, size = 0, len(raw)
    try:
        while index < size:
            name_length = raw[index]
            name = raw[index + 1 : index + 1 + name_length].decode("utf-8")
            index += 1 + name_length
            kind = raw[index]
            index += 1
            if kind in (_STRING, _BYTES):
                length = int.from_bytes(raw[index : index + 2], "big")
                if kind == _STRING:
                    headers[name] = raw[index + 2 : index + 2 + length].decode("utf-8")
                index += 2 + length
            else:
                index += _FIXED_SIZES[kind]
    except (IndexError, KeyError, UnicodeDecodeError) as exc:
        raise MalformedEventStream("a header cannot be read") from exc
    if index != size:
        raise MalformedEventStream("the headers overrun their length")
    return MappingProxyType(headers)
