"""The event stream decoder against frames encoded as the Bedrock fake encodes them (and botocore verifies them):
messages split across reads at every byte, several in one read, and each way a frame can be malformed."""

from __future__ import annotations

import struct
from binascii import crc32
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer

from apis.shared.providers.eventstream import EventStreamDecoder, MalformedEventStream
from tests.fakes.eventstream import event_message, exception_message

FRAMES = [
    event_message("messageStart", {"role": "assistant"}),
    event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hé"}}),
    exception_message("throttlingException", "slow down"),
]


def decoded(data: bytes, piece: int) -> list[tuple[Mapping[str, str], bytes]]:
    decoder = EventStreamDecoder()
    messages = []
    for start in range(0, len(data), piece):
        messages += [(m.headers, m.payload) for m in decoder.feed(data[start : start + piece])]
    assert not decoder.pending
    return messages


@pytest.mark.parametrize("piece", [1, 2, 5, 13, 64, 10_000])
def test_messages_split_across_reads_decode_as_botocore_decodes_them(piece: int) -> None:
    data = b"".join(FRAMES)
    reference = EventStreamBuffer()
    reference.add_data(data)
    messages: list[Any] = list(reference)
    expected = [(dict(m.headers), m.payload) for m in messages]

    assert decoded(data, piece) == expected
    assert expected[2][0][":exception-type"] == "throttlingException"


def test_headers_of_other_types_are_skipped_and_strings_kept() -> None:
    integer = b"\x03int\x04" + struct.pack(">i", 7)
    raw = b"\x03raw\x06" + struct.pack(">H", 2) + b"ab"
    string = b"\x0b:event-type\x07" + struct.pack(">H", 8) + b"metadata"

    [message] = EventStreamDecoder().feed(_framed(integer + raw + string, b"{}"))

    assert message.headers == {":event-type": "metadata"}
    assert message.payload == b"{}"


def _framed(headers: bytes, payload: bytes) -> bytes:
    """A frame with valid checksums around whatever headers and payload it is given."""
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    body = prelude + struct.pack(">I", crc32(prelude)) + headers + payload
    return body + struct.pack(">I", crc32(body))


def _lengths(total: int, headers_length: int) -> bytes:
    """A prelude (with its valid checksum) claiming these lengths, padded to `total` where that is small."""
    prelude = struct.pack(">II", total, headers_length)
    return prelude + struct.pack(">I", crc32(prelude)) + b"\x00" * min(max(0, total - 12), 64)


def _corrupt(frame: bytes, index: int) -> bytes:
    changed = bytearray(frame)
    changed[index] ^= 0xFF
    return bytes(changed)


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(_corrupt(FRAMES[1], 2), id="prelude checksum"),
        pytest.param(_corrupt(FRAMES[1], len(FRAMES[1]) - 6), id="message checksum"),
        pytest.param(_framed(b"\x05:type\x63", b"{}"), id="unknown header type"),
        pytest.param(_framed(b"\x20:short", b"{}"), id="header overruns its length"),
        pytest.param(_lengths(16, 32), id="headers longer than the message"),
        pytest.param(_lengths(2**31, 0), id="longer than a message may be"),
    ],
)
def test_a_malformed_frame_is_refused(frame: bytes) -> None:
    with pytest.raises(MalformedEventStream):
        EventStreamDecoder().feed(frame)


def test_an_unfinished_message_is_held_until_its_end_arrives() -> None:
    decoder = EventStreamDecoder()

    assert decoder.feed(FRAMES[0][:-1]) == []
    assert decoder.pending
    assert [m.headers[":event-type"] for m in decoder.feed(FRAMES[0][-1:] + FRAMES[1])] == [
        "messageStart",
        "contentBlockDelta",
    ]
    assert not decoder.pending
