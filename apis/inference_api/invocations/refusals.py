"""Turns refused before any model call, answered as a stream: the reference client cannot show a 429, but it
shows a stream's error event, so a refusal is a 200 stream of `stream_error` and `done` with `Retry-After`."""

from __future__ import annotations

from fastapi.responses import StreamingResponse

from apis.shared.errors import QuotaExceededError
from apis.shared.turns.sse import frame


def refused_stream(refusal: QuotaExceededError, *, session_id: str) -> StreamingResponse:
    """The refusal as `stream_error` (recoverable: the caller may try again after Retry-After) and `done`."""
    frames = [
        frame("stream_error", {"code": refusal.code, "message": refusal.detail, "recoverable": True}),
        frame("done", {}),
    ]
    return refusal_response(frames, session_id=session_id, retry_after_seconds=refusal.retry_after_seconds)


def refusal_response(frames: list[str], *, session_id: str, retry_after_seconds: int) -> StreamingResponse:
    """A turn's stream made of frames known in advance, with the turn's headers and `Retry-After`."""
    return StreamingResponse(
        iter(frames),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "X-Session-ID": session_id,
            "Retry-After": str(retry_after_seconds),
        },
    )
