"""The lines of a server-sent event stream, as bytes, for the providers whose streams we read ourselves."""

from __future__ import annotations

from collections.abc import AsyncIterator

from apis.shared.providers.provider_http import ProviderResponse


async def sse_line_batches(response: ProviderResponse) -> AsyncIterator[list[bytes]]:
    """The body's lines as bytes, ended by LF, CRLF or CR as server-sent events allow: a list per network read.

    Decoding text and splitting it line by line costs more than the events do; JSON parses bytes as they are,
    and one `split` per read is all a stream of short events needs. A list per read rather than a line at a
    time: each step of an async generator costs about a microsecond, and a fast stream packs many events into a
    read."""
    pending = b""
    async for piece in response.iter_bytes():
        pending += piece
        if b"\r" in pending:
            # A CR at the very end may be the first half of a CRLF: it waits for the next read.
            kept = pending.endswith(b"\r")
            pending = pending[:-1] if kept else pending
            pending = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + (b"\r" if kept else b"")
        *lines, pending = pending.split(b"\n")
        if lines:
            yield lines
    if pending:
        yield [pending.rstrip(b"\r")]
