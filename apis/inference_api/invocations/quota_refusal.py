"""A turn refused by its quota, as the reference refuses it: a 200 stream that reads as the assistant's answer.

The reference's client turns a 429 into a generic "connection error", so the refusal is streamed instead: the
message (in Markdown) as an assistant message with stop reason `quota_exceeded`, then the `quota_exceeded` event
with the figures and the reset time, then `done`, with `Retry-After` on the response. As in the reference, the
exchange stays in the conversation (the user's message and the refusal), the provider is never called, and
nothing is charged. Both messages are stored before anything streams, so a storage failure is a plain 503.
"""

from __future__ import annotations

from fastapi.responses import StreamingResponse

from apis.inference_api.invocations.refusals import refusal_response
from apis.shared.quota import QuotaCheckResult, exceeded_event
from apis.shared.sessions import MessageRole, SessionRepository
from apis.shared.sessions import messages as messages_service
from apis.shared.sessions import metadata as sessions_service
from apis.shared.turns.sse import frame

STOP_REASON = "quota_exceeded"


async def refused_by_quota(
    check: QuotaCheckResult, *, sessions: SessionRepository, user_id: str, session_id: str, message: str
) -> StreamingResponse:
    """Store the exchange, then stream the refusal (404 first if the session is someone else's)."""
    event = exceeded_event(check)
    asked = messages_service.new_message(MessageRole.USER, [{"text": message}])
    _, created = await sessions_service.get_or_create(
        sessions=sessions, user_id=user_id, session_id=session_id, first_message=asked
    )
    if not created:
        await messages_service.append(sessions=sessions, user_id=user_id, session_id=session_id, message=asked)
    answer = messages_service.new_message(MessageRole.ASSISTANT, [{"text": event.message}])
    await messages_service.append(sessions=sessions, user_id=user_id, session_id=session_id, message=answer)
    frames = [
        frame("message_start", {"role": "assistant", "messageId": answer.message_id}),
        frame("content_block_start", {"contentBlockIndex": 0, "type": "text"}),
        frame("content_block_delta", {"contentBlockIndex": 0, "type": "text", "text": event.message}),
        frame("content_block_stop", {"contentBlockIndex": 0}),
        frame("message_stop", {"stopReason": STOP_REASON}),
        frame("quota_exceeded", event.model_dump(by_alias=True, exclude_none=True)),
        frame("done", {}),
    ]
    return refusal_response(frames, session_id=session_id, retry_after_seconds=check.retry_after_seconds or 60)
